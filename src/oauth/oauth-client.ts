import { Injectable, Logger } from '@nestjs/common';
import * as openid from 'openid-client';
import { AppConfig } from '../config/app-config.js';
import { OutboundHttp } from '../outbound/outbound-http.js';
import {
  OutboundAddressRefused,
  OutboundError,
  OutboundResponseRefused,
} from '../outbound/outbound.errors.js';

/** How the client authenticates at the token and revocation endpoints (RFC 6749 §2.3.1). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** The endpoints of an authorization server, as stored on a link. */
export interface OAuthServer {
  /**
   * The issuer expected in RFC 9207 `iss` callback parameters: the discovered issuer, or for
   * explicit endpoints the authorization endpoint's origin (SPEC §10).
   */
  issuer: string;
  /** Null for servers used only with the client-credentials grant. */
  authorizationEndpoint: string | null;
  tokenEndpoint: string;
  revocationEndpoint: string | null;
}

/** Everything needed to talk to one authorization server as one client. */
export interface OAuthClientSettings {
  clientId: string;
  /** Null for a public client: it then authenticates with its client id only (`none`). */
  clientSecret: string | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  server: OAuthServer;
}

/** An authorization server found through OpenID Connect or RFC 8414 discovery. */
export interface DiscoveredServer extends OAuthServer {
  /** the metadata subset worth storing */
  metadata: Record<string, unknown>;
}

/** A token endpoint answer, reduced to what Outlink keeps. */
export interface TokenSet {
  accessToken: string;
  /** `Bearer` (or `DPoP`), normalised from the provider's case-insensitive value. */
  tokenType: string;
  /** seconds, null when the provider gave no expires_in */
  expiresIn: number | null;
  /** Null when none was issued; after a refresh that means "keep the previous one". */
  refreshToken: string | null;
  /** space-separated scope string as granted, null when absent */
  scope: string | null;
}

/**
 * What a failed provider exchange means for the link (SPEC §7):
 * - `invalid_grant`: the grant is gone for good; an admin must authorize again;
 * - `invalid_client`: the provider rejects the client itself (id, secret, or its permissions);
 * - `rejected`: the provider (or Outlink's own checks) refused this one request; retrying it
 *   unchanged will not help;
 * - `transient`: the provider was unreachable, slow, overloaded or answered garbage; retry later.
 */
export type ProviderFailureKind = 'invalid_grant' | 'invalid_client' | 'rejected' | 'transient';

/** Details of a {@link ProviderError}, all optional. */
export interface ProviderErrorDetails {
  oauthError?: string | null;
  description?: string | null;
  httpStatus?: number | null;
  retryAfterSeconds?: number | null;
}

const MAX_DESCRIPTION_LENGTH = 500;
// RFC 6749 §5.2: error codes are printable ASCII without '"' and '\'.
const OAUTH_ERROR_CODE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

/**
 * A failed exchange with an authorization server, classified by what the caller should do next.
 *
 * Its message is written by Outlink and never contains a token, code, client secret or PKCE
 * verifier, so it may be logged and stored as a link's `lastError`. It carries no `cause`: the
 * underlying library errors hold request parameters and response bodies.
 */
export class ProviderError extends Error {
  /** What the failure means for the link. */
  readonly kind: ProviderFailureKind;
  /** The OAuth `error` code the provider sent (`invalid_grant`, `access_denied`, ...), if any. */
  readonly oauthError: string | null;
  /** The provider's `error_description`, cut to 500 characters; not part of the message. */
  readonly description: string | null;
  /** The HTTP status of the provider's answer; null when no answer arrived. */
  readonly httpStatus: number | null;
  /** From a `Retry-After` header (seconds or HTTP date), when the provider sent one. */
  readonly retryAfterSeconds: number | null;

