import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChangeNotifications } from '../../src/database/change-notifications.js';
import { BackgroundRefresh } from '../../src/tokens/background-refresh.js';
import { ProviderClient } from '../../src/providers/provider-client.js';
import { LINK_ACCESS_TOKEN, LINK_REFRESH_TOKEN } from '../../src/database/encrypted-columns.js';
import {
  connectLink,
  expireStoredToken,
  linkOf as linkOfAdmin,
  storedSecret,
  tokenOf,
} from '../support/connected-link.js';
import { startFaultServer, type FaultServer } from '../support/fault-server.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

/** Access tokens live 30 s: always below the default minValidity of 60, so every miss refreshes. */
const TOKEN_TTL_SECONDS = 30;

describe(`GET /v1/links/{id}/token (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;
  let faults: FaultServer;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ALLOW_INSECURE_ENDPOINTS: 'true',
        PUBLIC_BASE_URL: 'http://127.0.0.1:39998',
        PROVIDER_TIMEOUT_SECONDS: '2',
        REFRESH_CHECK_INTERVAL_SECONDS: '3600',
        // Every request below minValidity refreshes, which these tests rely on; the refresh
        // budget has tests of its own (refresh-budget.e2e-spec.ts).
        MIN_REFRESH_INTERVAL_SECONDS: '0',
      },
    });
    provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
    });
    faults = await startFaultServer();
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
    await faults?.close();
  });

  const storedRefreshToken = (linkId: string) => storedSecret(t, LINK_REFRESH_TOKEN, linkId);
  const storedAccessToken = (linkId: string) => storedSecret(t, LINK_ACCESS_TOKEN, linkId);
  const linkOf = (id: string) => linkOfAdmin(t, id);
  const refreshGrants = (): number => provider.grantCounts().refresh_token ?? 0;

  it('serves a valid token with no-store, its expiry, scopes and XOAUTH2 and OAUTHBEARER strings', async () => {
    const { id } = await connectLink(t, provider);
    const response = await tokenOf(t, id, '?minValidity=0&user=alice%40example.com').expect(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatchObject({ linkId: id, tokenType: 'Bearer' });
    expect(response.body.accessToken.length).toBeGreaterThan(10);
    expect(response.body.expiresIn).toBeGreaterThan(TOKEN_TTL_SECONDS - 5);
    expect(response.body.expiresIn).toBeLessThanOrEqual(TOKEN_TTL_SECONDS);
    expect(response.body.scopes).toEqual(expect.arrayContaining(['openid', 'offline_access']));
    expect(Buffer.from(response.body.xoauth2, 'base64').toString()).toBe(
      `user=alice@example.com\x01auth=Bearer ${response.body.accessToken}\x01\x01`,
    );
    expect(Buffer.from(response.body.oauthbearer, 'base64').toString()).toBe(
      `n,a=alice@example.com,\x01auth=Bearer ${response.body.accessToken}\x01\x01`,
    );
    const plain = await tokenOf(t, id, '?minValidity=0').expect(200);
    expect(plain.body.xoauth2).toBeUndefined();
    expect(plain.body.oauthbearer).toBeUndefined();

    // Regression: a plain mail login (not an e-mail address) was refused with 400.
    const login = await tokenOf(t, id, '?minValidity=0&user=support').expect(200);
    expect(Buffer.from(login.body.xoauth2, 'base64').toString()).toBe(
      `user=support\x01auth=Bearer ${login.body.accessToken}\x01\x01`,
    );
  });

  it('answers consumer keys for granted links only, and refuses bad input', async () => {
    const { id } = await connectLink(t, provider);
    const granted = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'imap', role: 'consumer', linkIds: [id] })
      .expect(201);
    const other = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'other', role: 'consumer', linkIds: ['6b1f3c1e-0000-4000-8000-000000000000'] })
      .expect(201);
    await tokenOf(t, id, '?minValidity=0', granted.body.key).expect(200);
    expect((await tokenOf(t, id, '', other.body.key).expect(403)).body.code).toBe('forbidden');
    await t.http().get(`/v1/links/${id}/token`).expect(401);
    await t.http().post(`/v1/links/${id}/refresh`).set(bearer(granted.body.key)).expect(403);
    for (const query of [
      '?minValidity=-1',
      '?minValidity=3601',
      '?minValidity=abc',
      '?user=not%20an%20email',
      '?user=a%01b%40example.com',
      // Regression: quoted local parts passed the e-mail check with SOH and CRLF in them.
      '?user=%22a%01b%22%40example.com',
      '?user=%22a%0D%0Ab%22%40example.com',
      '?user=',
      `?user=${'x'.repeat(321)}`,
    ]) {
      const response = await tokenOf(t, id, query);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
    }
    expect((await tokenOf(t, '6b1f3c1e-0000-4000-8000-000000000000').expect(404)).body.code).toBe(
      'not_found',
    );
  });

  it('answers 409 link_not_connected for a link never authorized', async () => {
    const created = await t
      .http()
      .post('/v1/links')
      .set(bearer(t.adminKey))
      .send({ name: 'new', provider: 'google', clientId: 'c', scopePreset: 'imap' })
      .expect(201);
    const response = await tokenOf(t, created.body.id).expect(409);
    expect(response.body.code).toBe('link_not_connected');
    expect(response.body.detail).toContain('authorize');
  });

  it('returns an unexpired stored token for minValidity=0 without calling the provider', async () => {
    const { id } = await connectLink(t, provider);
    const before = refreshGrants();
    const first = await tokenOf(t, id, '?minValidity=0').expect(200);
    const second = await tokenOf(t, id, '?minValidity=0').expect(200);
    expect(second.body.accessToken).toBe(first.body.accessToken);
    expect(refreshGrants()).toBe(before);
  });

  it('refreshes exactly once for 200 concurrent callers on an expired token, all of whom get the new token', async () => {
    const { id } = await connectLink(t, provider);
    const original = await storedAccessToken(id);
    const originalRefreshToken = await storedRefreshToken(id);
    await expireStoredToken(t, id);
    const before = refreshGrants();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => tokenOf(t, id, '?minValidity=10')),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(200).fill(200));
    const tokens = new Set(answers.map((answer) => answer.body.accessToken));
    expect(tokens.size).toBe(1);
    expect(tokens.has(original)).toBe(false);
    expect(refreshGrants()).toBe(before + 1);
    // The rotated refresh token is stored, and the grant is alive (a double refresh would have revoked it).
    expect(await storedRefreshToken(id)).not.toBe(originalRefreshToken);
    await t.http().post(`/v1/links/${id}/refresh`).set(bearer(t.adminKey)).expect(200);
    expect(refreshGrants()).toBe(before + 2);
    expect((await linkOf(id)).status).toBe('connected');
  });

  it('POST /refresh renews now, returns the link and records who asked', async () => {
    const { id } = await connectLink(t, provider);
    const before = (await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken;
    const refreshed = await t
      .http()
      .post(`/v1/links/${id}/refresh`)
      .set(bearer(t.adminKey))
      .expect(200);
    expect(refreshed.body).toMatchObject({ id, status: 'connected', refreshTokenPresent: true });
    const after = (await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken;
    expect(after).not.toBe(before);
    const events = (await t.http().get(`/v1/links/${id}/events`).set(bearer(t.adminKey))).body
      .items;
    expect(events[0]).toMatchObject({
      type: 'refreshed',
      detail: { trigger: 'manual', refreshTokenRotated: true },
    });
    expect(events[0].actor).not.toBe('system');
  });

  it('moves the link to reauthorization_required on invalid_grant and keeps the refresh token', async () => {
    const { id } = await connectLink(t, provider);
    const refreshToken = await storedRefreshToken(id);
    await provider.revokeAllGrants();
    const response = await tokenOf(t, id).expect(409);
    expect(response.body.code).toBe('reauthorization_required');
    expect(response.body.detail).toMatch(/authorize the link again/);
    const link = await linkOf(id);
    expect(link).toMatchObject({ status: 'reauthorization_required', refreshTokenPresent: true });
    expect(link.lastError.code).toBe('invalid_grant');
    expect(await storedRefreshToken(id)).toBe(refreshToken);
    const types = (
      await t.http().get(`/v1/links/${id}/events`).set(bearer(t.adminKey))
    ).body.items.map((event: { type: string }) => event.type);
    expect(types.slice(0, 2)).toEqual(['status_changed', 'refresh_failed']);
    // Further requests do not call the provider again.
    const before = refreshGrants();
    expect((await tokenOf(t, id).expect(409)).body.code).toBe('reauthorization_required');
    expect(refreshGrants()).toBe(before);
  });

  it('moves the link to error on invalid_client, and a new secret brings it back', async () => {
    const { id } = await connectLink(t, provider);
    await t
      .http()
      .patch(`/v1/links/${id}`)
      .set(bearer(t.adminKey))
      .send({ clientSecret: 'wrong-secret' })
      .expect(200);
    const response = await tokenOf(t, id).expect(409);
    expect(response.body.code).toBe('link_error');
    const link = await linkOf(id);
    expect(link.status).toBe('error');
    expect(link.lastError.code).toBe('invalid_client');
    const fixed = await t
      .http()
      .patch(`/v1/links/${id}`)
      .set(bearer(t.adminKey))
      .send({ clientSecret: provider.clientSecret })
      .expect(200);
    expect(fixed.body.status).toBe('connected');
    await tokenOf(t, id).expect(200);
  });

  describe('when the provider fails transiently', () => {
    /** A link whose token endpoint is the fault server, relaying to the real provider until told otherwise. */
    async function linkBehindFaultServer(): Promise<string> {
      faults.respondWith({ proxyTo: `${provider.issuer}/token` });
      const { id } = await connectLink(t, provider, { tokenEndpoint: faults.tokenEndpoint });
      return id;
    }

    it.each([
      ['a 500', { status: 500, body: '{}' }],
      ['malformed JSON', { status: 200, body: '{"access_token":' }],
      ['a closed connection', 'close' as const],
      ['no answer within the timeout', 'hang' as const],
    ])(
      'answers 503 with Retry-After on %s, stays connected, keeps the refresh token, and backs off',
      async (_name, fault) => {
        const id = await linkBehindFaultServer();
        const refreshToken = await storedRefreshToken(id);
        const valid = (await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken;
        faults.respondWith(fault);
        const requestsBefore = faults.requests;
        const response = await tokenOf(t, id, '?minValidity=60').expect(503);
        expect(response.body.code).toBe('provider_unavailable');
        expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(faults.requests).toBe(requestsBefore + 1);
        const link = await linkOf(id);
        expect(link).toMatchObject({ status: 'connected', refreshTokenPresent: true });
        expect(link.lastError.code).toBe('provider_unavailable');
        expect(await storedRefreshToken(id)).toBe(refreshToken);
        // Backing off: the provider is not called again right away.
        await tokenOf(t, id, '?minValidity=60').expect(503);
        expect(faults.requests).toBe(requestsBefore + 1);
        // A still-valid token is served while the provider is down when minValidity allows it.
        expect((await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken).toBe(valid);
      },
    );

    it('honours Retry-After of a 429, then recovers once the provider is back', async () => {
      const id = await linkBehindFaultServer();
      faults.respondWith({
        status: 429,
        body: '{"error":"slow_down"}',
        headers: { 'retry-after': '2' },
      });
      const requestsBefore = faults.requests;
      const limited = await tokenOf(t, id).expect(503);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(2);
      // The provider is left alone until Retry-After has passed: the backoff ends no sooner.
      const [{ wait }] = await t.dataSource.query(
        `SELECT EXTRACT(EPOCH FROM refresh_not_before - now())::float AS wait FROM links WHERE id = $1`,
        [id],
      );
      expect(wait).toBeGreaterThan(1.5);
      await tokenOf(t, id).expect(503);
      expect(faults.requests).toBe(requestsBefore + 1);
      // Time passes (the backoff is moved into the past rather than slept through).
      faults.respondWith({ proxyTo: `${provider.issuer}/token` });
      await t.dataSource.query(
        `UPDATE links SET refresh_not_before = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      await t.app.get(ChangeNotifications).publish({ kind: 'link', id });
      await tokenOf(t, id).expect(200);
      expect(faults.requests).toBe(requestsBefore + 2);
      expect((await linkOf(id)).lastError).toBeNull();
    });
  });

  it('connects a client-credentials link with its first token request', async () => {
    const { id } = await connectLink(t, provider, {
      grantType: 'client_credentials',
      authorizationEndpoint: undefined,
      scopes: [provider.customScope],
    });
    expect((await linkOf(id)).status).toBe('pending_authorization');
    const before = provider.grantCounts().client_credentials ?? 0;
    const first = await tokenOf(t, id, '?minValidity=0').expect(200);
    const second = await tokenOf(t, id, '?minValidity=0').expect(200);
    expect(second.body.accessToken).toBe(first.body.accessToken);
    expect(provider.grantCounts().client_credentials).toBe(before + 1);
    const link = await linkOf(id);
    expect(link).toMatchObject({ status: 'connected', refreshTokenPresent: false });
    expect((await tokenOf(t, id, '?minValidity=60').expect(200)).body.accessToken).not.toBe(
      first.body.accessToken,
    );
  });

  it('forgets a deleted link at once, even with its token cached', async () => {
    const { id } = await connectLink(t, provider);
    await tokenOf(t, id, '?minValidity=0').expect(200);
    await t.http().delete(`/v1/links/${id}`).set(bearer(t.adminKey)).expect(204);
    await tokenOf(t, id, '?minValidity=0').expect(404);
  });

  it('revokes the refresh token at the provider when the link is deleted, and records it', async () => {
    const discovery = (await (
      await fetch(`${provider.issuer}/.well-known/openid-configuration`)
    ).json()) as {
      revocation_endpoint: string;
      token_endpoint: string;
    };
    const { id } = await connectLink(t, provider, {
      revocationEndpoint: discovery.revocation_endpoint,
    });
    const refreshToken = await storedRefreshToken(id);
    await t.http().delete(`/v1/links/${id}`).set(bearer(t.adminKey)).expect(204);
    const events = (
      await t.http().get(`/v1/links/${id}/events`).set(bearer(t.adminKey)).expect(200)
    ).body.items;
    expect(events.slice(0, 2).map((event: { type: string }) => event.type)).toEqual([
      'deleted',
      'revoked',
    ]);
    expect(events[1].detail).toEqual({ revoked: true });
    const settings = {
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_basic' as const,
      server: {
        issuer: provider.issuer,
        authorizationEndpoint: null,
        tokenEndpoint: discovery.token_endpoint,
        revocationEndpoint: null,
      },
    };
    await expect(t.app.get(ProviderClient).refresh(settings, refreshToken)).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
  });

  it('reports token requests, refreshes, their latency and links by status in /metrics', async () => {
    const metrics = (await t.http().get('/metrics').set(bearer(t.adminKey)).expect(200)).text;
    expect(metrics).toMatch(/outlink_token_requests_total\{result="refreshed"\} [1-9]/);
    expect(metrics).toMatch(
      /outlink_refreshes_total\{trigger="on_demand",result="success"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /outlink_refreshes_total\{trigger="on_demand",result="transient"\} [1-9]/,
    );
    expect(metrics).toMatch(/outlink_refresh_duration_seconds_count\{trigger="on_demand"\} [1-9]/);
    expect(metrics).toMatch(/outlink_links\{status="connected"\} [1-9]/);
    expect(metrics).toMatch(/outlink_links\{status="reauthorization_required"\} [1-9]/);
  });
});

