import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { generateEncryptionKeyEntry } from '../../src/config/encryption-keys.js';
import { OutboundHttp } from '../../src/outbound/outbound-http.js';
import { OutboundPolicy } from '../../src/outbound/outbound-policy.js';
import { generatePkce, generateState } from '../../src/providers/authorization-request-secrets.js';
import { ProviderClient } from '../../src/providers/provider-client.js';
import type {
  ProviderClientSettings,
  TokenSet,
} from '../../src/providers/provider-client.types.js';
import { ProviderCallError } from '../../src/providers/provider-error.js';
import { ProviderDiscovery } from '../../src/providers/provider-discovery.js';
import { parseRetryAfter } from '../../src/providers/provider-error-classification.js';
import { startFaultServer, type FaultServer } from '../support/fault-server.js';
import {
  authorizeWithPlainHttp,
  startTestProvider,
  type TestProvider,
} from '../support/oidc-provider.js';

// Never contacted: authorizeWithPlainHttp stops at the redirect to it.
const REDIRECT_URI = 'http://127.0.0.1:9/v1/oauth/callback';

const outboundClients: OutboundHttp[] = [];

function outboundFor(env: Record<string, string>): { config: AppConfig; http: OutboundHttp } {
  const config = loadConfig({
    ALLOW_INSECURE_ENDPOINTS: 'true',
    PROVIDER_TIMEOUT_SECONDS: '2',
    ENCRYPTION_KEYS: generateEncryptionKeyEntry('test'),
    OUTBOUND_ALLOW: '127.0.0.1', // the test provider and fault server listen on loopback
    ...env,
  });
  const http = new OutboundHttp(new OutboundPolicy(config));
  outboundClients.push(http);
  return { config, http };
}

function clientFor(env: Record<string, string> = {}): ProviderClient {
  const { config, http } = outboundFor(env);
  return new ProviderClient(config, http);
}

function discoveryFor(env: Record<string, string> = {}): ProviderDiscovery {
  const { config, http } = outboundFor(env);
  return new ProviderDiscovery(config, http);
}

afterAll(async () => {
  await Promise.all(outboundClients.map((http) => http.onApplicationShutdown()));
});

/** Runs `action`, expects a ProviderCallError, and checks that its message holds none of `secrets`. */
async function providerErrorOf(
  action: () => Promise<unknown>,
  secrets: (string | null | undefined)[] = [],
): Promise<ProviderCallError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProviderCallError);
  const error = caught as ProviderCallError;
  for (const secret of secrets) {
    if (secret) expect(error.message).not.toContain(secret);
  }
  expect(error.cause).toBeUndefined();
  return error;
}