  /**
   * @param kind - the classification
   * @param message - a human sentence without any secret
   * @param details - what the provider said, when it said anything
   */
  constructor(kind: ProviderFailureKind, message: string, details: ProviderErrorDetails = {}) {
    super(message);
    this.name = 'ProviderError';
    this.kind = kind;
    this.oauthError = details.oauthError ?? null;
    this.description =
      details.description === undefined || details.description === null
        ? null
        : details.description.slice(0, MAX_DESCRIPTION_LENGTH);
    this.httpStatus = details.httpStatus ?? null;
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
  }
}

/** What the HTTP layer saw during one exchange; errors are classified from it. */
interface Observation {
  status: number | null;
  retryAfter: string | null;
  /** The request never got a complete answer: connection refused or reset, DNS, timeout. */
  networkFailure: boolean;
  /** What the network failure was, for a debug log line only (SPEC §11: not for admins). */
  networkDetail: string | null;
  /** The outbound policy refused the address, a redirect or an oversized answer. */
  refusal: OutboundError | null;
}

/** Discovery metadata fields worth keeping beside a link. */
const STORED_METADATA_FIELDS = [
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'revocation_endpoint',
  'scopes_supported',
  'response_types_supported',
  'grant_types_supported',
  'code_challenge_methods_supported',
  'token_endpoint_auth_methods_supported',
  'revocation_endpoint_auth_methods_supported',
  'authorization_response_iss_parameter_supported',
] as const;

/**
 * The only door to openid-client: every OAuth exchange of Outlink goes through here, so TLS
 * policy, timeouts, client authentication and error classification live in one place.
 *
 * It holds no state between calls; each call builds its openid-client Configuration from the
 * settings it is given.
 */
@Injectable()
export class OAuthClient {
  private readonly logger = new Logger(OAuthClient.name);

  constructor(
    private readonly config: AppConfig,
    private readonly http: OutboundHttp,
  ) {}

  /**
   * Discovers an authorization server from its issuer: OpenID Connect discovery first, then
   * RFC 8414 (`/.well-known/oauth-authorization-server`) when the former is not served.
   *
   * @param issuer - the issuer identifier, an absolute URL
   * @returns the endpoints and the metadata subset worth storing
   * @throws ProviderError `rejected` when the issuer is not a URL, the document is missing, its
   *   issuer differs, or it names no token endpoint; `transient` when the server is unreachable
   */
  async discover(issuer: string): Promise<DiscoveredServer> {
    let issuerUrl: URL;
    try {
      issuerUrl = new URL(issuer);
    } catch {
      throw new ProviderError('rejected', 'the issuer is not an absolute URL');
    }
    let metadata: openid.ServerMetadata;
    try {
      metadata = await this.discoverWith(issuerUrl, 'oidc');
    } catch (firstError) {
      if (!(firstError instanceof ProviderError) || firstError.kind !== 'rejected')
        throw firstError;
      try {
        metadata = await this.discoverWith(issuerUrl, 'oauth2');
      } catch {
        throw firstError;
      }
    }
    if (typeof metadata.token_endpoint !== 'string') {
      throw new ProviderError('rejected', 'the discovery document names no token_endpoint');
    }
    const stored: Record<string, unknown> = {};
    for (const field of STORED_METADATA_FIELDS) {
      if (metadata[field] !== undefined) stored[field] = metadata[field];
    }
    return {
      issuer: metadata.issuer,
      authorizationEndpoint: metadata.authorization_endpoint ?? null,
      tokenEndpoint: metadata.token_endpoint,
      revocationEndpoint: metadata.revocation_endpoint ?? null,
      metadata: stored,
    };
  }

  private async discoverWith(
    issuer: URL,
    algorithm: 'oidc' | 'oauth2',
  ): Promise<openid.ServerMetadata> {
    const observation = newObservation();
    try {
      // The client id is irrelevant: only the server metadata of the result is used.
      const configuration = await openid.discovery(
        issuer,
        'outlink-discovery',
        undefined,
        undefined,
        {
          algorithm,
          timeout: this.config.providerTimeoutSeconds,
          [openid.customFetch]: observingFetch(this.http, observation),
          execute: this.config.allowInsecureEndpoints ? [openid.allowInsecureRequests] : [],
        },
      );
      return { ...configuration.serverMetadata() };
    } catch (error) {
      throw this.classified(error, observation, 'the discovery document');
    }
  }

