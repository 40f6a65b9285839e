import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestProviderOptions {
  redirectUri: string;
  /** Lifetime of access tokens, both grants. Default 60. */
  accessTokenTtlSeconds?: number;
  /** Issue a new refresh token on every refresh (and revoke the grant on replay). Default true. */
  rotateRefreshToken?: boolean;
  /** Default: 32 random bytes, base64url. */
  clientSecret?: string;
  /**
   * Registers the client in the provider's storage instead of its static configuration, so that
   * `setClientSecret` can change its secret while it runs (oidc-provider reads stored clients on
   * every request; static ones are cached). Default false.
   */
  rotatableClientSecret?: boolean;
  /**
   * Enables the device authorization flow (RFC 8628, `features.deviceFlow`) for the client; the
   * discovery document then names `device_authorization_endpoint`. Default false.
   */
  deviceFlow?: boolean;
  /**
   * SPEC §15: accept the RFC 7523 jwt-bearer grant for assertions signed by this public key and
   * issued by `issuer` (a service account's client_email); see `startTestProvider`.
   */
  jwtBearer?: { publicKey: KeyObject; issuer: string };
}

export interface TestProvider {
  /** `http://127.0.0.1:<port>`: the issuer, and the origin of every endpoint. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Scope the provider accepts for the client-credentials grant (and authorization code). */
  customScope: string;
  /** counts token endpoint requests by grant_type */
  grantCounts(): Record<string, number>;
  /**
   * Answers the next POSTs to the token endpoint with these OAuth errors (HTTP 400), one each, in
   * order, before oidc-provider sees them: e.g. `slow_down`, which oidc-provider never sends.
   */
  injectTokenErrors(errors: string[]): void;
  /** Revokes every grant with all its tokens: the next refresh gets `invalid_grant`. */
  revokeAllGrants(): Promise<void>;
  /**
   * Kills one access token early (as an admin action or a password change does) and leaves its
   * grant alone, so a refresh still works. (RFC 7009 revocation of an access token would revoke
   * the whole grant in oidc-provider.)
   */
  invalidateAccessToken(accessToken: string): void;
  /** RFC 7662 introspection as a resource server sees it: is this token active? */
  isActive(accessToken: string): Promise<boolean>;
  /**
   * Replaces the client's secret, as an admin rotating it at the provider: from the next request
   * on, only the new one is accepted. Needs `rotatableClientSecret`.
   */
  setClientSecret(secret: string): void;
  /** The `sub` of the last jwt-bearer assertion the provider accepted. */
  lastJwtBearerSubject(): string | undefined;
  /**
   * Registers one more client (oidc-provider client metadata, e.g. `token_endpoint_auth_method:
   * 'private_key_jwt'` with `jwks`), as dynamic registration would: stored in the adapter.
   */
  registerClient(metadata: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** The few members of oidc-provider 9 (which ships no type declarations) used here. */
interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  errors: { InvalidGrant: new (description: string) => Error };
}
interface OidcProvider {
  registerGrantType(
    type: string,
    handler: (ctx: GrantContext) => Promise<void>,
    parameters: string[],
  ): void;
  ClientCredentials: new (values: { client: unknown; scope: string }) => {
    save(): Promise<string>;
    expiration: number;
  };
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
}
interface KoaContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  query: Record<string, string | string[] | undefined>;
  oidc?: { params?: { grant_type?: unknown } };
}
interface GrantContext {
  oidc: { params: Record<string, unknown>; client: unknown; provider: OidcProvider };
  body: unknown;
}
interface AdapterPayload {
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumed?: number;
  /** Client metadata (model `Client`) and whatever else a model stores. */
  [property: string]: unknown;
}
interface StoredEntry {
  payload: AdapterPayload;
  expiresAt: number;
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const PROVIDER_NOTICE = /^oidc-provider (WARNING|NOTICE)/;

let filteringDepth = 0;
let unfilteredConsole: Pick<Console, 'warn' | 'info'> | undefined;

/**
 * Runs `action` with oidc-provider's console notices filtered out: on Node 20 it warns
 * "Unsupported runtime" on import (it works, see STACK-NOTES), and devInteractions warns that
 * it is for development only, which is what a test provider is.
 */
async function withoutProviderNotices<T>(action: () => Promise<T> | T): Promise<T> {
  // Counted, so that overlapping calls (providers started in parallel) restore the console once.
  if (filteringDepth++ === 0) {
    const original = { warn: console.warn, info: console.info };
    unfilteredConsole = original;
    const filtered =
      (write: (...data: unknown[]) => void) =>
      (...data: unknown[]): void => {
        if (typeof data[0] === 'string' && PROVIDER_NOTICE.test(data[0])) return;
        write.apply(console, data);
      };
    console.warn = filtered(original.warn);
    console.info = filtered(original.info);
  }
  try {
    return await action();
  } finally {
    if (--filteringDepth === 0 && unfilteredConsole !== undefined) {
      console.warn = unfilteredConsole.warn;
      console.info = unfilteredConsole.info;
    }
  }
}

let providerModule: Promise<OidcProviderModule> | undefined;
function loadOidcProvider(): Promise<OidcProviderModule> {
  // A variable specifier: the package has no types, and the import must happen while notices
  // are filtered (the runtime warning is printed when the module is evaluated).
  const specifier = 'oidc-provider';
  providerModule ??= withoutProviderNotices(() => import(specifier) as Promise<OidcProviderModule>);
  return providerModule;
}

/**
 * Starts a real oidc-provider 9 on 127.0.0.1 with one confidential client (`outlink-test`) for
 * the authorization-code, refresh-token and client-credentials grants.
 *
 * - Client authentication: the client is registered with `client_secret_basic`, and
 *   oidc-provider accepts a client secret in either the Authorization header or the body for a
 *   client registered with either secret method, so both of Outlink's methods work.
 * - Refresh tokens: issued whenever `offline_access` was granted (`issueRefreshToken`, the
 *   library default made explicit). oidc-provider itself drops `offline_access` from any
 *   authorization request without `prompt=consent`; this provider adds `prompt=consent` to
 *   requests that ask for `offline_access` and name no `prompt`, so it behaves like Microsoft:
 *   a refresh token whenever `offline_access` is requested. A request with another `prompt`
 *   (e.g. `login`) still loses it, like Google without `prompt=consent`. Without
 *   `offline_access` no refresh token is issued.
 * - `customScope` is a plain scope without a resource indicator; with no `resource` parameter
 *   the client-credentials grant issues an opaque token carrying the requested scope.
 * - PKCE is allowed (S256) but not required; the revocation endpoint is enabled; a revoked
 *   refresh token revokes its whole grant (the library default).
 * - Storage is an in-memory adapter of this instance, so grants can be revoked wholesale.
 */
export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  const { default: Provider, errors } = await loadOidcProvider();
  const clientId = 'outlink-test';
  const clientSecret = options.clientSecret ?? randomBytes(32).toString('base64url');
  const customScope = 'mail:send';
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 60;