describe('ProviderClient against a real oidc-provider', () => {
  let provider: TestProvider;
  let oauth: ProviderClient;
  let settings: ProviderClientSettings;

  interface Authorized {
    callbackUrl: URL;
    state: string;
    verifier: string;
  }

  async function authorize(
    using: ProviderClientSettings = settings,
    options: { denyConsent?: boolean; extra?: Record<string, string> } = {},
  ): Promise<Authorized> {
    const state = generateState();
    const pkce = await generatePkce();
    const url = oauth.authorizationUrl(using, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access',
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      ...options.extra,
    });
    const callbackUrl = await authorizeWithPlainHttp(url, { denyConsent: options.denyConsent });
    return { callbackUrl, state, verifier: pkce.verifier };
  }

  async function connect(using: ProviderClientSettings = settings): Promise<TokenSet> {
    const { callbackUrl, state, verifier } = await authorize(using);
    return oauth.exchangeAuthorizationCode(using, callbackUrl, {
      expectedState: state,
      codeVerifier: verifier,
    });
  }

  beforeAll(async () => {
    provider = await startTestProvider({ redirectUri: REDIRECT_URI });
    oauth = clientFor();
    settings = {
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_basic',
      server: await discoveryFor().discover(provider.issuer),
    };
  });

  afterAll(async () => {
    await provider.close();
  });

  it('discovers the endpoints and the metadata worth storing from the issuer', async () => {
    const discovered = await discoveryFor().discover(provider.issuer);

    expect(discovered).toMatchObject({
      issuer: provider.issuer,
      authorizationEndpoint: `${provider.issuer}/auth`,
      tokenEndpoint: `${provider.issuer}/token`,
      revocationEndpoint: `${provider.issuer}/token/revocation`,
    });
    expect(discovered.metadata).toMatchObject({
      issuer: provider.issuer,
      token_endpoint: `${provider.issuer}/token`,
      authorization_response_iss_parameter_supported: true,
      code_challenge_methods_supported: ['S256'],
    });
    expect(discovered.metadata).not.toHaveProperty('jwks_uri');
  });

  it('refuses discovery of an issuer that serves no discovery document', async () => {
    const error = await providerErrorOf(() =>
      discoveryFor().discover(`${provider.issuer}/nothing-here`),
    );

    expect(error.kind).toBe('rejected');
    expect(error.httpStatus).toBe(404);
  });

  it('refuses a discovery document that names another issuer', async () => {
    const sameServerOtherName = provider.issuer.replace('127.0.0.1', 'localhost');

    const error = await providerErrorOf(() => discoveryFor().discover(sameServerOtherName));

    expect(error).toMatchObject({ kind: 'rejected', httpStatus: 200 });
    expect(error.message).toMatch(/another issuer/);
  });

  it('builds an authorization URL with code, client, redirect, scope, state, S256 and extras', async () => {
    const { challenge } = await generatePkce();
    const state = generateState();

    const url = new URL(
      oauth.authorizationUrl(settings, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid offline_access',
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        prompt: 'consent',
        access_type: 'offline',
      }),
    );

    expect(`${url.origin}${url.pathname}`).toBe(`${provider.issuer}/auth`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: provider.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      prompt: 'consent',
      access_type: 'offline',
    });
    expect(state.length).toBeGreaterThanOrEqual(22); // >= 128 bits of base64url
  });

  it('exchanges the code of a full authorization for an access and a refresh token', async () => {
    const before = provider.grantCounts().authorization_code ?? 0;
    const { callbackUrl, state, verifier } = await authorize();
    expect(callbackUrl.searchParams.get('iss')).toBe(provider.issuer);
    expect(callbackUrl.searchParams.get('state')).toBe(state);

    const tokens = await oauth.exchangeAuthorizationCode(settings, callbackUrl, {
      expectedState: state,
      codeVerifier: verifier,
    });

    expect(tokens).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: expect.any(Number),
      refreshToken: expect.any(String),
      scope: 'openid offline_access',
      refreshTokenExpiresIn: null,
      // SPEC §12: who consented, read from the ID token (which openid-client never sees)
      identity: { subject: 'alice', email: null, username: null },
    });
    expect(tokens.expiresIn).toBeGreaterThan(50);
    expect(tokens.expiresIn).toBeLessThanOrEqual(60);
    expect(provider.grantCounts().authorization_code).toBe(before + 1);
  });

  it('issues a refresh token for offline_access with prompt=consent too', async () => {
    const { callbackUrl, state, verifier } = await authorize(settings, {
      extra: { prompt: 'consent' },
    });
    const tokens = await oauth.exchangeAuthorizationCode(settings, callbackUrl, {
      expectedState: state,
      codeVerifier: verifier,
    });

    expect(tokens.refreshToken).toEqual(expect.any(String));
  });

  it('classifies a PKCE verifier mismatch as invalid_grant without leaking code or verifier', async () => {
    const { callbackUrl, state, verifier } = await authorize();
    const wrongVerifier = (await generatePkce()).verifier;
    const code = callbackUrl.searchParams.get('code');

    const error = await providerErrorOf(
      () =>
        oauth.exchangeAuthorizationCode(settings, callbackUrl, {
          expectedState: state,
          codeVerifier: wrongVerifier,
        }),
      [code, verifier, wrongVerifier, provider.clientSecret],
    );

    expect(error).toMatchObject({ kind: 'invalid_grant', oauthError: 'invalid_grant' });
    expect(error.httpStatus).toBe(400);
    expect(error.description).toEqual(expect.any(String));
  });

  it('rejects a callback whose state does not match, without calling the token endpoint', async () => {
    const { callbackUrl, verifier } = await authorize();
    const before = provider.grantCounts().authorization_code ?? 0;

    const error = await providerErrorOf(
      () =>
        oauth.exchangeAuthorizationCode(settings, callbackUrl, {
          expectedState: generateState(),
          codeVerifier: verifier,
        }),
      [callbackUrl.searchParams.get('code'), verifier],
    );

    expect(error).toMatchObject({ kind: 'rejected', httpStatus: null });
    expect(error.message).toMatch(/state/);
    expect(provider.grantCounts().authorization_code ?? 0).toBe(before);
  });

  it('rejects a callback whose iss is not the expected issuer', async () => {
    const { callbackUrl, state, verifier } = await authorize();
    const elsewhere = {
      ...settings,
      server: { ...settings.server, issuer: 'https://elsewhere.example' },
    };

    const error = await providerErrorOf(() =>
      oauth.exchangeAuthorizationCode(elsewhere, callbackUrl, {
        expectedState: state,
        codeVerifier: verifier,
      }),
    );

    expect(error.kind).toBe('rejected');
    expect(error.message).toMatch(/iss/);
  });

  it('turns a refused consent (error=access_denied) into rejected with oauthError access_denied', async () => {
    const { callbackUrl, state, verifier } = await authorize(settings, { denyConsent: true });
    expect(callbackUrl.searchParams.get('error')).toBe('access_denied');

    const error = await providerErrorOf(() =>
      oauth.exchangeAuthorizationCode(settings, callbackUrl, {
        expectedState: state,
        codeVerifier: verifier,
      }),
    );

    expect(error).toMatchObject({
      kind: 'rejected',
      oauthError: 'access_denied',
      httpStatus: null,
    });
  });

  it('rotates the refresh token; replaying the old one is invalid_grant and kills the new one too', async () => {
    // The fatal double-refresh of SPEC §7: a provider that rotates refresh tokens revokes the
    // whole grant when a used refresh token comes back, so two concurrent refreshes lose the link.
    const first = await connect();
    const before = provider.grantCounts().refresh_token ?? 0;

    const second = await oauth.refresh(settings, first.refreshToken!);
    expect(second.refreshToken).toEqual(expect.any(String));
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);

    const replay = await providerErrorOf(
      () => oauth.refresh(settings, first.refreshToken!),
      [first.refreshToken, provider.clientSecret],
    );
    expect(replay).toMatchObject({ kind: 'invalid_grant', oauthError: 'invalid_grant' });

    const afterReplay = await providerErrorOf(() => oauth.refresh(settings, second.refreshToken!));
    expect(afterReplay.kind).toBe('invalid_grant');
    expect(provider.grantCounts().refresh_token).toBe(before + 3);
  });

  it('gets invalid_grant once the provider revoked every grant', async () => {
    const tokens = await connect();

    await provider.revokeAllGrants();

    const error = await providerErrorOf(() => oauth.refresh(settings, tokens.refreshToken!));
    expect(error.kind).toBe('invalid_grant');
  });

  it('authenticates with client_secret_post as well as client_secret_basic', async () => {
    const post: ProviderClientSettings = {
      ...settings,
      tokenEndpointAuthMethod: 'client_secret_post',
    };
    const tokens = await connect(post);

    const refreshed = await oauth.refresh(post, tokens.refreshToken!);

    expect(refreshed.accessToken).toEqual(expect.any(String));
  });

  it.each(['client_secret_basic', 'client_secret_post'] as const)(
    'classifies a wrong client secret (%s) as invalid_client without leaking it',
    async (method) => {
      const wrongSecret = 'wrong-secret-value-that-must-not-leak';
      const wrong: ProviderClientSettings = {
        ...settings,
        clientSecret: wrongSecret,
        tokenEndpointAuthMethod: method,
      };

      const before = provider.grantCounts().client_credentials ?? 0;

      const error = await providerErrorOf(
        () => oauth.clientCredentials(wrong, [provider.customScope]),
        [wrongSecret, provider.clientSecret],
      );

      expect(error).toMatchObject({ kind: 'invalid_client', oauthError: 'invalid_client' });
      expect(error.httpStatus).toBe(401);
      // Failed requests count too: they reached the provider.
      expect(provider.grantCounts().client_credentials).toBe(before + 1);
    },
  );

  it('gets a client-credentials token without refresh token', async () => {
    const before = provider.grantCounts().client_credentials ?? 0;

    const tokens = await oauth.clientCredentials(settings, [provider.customScope]);

    expect(tokens).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: expect.any(Number),
      refreshToken: null,
      scope: provider.customScope,
      refreshTokenExpiresIn: null,
      identity: null,
    });
    expect(provider.grantCounts().client_credentials).toBe(before + 1);
  });

  it('revokes a refresh token at the revocation endpoint; it no longer refreshes', async () => {
    const tokens = await connect();

    await oauth.revoke(settings, tokens.refreshToken!, 'refresh_token');

    const error = await providerErrorOf(() => oauth.refresh(settings, tokens.refreshToken!));
    expect(error.kind).toBe('invalid_grant');
  });

  it('refuses to revoke when no revocation endpoint is known', async () => {
    const without = { ...settings, server: { ...settings.server, revocationEndpoint: null } };

    const error = await providerErrorOf(() => oauth.revoke(without, 'token', 'access_token'));

    expect(error.kind).toBe('rejected');
  });

  it('works with explicit endpoints whose expected issuer is the authorization endpoint origin', async () => {
    const explicit: ProviderClientSettings = {
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_basic',
      server: {
        issuer: new URL(`${provider.issuer}/auth`).origin,
        authorizationEndpoint: `${provider.issuer}/auth`,
        tokenEndpoint: `${provider.issuer}/token`,
        revocationEndpoint: `${provider.issuer}/token/revocation`,
      },
    };

    const tokens = await connect(explicit);
    const refreshed = await oauth.refresh(explicit, tokens.refreshToken!);
    await oauth.revoke(explicit, refreshed.refreshToken!, 'refresh_token');

    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
  });

  describe('against a misbehaving token endpoint', () => {
    let faults: FaultServer;
    let faulty: ProviderClientSettings;

    beforeAll(async () => {
      faults = await startFaultServer();
      faulty = {
        clientId: 'client',
        clientSecret: 'client-secret-never-shown',
        tokenEndpointAuthMethod: 'client_secret_basic',
        server: {
          issuer: faults.url,
          authorizationEndpoint: `${faults.url}/auth`,
          tokenEndpoint: faults.tokenEndpoint,
          revocationEndpoint: null,
        },
      };
    });

    afterAll(async () => {
      await faults.close();
    });

    const refreshToken = 'refresh-token-never-shown';
    const refreshFailure = (client: ProviderClient = oauth): Promise<ProviderCallError> =>
      providerErrorOf(
        () => client.refresh(faulty, refreshToken),
        [refreshToken, 'client-secret-never-shown'],
      );

    it('classifies HTTP 500 as transient', async () => {
      faults.respondWith({
        status: 500,
        body: '<html>oops</html>',
        headers: { 'content-type': 'text/html' },
      });

      expect(await refreshFailure()).toMatchObject({ kind: 'transient', httpStatus: 500 });
    });

    it('classifies a 503 with an OAuth error body as transient and keeps its Retry-After', async () => {
      faults.respondWith({
        status: 503,
        body: '{"error":"temporarily_unavailable"}',
        headers: { 'retry-after': '30' },
      });

      expect(await refreshFailure()).toMatchObject({
        kind: 'transient',
        httpStatus: 503,
        retryAfterSeconds: 30,
      });
    });

    it('classifies HTTP 429 as transient with retryAfterSeconds from Retry-After', async () => {
      faults.respondWith({
        status: 429,
        body: '{"error":"slow_down"}',
        headers: { 'retry-after': '7' },
      });

      expect(await refreshFailure()).toMatchObject({
        kind: 'transient',
        httpStatus: 429,
        retryAfterSeconds: 7,
      });
    });

    it('reads a Retry-After given as an HTTP date', async () => {
      const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
      faults.respondWith({ status: 429, body: '', headers: { 'retry-after': inTwoMinutes } });

      const error = await refreshFailure();

      expect(error.kind).toBe('transient');
      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(118);
      expect(error.retryAfterSeconds).toBeLessThanOrEqual(120);
    });

    it('classifies a malformed JSON body as transient', async () => {
      faults.respondWith({ status: 200, body: '{"access_token":' });

      expect(await refreshFailure()).toMatchObject({ kind: 'transient', httpStatus: 200 });
    });

    it('classifies a 200 without access_token as transient', async () => {
      faults.respondWith({ status: 200, body: '{"token_type":"bearer"}' });

      expect(await refreshFailure()).toMatchObject({ kind: 'transient', httpStatus: 200 });
    });

    it('rejects a token type it cannot use', async () => {
      faults.respondWith({ status: 200, body: '{"access_token":"at","token_type":"mac"}' });

      expect(await refreshFailure()).toMatchObject({ kind: 'rejected', httpStatus: 200 });
    });

    it('classifies a hanging endpoint as transient once PROVIDER_TIMEOUT_SECONDS passed', async () => {
      faults.respondWith('hang');
      const impatient = clientFor({ PROVIDER_TIMEOUT_SECONDS: '1' });
      const started = Date.now();

      const error = await refreshFailure(impatient);

      expect(error).toMatchObject({ kind: 'transient', httpStatus: null });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(1900);
    });

    it('classifies a closed connection as transient', async () => {
      faults.respondWith('close');

      expect(await refreshFailure()).toMatchObject({ kind: 'transient', httpStatus: null });
    });

    it('classifies a refused connection as transient', async () => {
      const gone = await startFaultServer();
      await gone.close();
      const unreachable = {
        ...faulty,
        server: { ...faulty.server, tokenEndpoint: gone.tokenEndpoint },
      };

      const error = await providerErrorOf(() => oauth.refresh(unreachable, refreshToken));

      expect(error).toMatchObject({ kind: 'transient', httpStatus: null });
    });

    it('classifies a 400 invalid_grant as invalid_grant and truncates the description', async () => {
      faults.respondWith({
        status: 400,
        body: JSON.stringify({ error: 'invalid_grant', error_description: 'x'.repeat(2000) }),
      });

      const error = await refreshFailure();

      expect(error).toMatchObject({
        kind: 'invalid_grant',
        oauthError: 'invalid_grant',
        httpStatus: 400,
      });
      expect(error.description).toHaveLength(500);
      expect(error.message).not.toContain('xxxxxxxx');
    });

    it.each([
      ['invalid_client', 401, 'invalid_client'],
      ['unauthorized_client', 400, 'invalid_client'],
      ['invalid_scope', 400, 'rejected'],
      ['unsupported_grant_type', 400, 'rejected'],
      ['invalid_request', 400, 'rejected'],
    ] as const)('classifies %s (HTTP %i) as %s', async (oauthError, status, kind) => {
      faults.respondWith({ status, body: JSON.stringify({ error: oauthError }) });

      expect(await refreshFailure()).toMatchObject({ kind, oauthError, httpStatus: status });
    });

    it('classifies a bare HTTP 401 as invalid_client', async () => {
      faults.respondWith({
        status: 401,
        body: 'Unauthorized',
        headers: { 'content-type': 'text/plain' },
      });

      expect(await refreshFailure()).toMatchObject({ kind: 'invalid_client', httpStatus: 401 });
    });

    it('gives expiresIn null without expires_in, refreshToken null without refresh_token', async () => {
      faults.respondWith({ status: 200, body: '{"access_token":"at","token_type":"bearer"}' });

      expect(await oauth.refresh(faulty, refreshToken)).toEqual({
        accessToken: 'at',
        tokenType: 'Bearer',
        expiresIn: null,
        refreshToken: null,
        scope: null,
        refreshTokenExpiresIn: null,
        identity: null,
      });
    });

    it('ignores an id_token it would otherwise have to validate', async () => {
      faults.respondWith({
        status: 200,
        body: '{"access_token":"at","token_type":"Bearer","expires_in":"3600","id_token":"not.a.jwt"}',
      });

      expect(await oauth.refresh(faulty, refreshToken)).toMatchObject({
        accessToken: 'at',
        expiresIn: 3600,
      });
    });

    it('refuses http:// endpoints when insecure endpoints are not allowed, without sending', async () => {
      const strict = clientFor({ ALLOW_INSECURE_ENDPOINTS: 'false' });
      const before = faults.requests;

      const refreshError = await refreshFailure(strict);
      const discoveryError = await providerErrorOf(() =>
        discoveryFor({ ALLOW_INSECURE_ENDPOINTS: 'false' }).discover(provider.issuer),
      );
      const urlError = await providerErrorOf(() =>
        Promise.resolve(strict.authorizationUrl(faulty, { state: 's' })),
      );

      for (const error of [refreshError, discoveryError, urlError]) {
        expect(error).toMatchObject({ kind: 'rejected', httpStatus: null });
        expect(error.message).toMatch(/https/);
      }
      expect(faults.requests).toBe(before);
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it('reads delay-seconds and HTTP dates, and ignores garbage', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter(' 12 ', now)).toBe(12);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});