  /**
   * Builds the URL of an authorization request. `response_type=code` and `client_id` are added
   * unless given; everything else (`redirect_uri`, `scope`, `state`, `code_challenge`, preset and
   * link parameters) comes from `parameters`, in order.
   *
   * @param settings - the link's client and server
   * @param parameters - the query parameters to send
   * @returns the absolute authorization URL
   * @throws ProviderError `rejected` when the server has no authorization endpoint, or it is
   *   plain http while insecure endpoints are not allowed
   */
  authorizationUrl(settings: OAuthClientSettings, parameters: Record<string, string>): string {
    const observation = newObservation();
    try {
      return openid.buildAuthorizationUrl(this.configuration(settings, observation), parameters)
        .href;
    } catch (error) {
      throw this.classified(error, observation, 'the authorization endpoint');
    }
  }

  /**
   * Checks the authorization response that reached the callback (state, RFC 9207 `iss`, `error`)
   * and exchanges its code at the token endpoint.
   *
   * @param settings - the link's client and server; `server.issuer` is the expected `iss`
   * @param callbackUrl - the registered redirect URL plus the query the provider sent. Its origin
   *   and path are sent as `redirect_uri`, so build it from the configured redirect URL, not from
   *   the incoming request's Host (a proxy may change that).
   * @param checks - the state sent with the authorization request, and the PKCE verifier if one
   *   was used
   * @returns the tokens
   * @throws ProviderError `rejected` for an error response (`oauthError` e.g. `access_denied`), a
   *   state or issuer mismatch, or a refused exchange; `invalid_grant` for a bad, used or expired
   *   code or a PKCE mismatch; `invalid_client`; `transient`
   */
  async exchangeAuthorizationCode(
    settings: OAuthClientSettings,
    callbackUrl: URL,
    checks: { expectedState: string; codeVerifier: string | null },
  ): Promise<TokenSet> {
    const observation = newObservation();
    try {
      const response = await openid.authorizationCodeGrant(
        this.configuration(settings, observation),
        callbackUrl,
        {
          expectedState: checks.expectedState,
          pkceCodeVerifier: checks.codeVerifier ?? undefined,
        },
      );
      return toTokenSet(response);
    } catch (error) {
      throw this.classified(error, observation, 'the token endpoint');
    }
  }

  /**
   * Uses a refresh token. Call it at most once at a time per grant: a provider that rotates
   * refresh tokens revokes the whole grant when a used one is replayed.
   *
   * @param settings - the link's client and server
   * @param refreshToken - the current refresh token
   * @returns the new tokens; `refreshToken` is null when the provider did not rotate it, and
   *   the caller keeps the old one
   * @throws ProviderError `invalid_grant` when the grant is expired or revoked; `invalid_client`;
   *   `rejected`; `transient`
   */
  async refresh(settings: OAuthClientSettings, refreshToken: string): Promise<TokenSet> {
    const observation = newObservation();
    try {
      const response = await openid.refreshTokenGrant(
        this.configuration(settings, observation),
        refreshToken,
      );
      return toTokenSet(response);
    } catch (error) {
      throw this.classified(error, observation, 'the token endpoint');
    }
  }

  /**
   * Requests a token with the client-credentials grant.
   *
   * @param settings - the link's client and server
   * @param scopes - sent space-separated as `scope`; omitted when empty
   * @returns the token (providers issue no refresh token for this grant)
   * @throws ProviderError `invalid_client`; `rejected` (e.g. `invalid_scope`); `transient`
   */
  async clientCredentials(settings: OAuthClientSettings, scopes: string[]): Promise<TokenSet> {
    const observation = newObservation();
    const parameters: Record<string, string> = scopes.length > 0 ? { scope: scopes.join(' ') } : {};
    try {
      const response = await openid.clientCredentialsGrant(
        this.configuration(settings, observation),
        parameters,
      );
      return toTokenSet(response);
    } catch (error) {
      throw this.classified(error, observation, 'the token endpoint');
    }
  }