  // The issuer must name the port, so the server listens before the provider exists.
  const app: { handle?: (request: IncomingMessage, response: ServerResponse) => void } = {};
  const server = createServer((request, response) => {
    if (app.handle === undefined) response.writeHead(503).end();
    else app.handle(request, response);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const store = new Map<string, StoredEntry>();
  const live = (key: string): StoredEntry | undefined => {
    const entry = store.get(key);
    if (entry !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry;
  };
  class TestAdapter {
    constructor(private readonly model: string) {}

    private key(id: string): string {
      return `${this.model}:${id}`;
    }

    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000;
      store.set(this.key(id), { payload, expiresAt });
      return Promise.resolve();
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      return Promise.resolve(live(this.key(id))?.payload);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findBy((payload) => payload.uid === uid);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy((payload) => payload.userCode === userCode);
    }

    private findBy(
      matches: (payload: AdapterPayload) => boolean,
    ): Promise<AdapterPayload | undefined> {
      for (const key of store.keys()) {
        const entry = key.startsWith(`${this.model}:`) ? live(key) : undefined;
        if (entry !== undefined && matches(entry.payload)) return Promise.resolve(entry.payload);
      }
      return Promise.resolve(undefined);
    }

    consume(id: string): Promise<void> {
      const entry = live(this.key(id));
      if (entry !== undefined) entry.payload.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    }

    destroy(id: string): Promise<void> {
      store.delete(this.key(id));
      return Promise.resolve();
    }

    revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, entry] of store) {
        if (key.startsWith(`${this.model}:`) && entry.payload.grantId === grantId)
          store.delete(key);
      }
      return Promise.resolve();
    }
  }

  const clientMetadata = (secret: string): AdapterPayload => ({
    client_id: clientId,
    client_secret: secret,
    redirect_uris: [options.redirectUri],
    grant_types: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      ...(options.deviceFlow === true ? [DEVICE_CODE_GRANT] : []),
    ],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  const setClientSecret = (secret: string): void => {
    if (!options.rotatableClientSecret)
      throw new Error('startTestProvider: setClientSecret needs rotatableClientSecret: true');
    store.set(`Client:${clientId}`, { payload: clientMetadata(secret), expiresAt: Infinity });
  };
  if (options.rotatableClientSecret) setClientSecret(clientSecret);

  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  });
  const provider = await withoutProviderNotices(
    () =>
      new Provider(issuer, {
        adapter: TestAdapter,
        jwks: { keys: [{ ...signingKey, kid: 'test', use: 'sig', alg: 'RS256' }] },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        clients: options.rotatableClientSecret ? [] : [clientMetadata(clientSecret)],
        scopes: ['openid', 'offline_access', 'email', 'profile', customScope],
        // Account binding (SPEC §12): the ID token carries the claims of the scopes asked for.
        claims: {
          openid: ['sub'],
          email: ['email', 'email_verified'],
          profile: ['preferred_username'],
        },
        conformIdTokenClaims: false,
        features: {
          devInteractions: { enabled: true },
          clientCredentials: { enabled: true },
          introspection: {
            enabled: true,
            // A resource server (Dovecot in the mail tests) introspects with this client.
            allowedPolicy: (
              _ctx: unknown,
              client: { clientId: string },
              token: { clientId?: string },
            ) => token.clientId === client.clientId,
          },
          deviceFlow: { enabled: options.deviceFlow === true },
          revocation: {
            enabled: true,
            // A client may revoke its own tokens only (the library default, made explicit).
            allowedPolicy: (
              _ctx: unknown,
              client: { clientId: string },
              token: { clientId: string },
            ) => token.clientId === client.clientId,
          },
        },
        pkce: { required: () => false },
        rotateRefreshToken: options.rotateRefreshToken ?? true,
        issueRefreshToken: (
          _ctx: unknown,
          client: { grantTypeAllowed(grantType: string): boolean },
          code: { scopes: Set<string> },
        ) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
        ttl: {
          AccessToken: accessTokenTtl,
          ClientCredentials: accessTokenTtl,
          AuthorizationCode: 60,
          DeviceCode: 600,
          IdToken: 3600,
          RefreshToken: 24 * 3600,
          Grant: 24 * 3600,
          Interaction: 600,
          Session: 3600,
        },
        // Whoever signs in exists: `alice` is alice@example.test, an address signs in as itself.
        findAccount: (_ctx: unknown, accountId: string) => ({
          accountId,
          claims: () => ({
            sub: accountId,
            email: accountId.includes('@') ? accountId : `${accountId}@example.test`,
            email_verified: true,
            preferred_username: accountId,
          }),
        }),
      }),
  );

  provider.use(async (ctx, next) => {
    // oidc-provider drops offline_access unless the request says prompt=consent; behave like
    // Microsoft instead (a refresh token whenever offline_access is asked for) by adding it
    // when the request names no prompt at all.
    const scope = ctx.query.scope;
    if (
      ctx.method === 'GET' &&
      ctx.path === '/auth' &&
      ctx.query.prompt === undefined &&
      typeof scope === 'string' &&
      scope.split(' ').includes('offline_access')
    ) {
      ctx.query = { ...ctx.query, prompt: 'consent' };
    }
    await next();
  });

  const injectedErrors: string[] = [];
  provider.use(async (ctx, next) => {
    const injected =
      ctx.method === 'POST' && ctx.path === '/token' ? injectedErrors.shift() : undefined;
    if (injected === undefined) return next();
    ctx.status = 400;
    ctx.body = { error: injected };
  });

  let lastJwtBearerSubject: string | undefined;
  const jwtBearer = options.jwtBearer;
  if (jwtBearer !== undefined) {
    // RFC 7523 §2.1 / §3, as Google checks a service account's assertion: signed by the
    // registered key, from the registered issuer, with a subject, for this token endpoint, unexpired.
    provider.registerGrantType(
      JWT_BEARER_GRANT,
      async (ctx) => {
        let payload: { sub?: string; scope?: unknown };
        try {
          ({ payload } = await jwtVerify(String(ctx.oidc.params.assertion), jwtBearer.publicKey, {
            issuer: jwtBearer.issuer,
            audience: `${issuer}/token`,
            requiredClaims: ['sub', 'exp', 'iat'],
            maxTokenAge: '1h',
          }));
        } catch (error) {
          // The description is what clients see (the constructor's argument is a debug detail).
          throw Object.assign(new errors.InvalidGrant('assertion refused'), {
            error_description: `assertion refused: ${(error as Error).message}`,
          });
        }
        const scope = typeof payload.scope === 'string' ? payload.scope : '';
        const token = new ctx.oidc.provider.ClientCredentials({ client: ctx.oidc.client, scope });
        lastJwtBearerSubject = payload.sub;
        ctx.body = {
          access_token: await token.save(),
          token_type: 'Bearer',
          expires_in: token.expiration,
          scope,
        };
      },
      ['assertion', 'scope'],
    );
  }
  const counts: Record<string, number> = {};
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      if (ctx.method === 'POST' && ctx.path === '/token') {
        const grantType = ctx.oidc?.params?.grant_type;
        const name = typeof grantType === 'string' ? grantType : 'unknown';
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }
  });
  app.handle = provider.callback();

  return {
    issuer,
    clientId,
    clientSecret,
    customScope,
    grantCounts: () => ({ ...counts }),
    setClientSecret,
    injectTokenErrors(errors: string[]): void {
      injectedErrors.push(...errors);
    },
    lastJwtBearerSubject: () => lastJwtBearerSubject,
    registerClient(metadata: Record<string, unknown>): void {
      store.set(`Client:${String(metadata.client_id)}`, {
        payload: metadata,
        expiresAt: Infinity,
      });
    },
    revokeAllGrants(): Promise<void> {
      for (const [key, entry] of store) {
        if (key.startsWith('Grant:') || entry.payload.grantId !== undefined) store.delete(key);
      }
      return Promise.resolve();
    },
    invalidateAccessToken(accessToken: string): void {
      // Opaque access tokens are stored under their own value.
      if (!store.delete(`AccessToken:${accessToken}`))
        throw new Error('the provider holds no such access token');
    },
    async isActive(accessToken: string): Promise<boolean> {
      const response = await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: accessToken }),
      });
      if (!response.ok) throw new Error(`introspection answered HTTP ${response.status}`);
      return ((await response.json()) as { active: boolean }).active;
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** A minimal cookie jar: oidc-provider scopes its cookies by path, but names do not clash. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const separator = pair.indexOf('=');
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/**
 * Follows an authorization URL with plain HTTP like a browser would: signs in as `login`,
 * consents, and returns the final redirect to the redirect URI (with code, state, iss) without
 * following it.
 *
 * @param options.denyConsent - abort at the consent prompt: the redirect carries
 *   `error=access_denied`
 */