describe(`background refresh (${BACKEND})`, () => {
  it('renews a token before it expires with no caller', async () => {
    const t = await startTestApp({
      env: {
        ALLOW_INSECURE_ENDPOINTS: 'true',
        PUBLIC_BASE_URL: 'http://127.0.0.1:39997',
        REFRESH_CHECK_INTERVAL_SECONDS: '3600',
        REFRESH_LEAD_SECONDS: '300',
      },
    });
    const provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      accessTokenTtlSeconds: 3600,
    });
    try {
      const { id } = await connectLink(t, provider);
      const background = t.app.get(BackgroundRefresh);
      await background.runOnce();
      expect(provider.grantCounts().refresh_token ?? 0).toBe(0); // not due: an hour to go
      // Time passes: the token now expires within the lead (moved, not slept through).
      await t.dataSource.query(
        `UPDATE links SET access_token_expires_at = now() + interval '200 seconds',
                          last_refreshed_at = now() - interval '3400 seconds' WHERE id = $1`,
        [id],
      );
      await background.runOnce();
      const events = (await t.http().get(`/v1/links/${id}/events`).set(bearer(t.adminKey))).body
        .items as { type: string; detail: { trigger?: string } }[];
      expect(events[0]).toMatchObject({ type: 'refreshed', detail: { trigger: 'background' } });
      const [{ remaining }] = await t.dataSource.query(
        `SELECT EXTRACT(EPOCH FROM access_token_expires_at - now())::float AS remaining FROM links WHERE id = $1`,
        [id],
      );
      expect(remaining).toBeGreaterThan(3500); // a new hour-long token
      expect(provider.grantCounts().refresh_token).toBe(1);
    } finally {
      await t.close();
      await provider.close();
    }
  });
});