  /**
   * Revokes a token at the revocation endpoint (RFC 7009). Revoking a refresh token usually
   * revokes the whole grant.
   *
   * @param settings - the link's client and server; `server.revocationEndpoint` must be set
   * @param token - the token to revoke
   * @param tokenTypeHint - what the token is
   * @throws ProviderError `rejected` when no revocation endpoint is known or the provider refuses;
   *   `invalid_client`; `transient`
   */
  async revoke(
    settings: OAuthClientSettings,
    token: string,
    tokenTypeHint: 'refresh_token' | 'access_token',
  ): Promise<void> {
    if (settings.server.revocationEndpoint === null) {
      throw new ProviderError('rejected', 'the provider has no known revocation endpoint');
    }
    const observation = newObservation();
    try {
      await openid.tokenRevocation(this.configuration(settings, observation), token, {
        token_type_hint: tokenTypeHint,
      });
    } catch (error) {
      throw this.classified(error, observation, 'the revocation endpoint');
    }
  }

  /**
   * {@link classify}, and the detail of a network failure logged at debug: the admin-facing
   * message does not tell a closed port from a silent one (SPEC §11), an operator may need to.
   */
  private classified(error: unknown, observation: Observation, endpoint: string): ProviderError {
    const classified = classify(error, observation, endpoint);
    if (observation.networkFailure) {
      this.logger.debug(
        `${endpoint} gave no HTTP answer: ${observation.networkDetail ?? 'unknown'}`,
      );
    }
    return classified;
  }

  private configuration(
    settings: OAuthClientSettings,
    observation: Observation,
  ): openid.Configuration {
    const { server } = settings;
    const metadata: openid.ServerMetadata = {
      issuer: server.issuer,
      token_endpoint: server.tokenEndpoint,
      ...(server.authorizationEndpoint !== null && {
        authorization_endpoint: server.authorizationEndpoint,
      }),
      ...(server.revocationEndpoint !== null && { revocation_endpoint: server.revocationEndpoint }),
    };
    const configuration = new openid.Configuration(
      metadata,
      settings.clientId,
      undefined,
      clientAuthentication(settings),
    );
    configuration.timeout = this.config.providerTimeoutSeconds;
    configuration[openid.customFetch] = observingFetch(this.http, observation);
    if (this.config.allowInsecureEndpoints) openid.allowInsecureRequests(configuration);
    return configuration;
  }
}

/**
 * A random `state` for an authorization request (openid-client's generator: 32 random bytes,
 * base64url).
 *
 * @returns the state value
 */
export function generateState(): string {
  return openid.randomState();
}

/**
 * A PKCE pair (RFC 7636) for an authorization request, using S256.
 *
 * @returns the verifier to keep (encrypted) until the callback, and the challenge to send
 */
export async function generatePkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = openid.randomPKCECodeVerifier();
  return { verifier, challenge: await openid.calculatePKCECodeChallenge(verifier) };
}

function clientAuthentication(settings: OAuthClientSettings): openid.ClientAuth {
  if (settings.clientSecret === null) return openid.None();
  switch (settings.tokenEndpointAuthMethod) {
    case 'client_secret_basic':
      return openid.ClientSecretBasic(settings.clientSecret);
    case 'client_secret_post':
      return openid.ClientSecretPost(settings.clientSecret);
  }
}

function newObservation(): Observation {
  return {
    status: null,
    retryAfter: null,
    networkFailure: false,
    networkDetail: null,
    refusal: null,
  };
}

/**
 * A fetch through the outbound policy that records what the provider answered, so errors can be
 * classified from facts.
 */
function observingFetch(http: OutboundHttp, observation: Observation): openid.CustomFetch {
  return async (url, options) => {
    try {
      const response = await http.fetch(url, options);
      observation.status = response.status;
      observation.retryAfter = response.headers.get('retry-after');
      return await withoutIdToken(response);
    } catch (error) {
      if (error instanceof OutboundError) {
        observation.refusal = error;
        if (error instanceof OutboundResponseRefused) observation.status = error.status;
      } else {
        observation.networkFailure = true;
        observation.networkDetail = networkDetailOf(error);
      }
      throw error;
    }
  };
}

