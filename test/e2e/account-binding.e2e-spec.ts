import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCustomLink, linkOf, storedSecret, tokenOf } from '../support/connected-link.js';
import { LINK_ACCESS_TOKEN } from '../../src/database/encrypted-columns.js';
import {
  authorizeWithPlainHttp,
  startTestProvider,
  type TestProvider,
} from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const ENV = {
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: 'http://127.0.0.1:39993',
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
};
const MAIL_SCOPES = ['openid', 'offline_access', 'email', 'profile'];

// SPEC §12 account binding: who consented is recorded, used for the mailbox, and kept.
describe(`account binding (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;

  beforeAll(async () => {
    t = await startTestApp({ env: ENV });
    provider = await startTestProvider({ redirectUri: t.config.redirectUrl });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  const startAuthorization = async (linkId: string, body?: object): Promise<URL> => {
    const request = t.http().post(`/v1/links/${linkId}/authorize`).set(bearer(t.adminKey));
    const started = await (body === undefined ? request : request.send(body)).expect(201);
    return new URL(started.body.authorizationUrl as string);
  };
  /** Signs in at the provider as `login`, consents, and brings the browser back to Outlink. */
  const consentAs = async (authorizationUrl: URL, login: string, accept = 'application/json') => {
    const redirect = await authorizeWithPlainHttp(authorizationUrl.href, { login });
    return t.http().get(`${redirect.pathname}${redirect.search}`).set('accept', accept);
  };
  const connectAs = async (login: string, scopes = MAIL_SCOPES): Promise<string> => {
    const { id } = await createCustomLink(t, provider, { scopes });
    expect((await consentAs(await startAuthorization(id), login)).status).toBe(200);
    return id;
  };
  const decode = (sasl: string): string => Buffer.from(sasl, 'base64').toString('utf8');

  it('records who consented on the link and in the token answer, and builds SASL for them', async () => {
    const id = await connectAs('carol');
    const carol = { subject: 'carol', email: 'carol@example.test', username: 'carol' };
    expect((await linkOf(t, id)).account).toEqual(carol);

    const token = await tokenOf(t, id).expect(200);
    const accessToken = token.body.accessToken as string;
    expect(token.body.account).toEqual(carol);
    expect(decode(token.body.xoauth2 as string)).toBe(
      `user=carol@example.test\x01auth=Bearer ${accessToken}\x01\x01`,
    );
    expect(decode(token.body.oauthbearer as string)).toBe(
      `n,a=carol@example.test,\x01auth=Bearer ${accessToken}\x01\x01`,
    );
    const shared = await tokenOf(t, id, '?user=shared@example.test').expect(200);
    expect(decode(shared.body.xoauth2 as string)).toContain('user=shared@example.test\x01');
  });

  it('falls back to the username, and builds no SASL when the provider names nobody', async () => {
    const withoutEmail = await connectAs('dave', ['openid', 'offline_access', 'profile']);
    expect((await linkOf(t, withoutEmail)).account).toEqual({
      subject: 'dave',
      email: null,
      username: 'dave',
    });
    const token = await tokenOf(t, withoutEmail).expect(200);
    expect(decode(token.body.xoauth2 as string)).toContain('user=dave\x01');

    const { id: anonymous } = await createCustomLink(t, provider, {
      scopes: ['offline_access'],
    });
    expect((await consentAs(await startAuthorization(anonymous), 'erin')).status).toBe(200);
    expect((await linkOf(t, anonymous)).account).toBeNull();
    const bare = await tokenOf(t, anonymous).expect(200);
    expect(bare.body.account).toBeNull();
    expect(bare.body.xoauth2).toBeUndefined();
    expect(bare.body.oauthbearer).toBeUndefined();
  });

  it('sends login_hint on re-authorization and refuses consent by another account', async () => {
    const id = await connectAs('frank');
    const before = await linkOf(t, id);
    const tokenBefore = await storedSecret(t, LINK_ACCESS_TOKEN, id);

    const again = await startAuthorization(id);
    expect(again.searchParams.get('login_hint')).toBe('frank@example.test');
    const refused = await consentAs(again, 'mallory');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('account_mismatch');
    expect(refused.body.detail).toContain('mallory@example.test');
    expect(refused.body.detail).toContain('frank@example.test');

    const page = await consentAs(await startAuthorization(id), 'mallory', 'text/html');
    expect(page.status).toBe(409);
    expect(page.text).toContain('allowAccountChange');

    const after = await linkOf(t, id);
    expect(after.account).toEqual(before.account);
    expect(after.status).toBe('connected');
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(await storedSecret(t, LINK_ACCESS_TOKEN, id)).toBe(tokenBefore);
    const [failure] = await t.dataSource.query(
      `SELECT detail FROM link_events WHERE link_id = $1 AND type = 'authorization_failed' ORDER BY at LIMIT 1`,
      [id],
    );
    expect(failure.detail.error).toBe('account_mismatch');

    // The same account consenting again is fine.
    expect((await consentAs(await startAuthorization(id), 'frank')).status).toBe(200);
  });

  it('binds the link to another account when the authorization allowed it', async () => {
    const id = await connectAs('grace');
    const allowed = await startAuthorization(id, { allowAccountChange: true });
    expect(allowed.searchParams.has('login_hint')).toBe(false);
    expect((await consentAs(allowed, 'heidi')).status).toBe(200);
    expect((await linkOf(t, id)).account).toEqual({
      subject: 'heidi',
      email: 'heidi@example.test',
      username: 'heidi',
    });
    const token = await tokenOf(t, id).expect(200);
    expect(decode(token.body.xoauth2 as string)).toContain('user=heidi@example.test\x01');
  });

  it('refuses a bad authorize body and changes nothing', async () => {
    const { id } = await createCustomLink(t, provider, { scopes: MAIL_SCOPES });
    for (const body of [
      { allowAccountChange: 'yes' },
      { allowAccountChange: true, other: 1 },
      [true],
    ]) {
      const refused = await t
        .http()
        .post(`/v1/links/${id}/authorize`)
        .set(bearer(t.adminKey))
        .send(body)
        .expect(400);
      expect(refused.body.code).toBe('validation_failed');
    }
    const [{ count }] = await t.dataSource.query(
      'SELECT count(*)::int AS count FROM authorization_requests WHERE link_id = $1',
      [id],
    );
    expect(count).toBe(0);
  });
});