describe(`tokens issued without expires_in (${BACKEND})`, () => {
  let faults: FaultServer;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    faults = await startFaultServer();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await faults?.close();
  });

  /** A client-credentials link whose token endpoint answers tokens without an expiry. */
  const startWithLink = async (
    env: Record<string, string>,
  ): Promise<{ t: TestApp; id: string }> => {
    const t = await startTestApp({
      env: { ALLOW_INSECURE_ENDPOINTS: 'true', REFRESH_CHECK_INTERVAL_SECONDS: '3600', ...env },
    });
    apps.push(t);
    const created = await t
      .http()
      .post('/v1/links')
      .set(bearer(t.adminKey))
      .send({
        name: 'no expiry',
        provider: 'custom',
        grantType: 'client_credentials',
        clientId: 'c',
        clientSecret: 's',
        scopes: ['api'],
        tokenEndpoint: faults.tokenEndpoint,
      })
      .expect(201);
    return { t, id: created.body.id as string };
  };
  /** Time passes for the link's token: its issue time moves back (and caches hear of it). */
  const makeOlder = async (t: TestApp, linkId: string, seconds: number): Promise<void> => {
    await t.dataSource.query(
      `UPDATE links SET last_refreshed_at = last_refreshed_at - make_interval(secs => $2) WHERE id = $1`,
      [linkId, seconds],
    );
    await t.app.get(ChangeNotifications).publish({ kind: 'link', id: linkId });
  };
  const answerToken = (accessToken: string): void =>
    faults.respondWith({
      body: JSON.stringify({ access_token: accessToken, token_type: 'Bearer' }),
    });

  it('serves them with a null expiry and never renews them unasked by default', async () => {
    const { t, id } = await startWithLink({});
    answerToken('no-expiry-1');
    const first = await tokenOf(t, id, '?minValidity=3600').expect(200);
    expect(first.body).toMatchObject({
      accessToken: 'no-expiry-1',
      expiresAt: null,
      expiresIn: null,
    });
    const calls = faults.requests;
    answerToken('no-expiry-2');
    const again = await tokenOf(t, id, '?minValidity=3600').expect(200);
    expect(again.body.accessToken).toBe('no-expiry-1');
    expect(faults.requests).toBe(calls);
    // An admin's forced refresh is the way to renew them.
    await t.http().post(`/v1/links/${id}/refresh`).set(bearer(t.adminKey)).expect(200);
    expect((await tokenOf(t, id).expect(200)).body.accessToken).toBe('no-expiry-2');
  });

  it('renews them on demand once ASSUMED_TOKEN_LIFETIME_SECONDS has passed', async () => {
    const { t, id } = await startWithLink({ ASSUMED_TOKEN_LIFETIME_SECONDS: '60' });
    answerToken('assumed-1');
    expect((await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken).toBe('assumed-1');
    answerToken('assumed-2');
    const young = await tokenOf(t, id, '?minValidity=0').expect(200);
    expect(young.body).toMatchObject({ accessToken: 'assumed-1', expiresAt: null });
    await makeOlder(t, id, 61);
    const renewed = await tokenOf(t, id, '?minValidity=0').expect(200);
    expect(renewed.body).toMatchObject({ accessToken: 'assumed-2', expiresAt: null });
  });

  it('renews them in the background before the assumed lifetime ends', async () => {
    const { t, id } = await startWithLink({ ASSUMED_TOKEN_LIFETIME_SECONDS: '60' });
    answerToken('background-1');
    expect((await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken).toBe(
      'background-1',
    );
    answerToken('background-2');
    const background = t.app.get(BackgroundRefresh);
    await background.runOnce();
    expect((await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken).toBe(
      'background-1',
    );
    // Due at half the assumed lifetime (it is shorter than the lead): 31 s old is due.
    await makeOlder(t, id, 31);
    await background.runOnce();
    const events = (await t.http().get(`/v1/links/${id}/events`).set(bearer(t.adminKey))).body
      .items as { type: string; detail: { trigger?: string } }[];
    expect(events[0]).toMatchObject({ type: 'refreshed', detail: { trigger: 'background' } });
    expect((await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken).toBe(
      'background-2',
    );
  });
});