/** `TypeError: fetch failed (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1)`: no secret in it. */
function networkDetailOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Not `instanceof Error`: Node's socket errors may come from another realm (jest's vm contexts).
  const cause: unknown = error.cause;
  if (cause === null || typeof cause !== 'object') return `${error.name}: ${error.message}`;
  const code = codeOf(cause);
  const message = 'message' in cause && typeof cause.message === 'string' ? cause.message : '';
  return `${error.name}: ${error.message} (${[code, message].filter(Boolean).join(': ')})`;
}

/**
 * Outlink is an OAuth client, never a relying party: it uses no identity, so an `id_token` in a
 * token response (when an admin adds the `openid` scope) is dropped before openid-client would
 * validate it. Its checks (issuer equal to the configured one, signing algorithm, clock skew)
 * could only turn a usable access token into a failure.
 */
async function withoutIdToken(response: Response): Promise<Response> {
  if (response.status !== 200) return response;
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return response;
  const text = await response.text();
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  const init = { status: response.status, statusText: response.statusText, headers };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, init);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('id_token' in body)) {
    return new Response(text, init);
  }
  const withoutIt: Record<string, unknown> = { ...body };
  delete withoutIt.id_token;
  return new Response(JSON.stringify(withoutIt), init);
}

function toTokenSet(response: openid.TokenEndpointResponse): TokenSet {
  return {
    accessToken: response.access_token,
    tokenType: normaliseTokenType(response.token_type),
    expiresIn: typeof response.expires_in === 'number' ? response.expires_in : null,
    refreshToken: response.refresh_token ?? null,
    scope: typeof response.scope === 'string' && response.scope !== '' ? response.scope : null,
  };
}

function normaliseTokenType(tokenType: string): string {
  switch (tokenType.toLowerCase()) {
    case 'bearer':
      return 'Bearer';
    case 'dpop':
      return 'DPoP';
    default:
      return tokenType;
  }
}

const TRANSIENT_OAUTH_ERRORS = new Set(['temporarily_unavailable', 'server_error']);
const CLIENT_OAUTH_ERRORS = new Set(['invalid_client', 'unauthorized_client']);

/**
 * Turns anything openid-client (or fetch) threw into a ProviderError (SPEC §7). Facts come from
 * the observation first (did a request go out, what status came back), then from the error.
 */
