import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tokenOf } from '../support/connected-link.js';
import type { TestDovecot } from '../support/dovecot.js';
import {
  MAILBOX,
  mailSuiteEnv,
  startMailFixture,
  type MailFixture,
} from '../support/mail-fixture.js';
import type { TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, type TestApp } from '../support/test-app.js';
import { OutlinkTokens, sendMail, withImap, type MailServer } from './mail-handler-snippets.js';

const ENV = mailSuiteEnv('http://127.0.0.1:39995');
const SNIPPETS = new URL('./mail-handler-snippets.ts', import.meta.url);
const README = new URL('../../README.md', import.meta.url);

// README "For mail handlers": the snippets it quotes, run as a mail handler would run them.
describe(`README mail-handler snippets against Dovecot (${BACKEND})`, () => {
  let fixture: MailFixture;
  let t: TestApp;
  let provider: TestProvider;
  let dovecot: TestDovecot;
  let outlinkUrl: string;
  let linkId: string;
  let consumerKey: string;
  /** Outlink calls the snippets made, as `METHOD path-after-the-link-id` (the snippets pass URL strings). */
  const calls: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    calls.push(
      `${init?.method ?? 'GET'} ${new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).pathname.split('/').slice(4).join('/')}`,
    );
    return fetch(input, init);
  };

  beforeAll(async () => {
    fixture = await startMailFixture(ENV);
    ({ t, provider, dovecot } = fixture);
    await t.app.listen(0, '127.0.0.1');
    outlinkUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    linkId = await fixture.connectMailLink();
    consumerKey = (
      await t
        .http()
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .send({ name: 'mail-handler', role: 'consumer', linkIds: [linkId] })
        .expect(201)
    ).body.key as string;
  }, 60_000);
  afterAll(() => fixture?.close());

  const imap = (): MailServer => ({
    host: '127.0.0.1',
    port: dovecot.imapPort,
    secure: false,
    user: MAILBOX,
  });
  const smtp = (): MailServer => ({
    host: '127.0.0.1',
    port: dovecot.submissionPort,
    secure: false,
    user: MAILBOX,
  });
  /** Kills the link's token at the provider and lets its refresh budget pass. */
  const killToken = async (): Promise<string> => {
    const dead = (await tokenOf(t, linkId).expect(200)).body.accessToken as string;
    provider.invalidateAccessToken(dead);
    await fixture.ageToken(linkId);
    return dead;
  };

  it('are quoted verbatim in the README', async () => {
    const readme = await readFile(README, 'utf8');
    const snippet = await readFile(SNIPPETS, 'utf8');
    expect(readme).toContain('## For mail handlers');
    expect(readme).toContain(`\`\`\`ts\n${snippet}\`\`\``);
  });

  it('log into IMAP and reuse the token until near expiry', async () => {
    calls.length = 0;
    const tokens = new OutlinkTokens(outlinkUrl, consumerKey, linkId, countingFetch);
    for (let run = 0; run < 3; run++) {
      const status = await withImap(tokens, imap(), (client) =>
        client.status('INBOX', { messages: true }),
      );
      expect(status && status.messages).toBe(0);
    }
    expect(calls).toEqual(['GET token']);
  });

  it('renew once through Outlink when IMAP refuses a killed token', async () => {
    const tokens = new OutlinkTokens(outlinkUrl, consumerKey, linkId, countingFetch);
    await tokens.token();
    const dead = await killToken();
    calls.length = 0;

    const mailboxes = await withImap(tokens, imap(), (client) => client.list());

    expect(mailboxes.map((mailbox) => mailbox.path)).toContain('INBOX');
    expect(calls).toEqual(['POST token/renew']);
    expect(await tokens.token()).not.toBe(dead);
  });

  it('send over SMTP, renewing once when the server refuses a killed token', async () => {
    const tokens = new OutlinkTokens(outlinkUrl, consumerKey, linkId, countingFetch);
    const message = {
      from: MAILBOX,
      to: 'someone@example.test',
      subject: 'hello',
      text: 'from the README',
    };
    expect(await sendMail(tokens, smtp(), message)).toEqual(['someone@example.test']);
    await killToken();
    calls.length = 0;

    expect(await sendMail(tokens, smtp(), message)).toEqual(['someone@example.test']);
    expect(calls).toEqual(['POST token/renew']);
  });
});