export async function authorizeWithPlainHttp(
  authorizationUrl: string,
  options: { login?: string; denyConsent?: boolean } = {},
): Promise<URL> {
  const providerOrigin = new URL(authorizationUrl).origin;
  const jar = new CookieJar();
  const send = async (url: URL, body?: URLSearchParams): Promise<Response> => {
    const response = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body,
    });
    jar.store(response);
    return response;
  };

  let next = new URL(authorizationUrl);
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 20; step += 1) {
    const response = await send(next, body);
    body = undefined;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      const target = new URL(location, next);
      if (target.origin !== providerOrigin) return target;
      next = target;
      continue;
    }
    const page = await response.text();
    if (response.status !== 200) {
      throw new Error(`authorization stopped at ${next.pathname} with HTTP ${response.status}`);
    }
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    if (prompt === 'login') {
      body = new URLSearchParams({
        prompt: 'login',
        login: options.login ?? 'alice',
        password: 'x',
      });
    } else if (prompt === 'consent' && options.denyConsent === true) {
      next = new URL(`${next.pathname.replace(/\/$/, '')}/abort`, next);
    } else if (prompt === 'consent') {
      body = new URLSearchParams({ prompt: 'consent' });
    } else {
      throw new Error(`unexpected page at ${next.pathname} (HTTP ${response.status})`);
    }
  }
  throw new Error('authorization did not reach the redirect URI within 20 steps');
}