function classify(error: unknown, observation: Observation, endpoint: string): ProviderError {
  if (error instanceof ProviderError) return error;

  if (error instanceof openid.AuthorizationResponseError) {
    const oauthError = safeErrorCode(error.error);
    return new ProviderError(
      'rejected',
      `the provider answered the authorization request with ${oauthError ?? 'an error'}`,
      { oauthError, description: error.error_description ?? null },
    );
  }

  const refusal = observation.refusal;
  if (refusal instanceof OutboundAddressRefused) {
    return new ProviderError(
      'rejected',
      `Outlink did not connect to ${endpoint}: ${refusal.message}`,
    );
  }
  if (refusal instanceof OutboundResponseRefused) {
    const said =
      refusal.reason === 'redirect'
        ? 'with a redirect, which Outlink does not follow'
        : 'with more than 1 MiB';
    // A redirect will come again; an oversized answer is a broken one, like malformed JSON.
    return new ProviderError(
      refusal.reason === 'redirect' ? 'rejected' : 'transient',
      `${endpoint} answered HTTP ${refusal.status} ${said}`,
      { httpStatus: refusal.status },
    );
  }

  if (observation.networkFailure || isTimeout(error)) {
    // One sentence for every failure without an HTTP answer: telling a refused connection from a
    // reset or a timeout would make discovery a port scanner (SPEC §11). The detail is logged.
    return new ProviderError(
      'transient',
      `${endpoint} gave no HTTP answer (unreachable, not speaking HTTP, or too slow)`,
      { httpStatus: observation.status },
    );
  }

  const status = observation.status;
  if (status === null) return rejectedBeforeSending(error);
  if (codeOf(error) === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    // The only such check on a successful answer: a discovery document for another issuer.
    return new ProviderError(
      'rejected',
      `${endpoint} names another issuer than the one requested`,
      { httpStatus: status },
    );
  }

  const { oauthError, description } = oauthErrorOf(error);
  const details: ProviderErrorDetails = {
    oauthError,
    description,
    httpStatus: status,
    retryAfterSeconds: parseRetryAfter(observation.retryAfter),
  };
  const answered = `${endpoint} answered HTTP ${status}${oauthError === null ? '' : ` ${oauthError}`}`;

  if (
    status === 429 ||
    status >= 500 ||
    (oauthError !== null && TRANSIENT_OAUTH_ERRORS.has(oauthError))
  ) {
    return new ProviderError('transient', answered, details);
  }
  if (oauthError === 'invalid_grant') return new ProviderError('invalid_grant', answered, details);
  if ((oauthError !== null && CLIENT_OAUTH_ERRORS.has(oauthError)) || status === 401) {
    return new ProviderError('invalid_client', answered, details);
  }
  if (oauthError !== null) return new ProviderError('rejected', answered, details);
  if (status >= 300) {
    return new ProviderError('rejected', `${answered} without an OAuth error`, details);
  }
  if (codeOf(error) === 'OAUTH_UNSUPPORTED_OPERATION') {
    return new ProviderError(
      'rejected',
      `${endpoint} answered with an unsupported token type`,
      details,
    );
  }
  return new ProviderError('transient', `${endpoint} answered with a malformed response`, details);
}

/** Failures before any request went out: Outlink's own checks refused to go on. */
function rejectedBeforeSending(error: unknown): ProviderError {
  const code = codeOf(error);
  // openid-client wraps oauth4webapi's specific error in a generic one; the specific one says
  // which check failed.
  const specific = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = specific instanceof Error ? specific.message : '';
  if (code === 'OAUTH_HTTP_REQUEST_FORBIDDEN' || code === 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN') {
    return new ProviderError(
      'rejected',
      'the provider endpoint is not https:// (plain http needs ALLOW_INSECURE_ENDPOINTS=true)',
    );
  }
  if (code === 'OAUTH_MISSING_SERVER_METADATA' || code === 'OAUTH_INVALID_SERVER_METADATA') {
    return new ProviderError('rejected', 'the provider endpoint is missing or not a valid URL');
  }
  if (/"state"/.test(message)) {
    return new ProviderError(
      'rejected',
      'the state of the authorization response does not match the request',
    );
  }
  if (/"iss"/.test(message)) {
    return new ProviderError(
      'rejected',
      'the iss of the authorization response does not match the expected issuer',
    );
  }
  // openid-client's messages are fixed sentences; the values they are about sit in `cause`.
  return new ProviderError('rejected', `the request was not sent: ${message || 'invalid input'}`);
}

function oauthErrorOf(error: unknown): { oauthError: string | null; description: string | null } {
  if (error instanceof openid.ResponseBodyError) {
    return {
      oauthError: safeErrorCode(error.error),
      description: typeof error.error_description === 'string' ? error.error_description : null,
    };
  }
  if (error instanceof openid.WWWAuthenticateChallengeError) {
    const parameters = error.cause[0]?.parameters;
    return {
      oauthError: safeErrorCode(parameters?.error),
      description: parameters?.error_description ?? null,
    };
  }
  return { oauthError: null, description: null };
}

function safeErrorCode(value: unknown): string | null {
  return typeof value === 'string' && OAUTH_ERROR_CODE.test(value) ? value : null;
}

function codeOf(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object' || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isTimeout(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT';
}

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP date.
 *
 * @param value - the header value, or null
 * @param now - the current time in epoch milliseconds
 * @returns whole seconds to wait (0 for a date in the past), or null when absent or unparseable
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  // An HTTP date always names its weekday or month; this keeps Date.parse from reading "-5".
  const date = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
