import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ImapFlow } from 'imapflow';
import { BackgroundMailCheck } from '../../src/mail/background-mail-check.js';
import { linkOf, tokenOf } from '../support/connected-link.js';
import type { TestDovecot } from '../support/dovecot.js';
import {
  MAILBOX,
  mailSuiteEnv,
  startMailFixture,
  type MailFixture,
} from '../support/mail-fixture.js';
import type { TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const ENV = mailSuiteEnv('http://127.0.0.1:39994');

// SPEC §12 against a real Dovecot whose oauth2 passdb introspects every token at the provider.
describe(`mail check against Dovecot (${BACKEND})`, () => {
  let fixture: MailFixture;
  let t: TestApp;
  let provider: TestProvider;
  let dovecot: TestDovecot;

  beforeAll(async () => {
    fixture = await startMailFixture(ENV);
    ({ t, provider, dovecot } = fixture);
  }, 60_000);
  afterAll(() => fixture?.close());

  const mailServers = () => ({
    imap: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' },
    pop3: { host: '127.0.0.1', port: dovecot.pop3Port, security: 'none' },
    smtp: { host: '127.0.0.1', port: dovecot.submissionPort, security: 'none' },
  });
  /** A link bound to MAILBOX (it signs in as that address, which is its `sub` too). */
  const connectMailLink = (mail: object) => fixture.connectMailLink(mail);
  const mailCheck = (id: string) =>
    t.http().post(`/v1/links/${id}/mail-check`).set(bearer(t.adminKey));
  const ageToken = (id: string) => fixture.ageToken(id);
  /** An IMAP login as a mail handler does it. */
  const imapLogin = async (user: string, accessToken: string): Promise<boolean> => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.imapPort,
      secure: false,
      auth: { user, accessToken },
      logger: false,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.logout();
      return true;
    } catch {
      return false;
    }
  };
  const events = (id: string, type: string) =>
    t.dataSource.query<{ detail: Record<string, unknown> }[]>(
      'SELECT detail FROM link_events WHERE link_id = $1 AND type = $2 ORDER BY at',
      [id, type],
    );

  it('logs in over IMAP, POP3 and SMTP with a good token', async () => {
    const id = await connectMailLink(mailServers());

    const checked = await mailCheck(id).expect(200);

    expect(checked.body.results).toEqual([
      {
        protocol: 'imap',
        ok: true,
        mechanism: 'OAUTHBEARER',
        latencyMs: expect.any(Number),
        serverResponse: 'SELECT INBOX: 0 messages',
      },
      {
        protocol: 'pop3',
        ok: true,
        mechanism: 'XOAUTH2',
        latencyMs: expect.any(Number),
        serverResponse: expect.stringMatching(/^\+OK 0 0/),
      },
      {
        protocol: 'smtp',
        ok: true,
        mechanism: 'XOAUTH2',
        latencyMs: expect.any(Number),
        serverResponse: expect.stringMatching(/^235 /),
      },
    ]);
    expect((await linkOf(t, id)).mailCheck).toEqual(checked.body);
    expect(await events(id, 'mail_check_succeeded')).toHaveLength(1);
    const token = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    expect(t.logs.text).not.toContain(token);
  });

  it('a token killed at the provider is refused, reported through renew, and the new one logs in', async () => {
    const id = await connectMailLink(mailServers());
    const dead = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    expect(await imapLogin(MAILBOX, dead)).toBe(true);
    provider.invalidateAccessToken(dead);
    expect(await imapLogin(MAILBOX, dead)).toBe(false);
    await ageToken(id);

    const renewed = await t
      .http()
      .post(`/v1/links/${id}/token/renew`)
      .set(bearer(t.adminKey))
      .send({ rejectedAccessToken: dead })
      .expect(200);

    expect(renewed.body.accessToken).not.toBe(dead);
    expect(await imapLogin(MAILBOX, renewed.body.accessToken as string)).toBe(true);
  });

  it('the mail check renews a refused token once and tries again', async () => {
    const id = await connectMailLink(mailServers());
    const dead = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    provider.invalidateAccessToken(dead);
    await ageToken(id);
    const refreshes = provider.grantCounts().refresh_token ?? 0;

    const checked = await mailCheck(id).expect(200);

    expect(checked.body.results.map((result: { ok: boolean }) => result.ok)).toEqual([
      true,
      true,
      true,
    ]);
    expect(provider.grantCounts().refresh_token).toBe(refreshes + 1);
    expect((await tokenOf(t, id).expect(200)).body.accessToken).not.toBe(dead);
  });

  it('a token for another mailbox is refused, and the check reports the server verbatim', async () => {
    const id = await connectMailLink({ ...mailServers(), user: 'bob@example.test' });

    const checked = await mailCheck(id).expect(200);

    const results = checked.body.results as {
      protocol: string;
      ok: boolean;
      serverResponse: string;
    }[];
    expect(results.map((result) => result.ok)).toEqual([false, false, false]);
    for (const result of results) expect(result.serverResponse).not.toBe('');
    expect(results[0].serverResponse).toMatch(/AUTHENTICATE|Authentication failed/i);
    expect(results[1].serverResponse).toMatch(/^-ERR /);
    expect(results[2].serverResponse).toMatch(/^535 /);
    const [failed] = await events(id, 'mail_check_failed');
    expect(failed.detail.reason).toContain(results[1].serverResponse);
    expect((await linkOf(t, id)).mailCheck.results).toEqual(results);
  });

  it('MAIL_CHECK_INTERVAL_SECONDS checks due links in the background, each once per interval', async () => {
    const id = await connectMailLink(mailServers());
    const background = await startTestApp({
      database: t.database,
      env: { ...ENV, ADMIN_API_KEY: t.adminKey, MAIL_CHECK_INTERVAL_SECONDS: '3600' },
    });
    try {
      const pass = () => background.app.get(BackgroundMailCheck).runOnce();
      await pass();
      const checked = (await linkOf(t, id)).mailCheck as { results: { ok: boolean }[] };
      expect(checked.results.map((result) => result.ok)).toEqual([true, true, true]);
      expect(await events(id, 'mail_check_succeeded')).toHaveLength(1);

      await pass(); // not due again for an hour
      expect(await events(id, 'mail_check_succeeded')).toHaveLength(1);

      await t.dataSource.query(
        `UPDATE links SET mail_check_due_at = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      await pass();
      expect(await events(id, 'mail_check_succeeded')).toHaveLength(2);
    } finally {
      await background.closeApp();
    }
  });

  it('refuses plain-text mail servers without ALLOW_INSECURE_ENDPOINTS, and private hosts outside OUTBOUND_ALLOW', async () => {
    const strict = await startTestApp({
      database: t.database,
      env: { ...ENV, ALLOW_INSECURE_ENDPOINTS: 'false', OUTBOUND_ALLOW: '' },
    });
    try {
      const create = (mail: object) =>
        strict.http().post('/v1/links').set(bearer(strict.adminKey)).send({
          name: 'Mail',
          provider: 'google',
          clientId: 'c',
          clientSecret: 's',
          scopePreset: 'imap',
          mail,
        });
      const insecure = await create(mailServers()).expect(400);
      expect(insecure.body.errors.map((error: { field: string }) => error.field)).toEqual([
        'mail.imap.security',
        'mail.pop3.security',
        'mail.smtp.security',
      ]);
      const loopback = await create({
        imap: { host: '127.0.0.1', port: 993, security: 'tls' },
      }).expect(400);
      expect(loopback.body.code).toBe('endpoint_not_allowed');
      await create({ imap: { host: '127.0.0.1', port: 0, security: 'tls' } }).expect(400);
    } finally {
      await strict.closeApp();
    }
  });
});