/**
 * Plays the user of a device authorization (RFC 8628) with plain HTTP: opens the verification
 * URL with the code filled in, confirms the code, signs in as `login` and consents (or, with
 * `deny`, cancels at the consent prompt, which makes the device code's grant `access_denied`).
 *
 * @returns the title of the last page (oidc-provider's "Sign-in Success" when approved)
 */
export async function approveDeviceAuthorization(
  verificationUriComplete: string,
  options: { login?: string; deny?: boolean } = {},
): Promise<string> {
  const jar = new CookieJar();
  let next = new URL(verificationUriComplete);
  let body: URLSearchParams | undefined;
  let aborted = false;
  for (let step = 0; step < 20; step += 1) {
    const response = await fetch(next, {
      method: body === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body,
    });
    jar.store(response);
    body = undefined;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      next = new URL(location, next);
      continue;
    }
    const page = await response.text();
    if (response.status !== 200) {
      throw new Error(`device approval stopped at ${next.pathname} with HTTP ${response.status}`);
    }
    // After a cancel the provider shows its abort page, with a form to enter another code.
    if (aborted) return /<title>([^<]*)<\/title>/.exec(page)?.[1] ?? '';
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    // The code entry and confirmation pages are forms of hidden fields (xsrf, user_code, confirm).
    const form = /<form[^>]*method="post" action="([^"]+)"/.exec(page)?.[1];
    if (prompt === 'login') {
      body = new URLSearchParams({
        prompt: 'login',
        login: options.login ?? 'alice',
        password: 'x',
      });
    } else if (prompt === 'consent' && options.deny === true) {
      next = new URL(`${next.pathname.replace(/\/$/, '')}/abort`, next);
      aborted = true;
    } else if (prompt === 'consent') {
      body = new URLSearchParams({ prompt: 'consent' });
    } else if (form !== undefined && prompt === undefined) {
      body = new URLSearchParams(
        [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map(
          (match): [string, string] => [match[1], match[2]],
        ),
      );
      next = new URL(form, next);
    } else {
      return /<title>([^<]*)<\/title>/.exec(page)?.[1] ?? '';
    }
  }
  throw new Error('device approval did not finish within 20 steps');
}
