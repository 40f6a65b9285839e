import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { encryptionContext } from '../../src/crypto/encrypted-column.js';
import {
  AUTHORIZATION_CODE_VERIFIER,
  LINK_ACCESS_TOKEN,
  LINK_REFRESH_TOKEN,
} from '../../src/database/encrypted-columns.js';
import { createCustomLink } from '../support/connected-link.js';
import { startFaultServer, type FaultServer } from '../support/fault-server.js';
import {
  authorizeWithPlainHttp,
  startTestProvider,
  type TestProvider,
} from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

interface Link {
  id: string;
  name: string;
  status: string;
  [field: string]: unknown;
}

describe(`authorization-code flow against a real OpenID provider (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;
  let faults: FaultServer;
  let endpoints: {
    authorization_endpoint: string;
    token_endpoint: string;
    revocation_endpoint: string;
  };

  beforeAll(async () => {
    t = await startTestApp({
      env: { ALLOW_INSECURE_ENDPOINTS: 'true', PUBLIC_BASE_URL: 'http://127.0.0.1:39999' },
    });
    provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      accessTokenTtlSeconds: 120,
    });
    faults = await startFaultServer();
    endpoints = (await (
      await fetch(`${provider.issuer}/.well-known/openid-configuration`)
    ).json()) as typeof endpoints;
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
    await faults?.close();
  });

  const createLink = async (overrides: Record<string, unknown> = {}): Promise<Link> =>
    (await createCustomLink(t, provider, overrides)) as unknown as Link;

  async function startAuthorization(linkId: string): Promise<URL> {
    const response = await t
      .http()
      .post(`/v1/links/${linkId}/authorize`)
      .set(bearer(t.adminKey))
      .expect(201);
    expect(Date.parse(response.body.expiresAt) - Date.now()).toBeGreaterThan(9 * 60 * 1000);
    return new URL(response.body.authorizationUrl);
  }

  /** The callback exactly as the provider's redirect would reach Outlink. */
  const callback = (redirect: URL, accept = 'text/html') =>
    t.http().get(`${redirect.pathname}${redirect.search}`).set('accept', accept);

  const getLink = async (id: string): Promise<Link> =>
    (await t.http().get(`/v1/links/${id}`).set(bearer(t.adminKey)).expect(200)).body as Link;
  const eventTypes = async (id: string): Promise<string[]> =>
    (
      await t.http().get(`/v1/links/${id}/events`).set(bearer(t.adminKey)).expect(200)
    ).body.items.map((event: { type: string }) => event.type);

  it('connects a custom link with explicit endpoints and shows the connected page', async () => {
    const link = await createLink();
    const url = await startAuthorization(link.id);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe(provider.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(t.config.redirectUrl);
    expect(url.searchParams.get('scope')).toBe('openid offline_access');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('prompt')).toBe('consent');
    expect(Buffer.from(url.searchParams.get('state')!, 'base64url').length).toBeGreaterThanOrEqual(
      16,
    );
    expect((await getLink(link.id)).status).toBe('pending_authorization');

    const redirect = await authorizeWithPlainHttp(url.toString());
    const page = await callback(redirect).expect(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('Helpdesk is connected. You can close this window.');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers.location).toBeUndefined();

    const connected = await getLink(link.id);
    expect(connected).toMatchObject({
      status: 'connected',
      refreshTokenPresent: true,
      lastError: null,
    });
    expect(connected.grantedScopes).toEqual(expect.arrayContaining(['openid', 'offline_access']));
    const expiresIn = Date.parse(connected.accessTokenExpiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(100_000);
    expect(expiresIn).toBeLessThanOrEqual(121_000);
    expect(await eventTypes(link.id)).toEqual([
      'status_changed',
      'authorized',
      'authorization_started',
      'created',
    ]);
  });

  it('connects a custom link configured by issuer discovery, answering JSON when asked', async () => {
    const link = await createLink({
      authorizationEndpoint: undefined,
      tokenEndpoint: undefined,
      issuer: provider.issuer,
    });
    expect(link).toMatchObject({
      issuer: provider.issuer,
      authorizationEndpoint: endpoints.authorization_endpoint,
      tokenEndpoint: endpoints.token_endpoint,
      revocationEndpoint: endpoints.revocation_endpoint,
    });
    const redirect = await authorizeWithPlainHttp((await startAuthorization(link.id)).toString());
    const answer = await callback(redirect, 'application/json').expect(200);
    expect(answer.body).toMatchObject({
      linkId: link.id,
      status: 'connected',
      refreshTokenPresent: true,
    });
    expect((await getLink(link.id)).status).toBe('connected');
  });

  it('refuses a reused state and leaves the connected link untouched', async () => {
    const link = await createLink();
    const redirect = await authorizeWithPlainHttp((await startAuthorization(link.id)).toString());
    await callback(redirect).expect(200);
    const [before] = await t.dataSource.query(
      'SELECT access_token_encrypted, updated_at FROM links WHERE id = $1',
      [link.id],
    );
    const replay = await callback(redirect, 'application/json').expect(400);
    expect(replay.headers['content-type']).toContain('application/problem+json');
    expect(replay.body).toMatchObject({ code: 'invalid_state', status: 400 });
    expect(replay.body.detail).toMatch(/already/);
    const [after] = await t.dataSource.query(
      'SELECT access_token_encrypted, updated_at FROM links WHERE id = $1',
      [link.id],
    );
    expect(after).toEqual(before);
  });

  it('refuses unknown, missing and expired states', async () => {
    const unknown = await t.http().get('/v1/oauth/callback?code=abc&state=not-a-state').expect(400);
    expect(unknown.text).toContain('unknown to Outlink');
    await t.http().get('/v1/oauth/callback?code=abc').set('accept', 'application/json').expect(400);

    const link = await createLink();
    const url = await startAuthorization(link.id);
    const redirect = await authorizeWithPlainHttp(url.toString());
    await t.dataSource.query(
      `UPDATE authorization_requests SET expires_at = now() - interval '1 second' WHERE link_id = $1`,
      [link.id],
    );
    const expired = await callback(redirect, 'application/json').expect(400);
    expect(expired.body).toMatchObject({ code: 'invalid_state' });
    expect(expired.body.detail).toMatch(/expired/);
    expect((await getLink(link.id)).status).toBe('pending_authorization');
  });

  it('explains a refused consent and changes nothing', async () => {
    const link = await createLink();
    const redirect = await authorizeWithPlainHttp((await startAuthorization(link.id)).toString(), {
      denyConsent: true,
    });
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    const page = await callback(redirect).expect(400);
    expect(page.text).toContain('Consent was refused');
    const after = await getLink(link.id);
    expect(after).toMatchObject({
      status: 'pending_authorization',
      refreshTokenPresent: false,
      lastError: null,
    });
    expect((await eventTypes(link.id))[0]).toBe('authorization_failed');
  });

  it('explains a rejected authorization code (tampered code, and a PKCE verifier that does not match)', async () => {
    const link = await createLink();
    const tampered = await authorizeWithPlainHttp((await startAuthorization(link.id)).toString());
    tampered.searchParams.set('code', 'forged-code');
    const rejected = await callback(tampered, 'application/json').expect(400);
    expect(rejected.body.code).toBe('authorization_failed');

    const redirect = await authorizeWithPlainHttp((await startAuthorization(link.id)).toString());
    const [request] = await t.dataSource.query(
      'SELECT id FROM authorization_requests WHERE link_id = $1 AND used_at IS NULL',
      [link.id],
    );
    const keyRing = t.app.get(KeyRing);
    const wrongVerifier = keyRing.encrypt(
      'x'.repeat(64),
      encryptionContext(AUTHORIZATION_CODE_VERIFIER, request.id),
    );
    await t.dataSource.query(
      'UPDATE authorization_requests SET code_verifier_encrypted = $1 WHERE id = $2',
      [wrongVerifier, request.id],
    );
    const mismatch = await callback(redirect, 'application/json').expect(400);
    expect(mismatch.body.code).toBe('authorization_failed');
    expect((await getLink(link.id)).status).toBe('pending_authorization');
  });

  it('answers 503 provider_unavailable when the token endpoint is down, and changes nothing', async () => {
    faults.respondWith({ status: 500, body: '{}' });
    const link = await createLink({ tokenEndpoint: faults.tokenEndpoint });
    const redirect = await authorizeWithPlainHttp((await startAuthorization(link.id)).toString());
    const requestsBefore = faults.requests;
    const answer = await callback(redirect, 'application/json').expect(503);
    expect(answer.body.code).toBe('provider_unavailable');
    expect(answer.headers['retry-after']).toBeDefined();
    expect(faults.requests).toBe(requestsBefore + 1);
    expect((await getLink(link.id)).status).toBe('pending_authorization');
  });

  it('connects without a refresh token and says how to fix it', async () => {
    const link = await createLink({ scopes: ['openid'] });
    const redirect = await authorizeWithPlainHttp((await startAuthorization(link.id)).toString());
    const page = await callback(redirect).expect(200);
    expect(page.text).toContain('is connected');
    expect(page.text).toContain('refresh token');
    const connected = await getLink(link.id);
    expect(connected).toMatchObject({ status: 'connected', refreshTokenPresent: false });
    expect(connected.lastError).toMatchObject({ code: 'no_refresh_token' });
    expect((connected.lastError as { message: string }).message).toMatch(/offline/i);
  });

  it('sends no PKCE challenge when the link says pkce: false, and still connects', async () => {
    const link = await createLink({ pkce: false });
    const url = await startAuthorization(link.id);
    expect(url.searchParams.has('code_challenge')).toBe(false);
    await callback(await authorizeWithPlainHttp(url.toString())).expect(200);
    expect((await getLink(link.id)).status).toBe('connected');
  });

  it('moves a connected link back to pending when its scopes change, and voids authorizations started before', async () => {
    const link = await createLink();
    await callback(
      await authorizeWithPlainHttp((await startAuthorization(link.id)).toString()),
    ).expect(200);
    const pendingRedirect = await authorizeWithPlainHttp(
      (await startAuthorization(link.id)).toString(),
    );
    const patched = await t
      .http()
      .patch(`/v1/links/${link.id}`)
      .set(bearer(t.adminKey))
      .send({ scopes: ['openid', 'offline_access', provider.customScope] })
      .expect(200);
    expect(patched.body).toMatchObject({
      status: 'pending_authorization',
      refreshTokenPresent: false,
      accessTokenExpiresAt: null,
    });
    const stale = await callback(pendingRedirect, 'application/json').expect(400);
    expect(stale.body.detail).toMatch(/configuration changed/);
    expect(await eventTypes(link.id)).toContain('status_changed');
  });

  it('refuses to authorize a client-credentials link (409)', async () => {
    const link = await createLink({
      grantType: 'client_credentials',
      authorizationEndpoint: undefined,
      scopes: [provider.customScope],
    });
    const answer = await t
      .http()
      .post(`/v1/links/${link.id}/authorize`)
      .set(bearer(t.adminKey))
      .expect(409);
    expect(answer.body.code).toBe('conflict');
  });

  it('keeps no secret in clear in any table (a dump of the whole database)', async () => {
    const link = await createLink({ clientSecret: provider.clientSecret });
    await callback(
      await authorizeWithPlainHttp((await startAuthorization(link.id)).toString()),
    ).expect(200);
    await startAuthorization(link.id); // leaves a pending PKCE verifier behind
    const keyRing = t.app.get(KeyRing);
    const [stored] = await t.dataSource.query(
      'SELECT access_token_encrypted, refresh_token_encrypted FROM links WHERE id = $1',
      [link.id],
    );
    const accessToken = keyRing.decrypt(
      stored.access_token_encrypted,
      encryptionContext(LINK_ACCESS_TOKEN, link.id),
    );
    const refreshToken = keyRing.decrypt(
      stored.refresh_token_encrypted,
      encryptionContext(LINK_REFRESH_TOKEN, link.id),
    );
    const [pending] = await t.dataSource.query(
      'SELECT id, code_verifier_encrypted FROM authorization_requests WHERE link_id = $1 AND used_at IS NULL',
      [link.id],
    );
    const verifier = keyRing.decrypt(
      pending.code_verifier_encrypted,
      encryptionContext(AUTHORIZATION_CODE_VERIFIER, pending.id),
    );

    const tables: { table_name: string }[] = await t.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    let dump = '';
    for (const { table_name } of tables)
      dump += JSON.stringify(await t.dataSource.query(`SELECT * FROM "${table_name}"`));
    expect(tables.length).toBeGreaterThanOrEqual(4);
    for (const secret of [provider.clientSecret, accessToken, refreshToken, verifier, t.adminKey]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(dump).not.toContain(secret);
    }
    // And no API answer about the link carries them either.
    const answers = JSON.stringify([
      await getLink(link.id),
      (await t.http().get(`/v1/links/${link.id}/events`).set(bearer(t.adminKey))).body,
      (await t.http().get('/v1/links?limit=200').set(bearer(t.adminKey))).body,
    ]);
    for (const secret of [provider.clientSecret, accessToken, refreshToken, verifier])
      expect(answers).not.toContain(secret);
    for (const secret of [provider.clientSecret, accessToken, refreshToken, verifier])
      expect(t.logs.text).not.toContain(secret);
  });
});
