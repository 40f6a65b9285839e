import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { ChangeNotifications } from '../../src/database/change-notifications.js';
import { createCustomLink, tokenOf } from '../support/connected-link.js';
import { startDovecot, type TestDovecot } from '../support/dovecot.js';
import {
  authorizeWithPlainHttp,
  startTestProvider,
  type TestProvider,
} from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { OutlinkTokens, sendMail, withImap, type MailServer } from './mail-handler-snippets.js';

const ENV = {
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: 'http://127.0.0.1:39995',
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
};
const MAILBOX = 'alice@example.test';
const SNIPPETS = new URL('./mail-handler-snippets.ts', import.meta.url);
const README = new URL('../../README.md', import.meta.url);

// README "For mail handlers": the snippets it quotes, run as a mail handler would run them.
describe(`README mail-handler snippets against Dovecot (${BACKEND})`, () => {
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
    t = await startTestApp({ env: ENV });
    await t.app.listen(0, '127.0.0.1');
    outlinkUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      accessTokenTtlSeconds: 600,
    });
    dovecot = await startDovecot({
      introspectionUrl: `${provider.issuer}/token/introspection`,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
    });
    const { id } = await createCustomLink(t, provider, {
      scopes: ['openid', 'offline_access', 'email'],
    });
    const started = await t
      .http()
      .post(`/v1/links/${id}/authorize`)
      .set(bearer(t.adminKey))
      .expect(201);
    const redirect = await authorizeWithPlainHttp(started.body.authorizationUrl as string, {
      login: MAILBOX,
    });
    await t
      .http()
      .get(`${redirect.pathname}${redirect.search}`)
      .set('accept', 'application/json')
      .expect(200);
    linkId = id;
    consumerKey = (
      await t
        .http()
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .send({ name: 'mail-handler', role: 'consumer', linkIds: [id] })
        .expect(201)
    ).body.key as string;
  }, 60_000);
  afterAll(async () => {
    await dovecot?.stop();
    await t?.close();
    await provider?.close();
  });

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
    await t.dataSource.query(
      `UPDATE links SET last_refreshed_at = last_refreshed_at - interval '31 seconds' WHERE id = $1`,
      [linkId],
    );
    await t.app.get(ChangeNotifications).publish({ kind: 'link', id: linkId });
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
