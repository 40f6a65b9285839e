import { Injectable, Logger } from '@nestjs/common';
import * as openid from 'openid-client';
import { AppConfig } from '../config/app-config.js';
import { OutboundHttp } from '../outbound/outbound-http.js';
import {
  classifyAndLog,
  newObservation,
  type Observation,
} from './provider-error-classification.js';
import { identityFromIdToken, type TokenIdentity } from './id-token-identity.js';
import { observingFetch, toTokenSet } from './provider-http.js';
import { ProviderCallError } from './provider-error.js';
import { certificateThumbprint, signingKeyOf, type ClientKey } from './client-key.js';
import { signJwtBearerAssertion, type ServiceAccountKey } from './service-account-key.js';

/** How the client authenticates at the token and revocation endpoints (RFC 6749 §2.3.1). */
export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  // SPEC §15: RFC 7523 client assertions
  | 'private_key_jwt';

/** The key and certificate a `private_key_jwt` client signs its assertions with. */
export interface ClientAssertionKey {
  key: ClientKey;
  /** PEM; its `x5t#S256` is the assertion's `kid` and `x5t#S256` header. */
  certificate: string;
}

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
  /** RFC 8628 device authorization endpoint; absent or null when the server offers none. */
  deviceAuthorizationEndpoint?: string | null;
}

/** What a device authorization endpoint answered (RFC 8628 §3.2), reduced to what Outlink uses. */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresIn: number;
  /** seconds between polls; null when the server named none (RFC 8628: then 5) */
  interval: number | null;
}

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** Everything needed to talk to one authorization server as one client. */
export interface ProviderClientSettings {
  clientId: string;
  /** Null for a public client: it then authenticates with its client id only (`none`). */
  clientSecret: string | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  server: OAuthServer;
  /** SPEC §15: set for `private_key_jwt`, else null. */
  privateKey?: ClientAssertionKey | null;
  /** SPEC §15: the service account key and user of a `jwt_bearer` link, else null. */
  assertionGrant?: { key: ServiceAccountKey; subject: string | null } | null;
}

/** RFC 7523 §2.1: the grant type of an assertion used as an authorization grant. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

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
  /** seconds the refresh token lives, when the provider says (`refresh_token_expires_in`) */
  refreshTokenExpiresIn: number | null;
  /** Who consented, from the ID token of an authorization-code exchange (SPEC §12); else null. */
  identity: TokenIdentity | null;
}

/**
 * The door to openid-client for every exchange with a known server (ProviderDiscovery finds
 * servers): TLS policy, timeouts, client authentication and error classification live here.
 *
 * It holds no state between calls; each call builds its openid-client Configuration from the
 * settings it is given.
 */
@Injectable()
export class ProviderClient {
  private readonly logger = new Logger(ProviderClient.name);

  constructor(
    private readonly config: AppConfig,
    private readonly http: OutboundHttp,
  ) {}

  /**
   * Builds the URL of an authorization request. `response_type=code` and `client_id` are added
   * unless given; everything else (`redirect_uri`, `scope`, `state`, `code_challenge`, preset and
   * link parameters) comes from `parameters`, in order.
   *
   * @param settings - the link's client and server
   * @param parameters - the query parameters to send
   * @returns the absolute authorization URL
   * @throws ProviderCallError `rejected` when the server has no authorization endpoint, or it is
   *   plain http while insecure endpoints are not allowed
   */
  authorizationUrl(settings: ProviderClientSettings, parameters: Record<string, string>): string {
    const observation = newObservation();
    try {
      return openid.buildAuthorizationUrl(this.configuration(settings, observation), parameters)
        .href;
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the authorization endpoint');
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
   * @throws ProviderCallError `rejected` for an error response (`oauthError` e.g. `access_denied`), a
   *   state or issuer mismatch, or a refused exchange; `invalid_grant` for a bad, used or expired
   *   code or a PKCE mismatch; `invalid_client`; `transient`
   */
  async exchangeAuthorizationCode(
    settings: ProviderClientSettings,
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
      return {
        ...toTokenSet(response),
        identity: identityFromIdToken(observation.idToken, settings.clientId),
      };
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the token endpoint');
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
   * @throws ProviderCallError `invalid_grant` when the grant is expired or revoked; `invalid_client`;
   *   `rejected`; `transient`
   */
  async refresh(settings: ProviderClientSettings, refreshToken: string): Promise<TokenSet> {
    const observation = newObservation();
    try {
      const response = await openid.refreshTokenGrant(
        this.configuration(settings, observation),
        refreshToken,
      );
      return toTokenSet(response);
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the token endpoint');
    }
  }

  /**
   * Requests a token with the client-credentials grant.
   *
   * @param settings - the link's client and server
   * @param scopes - sent space-separated as `scope`; omitted when empty
   * @returns the token (providers issue no refresh token for this grant)
   * @throws ProviderCallError `invalid_client`; `rejected` (e.g. `invalid_scope`); `transient`
   */
  async clientCredentials(settings: ProviderClientSettings, scopes: string[]): Promise<TokenSet> {
    const observation = newObservation();
    const parameters: Record<string, string> = scopes.length > 0 ? { scope: scopes.join(' ') } : {};
    try {
      const response = await openid.clientCredentialsGrant(
        this.configuration(settings, observation),
        parameters,
      );
      return toTokenSet(response);
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the token endpoint');
    }
  }

  /**
   * SPEC §15: exchanges a freshly signed assertion for a token (RFC 7523 §2.1 jwt-bearer grant),
   * e.g. a Google service account acting as `subject`. The assertion's `aud` is the token
   * endpoint it is sent to, and its scopes are in the assertion (as Google wants them).
   *
   * @param settings - the link's client and server; `assertionGrant` must be set
   * @param scopes - the assertion's `scope` claim; omitted when empty
   * @returns the token; a refresh token, if one came, is dropped (a new assertion replaces it)
   * @throws ProviderCallError `invalid_grant` when the provider refuses the assertion;
   *   `invalid_client`; `rejected` (e.g. `unauthorized_client`: no domain-wide delegation);
   *   `transient`
   */
  async jwtBearer(settings: ProviderClientSettings, scopes: string[]): Promise<TokenSet> {
    const grant = settings.assertionGrant;
    if (!grant) throw new ProviderCallError('rejected', 'the link has no service account key');
    const observation = newObservation();
    try {
      const assertion = await signJwtBearerAssertion(
        grant.key,
        {
          issuer: settings.clientId,
          subject: grant.subject,
          audience: settings.server.tokenEndpoint,
          scopes,
        },
        new Date(),
      );
      const response = await openid.genericGrantRequest(
        this.configuration(settings, observation),
        JWT_BEARER_GRANT_TYPE,
        { assertion },
      );
      return { ...toTokenSet(response), refreshToken: null };
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the token endpoint');
    }
  }

  /**
   * Starts a device authorization (RFC 8628 §3.1).
   *
   * @param settings - the link's client and server; `server.deviceAuthorizationEndpoint` must be set
   * @param scopes - sent space-separated as `scope`; omitted when empty
   * @returns the device code (a secret: store it encrypted), the user code and where to enter it
   * @throws ProviderCallError `rejected` when no endpoint is known or the server refuses;
   *   `invalid_client`; `transient`
   */
  async startDeviceAuthorization(
    settings: ProviderClientSettings,
    scopes: string[],
  ): Promise<DeviceAuthorization> {
    if (!settings.server.deviceAuthorizationEndpoint) {
      throw new ProviderCallError(
        'rejected',
        'the provider has no known device authorization endpoint',
      );
    }
    const observation = newObservation();
    const parameters: Record<string, string> = scopes.length > 0 ? { scope: scopes.join(' ') } : {};
    try {
      const response = await openid.initiateDeviceAuthorization(
        this.configuration(settings, observation),
        parameters,
      );
      return {
        deviceCode: response.device_code,
        userCode: response.user_code,
        verificationUri: response.verification_uri,
        verificationUriComplete: response.verification_uri_complete ?? null,
        expiresIn: response.expires_in,
        interval: typeof response.interval === 'number' ? response.interval : null,
      };
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the device authorization endpoint');
    }
  }

  /**
   * Asks the token endpoint once whether a device authorization was approved (RFC 8628 §3.4).
   * One request, no waiting: the caller owns the polling schedule (openid-client's own poller
   * sleeps in-process, which cannot be shared between replicas or survive a restart).
   *
   * @param settings - the link's client and server
   * @param deviceCode - the device code from {@link startDeviceAuthorization}
   * @returns the tokens once the user approved
   * @throws ProviderCallError `rejected` with `oauthError` `authorization_pending`, `slow_down`,
   *   `access_denied` or `expired_token` (RFC 8628 §3.5); `invalid_grant`; `invalid_client`;
   *   `transient`
   */
  async pollDeviceAuthorization(
    settings: ProviderClientSettings,
    deviceCode: string,
  ): Promise<TokenSet> {
    const observation = newObservation();
    try {
      const response = await openid.genericGrantRequest(
        this.configuration(settings, observation),
        DEVICE_CODE_GRANT_TYPE,
        { device_code: deviceCode },
      );
      return toTokenSet(response);
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the token endpoint');
    }
  }

  /**
   * Revokes a token at the revocation endpoint (RFC 7009). Revoking a refresh token usually
   * revokes the whole grant.
   *
   * @param settings - the link's client and server; `server.revocationEndpoint` must be set
   * @param token - the token to revoke
   * @param tokenTypeHint - what the token is
   * @throws ProviderCallError `rejected` when no revocation endpoint is known or the provider refuses;
   *   `invalid_client`; `transient`
   */
  async revoke(
    settings: ProviderClientSettings,
    token: string,
    tokenTypeHint: 'refresh_token' | 'access_token',
  ): Promise<void> {
    if (settings.server.revocationEndpoint === null) {
      throw new ProviderCallError('rejected', 'the provider has no known revocation endpoint');
    }
    const observation = newObservation();
    try {
      await openid.tokenRevocation(this.configuration(settings, observation), token, {
        token_type_hint: tokenTypeHint,
      });
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the revocation endpoint');
    }
  }

  private configuration(
    settings: ProviderClientSettings,
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
      ...(server.deviceAuthorizationEndpoint && {
        device_authorization_endpoint: server.deviceAuthorizationEndpoint,
      }),
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

function clientAuthentication(settings: ProviderClientSettings): openid.ClientAuth {
  if (settings.tokenEndpointAuthMethod === 'private_key_jwt')
    return privateKeyJwt(settings.privateKey ?? null, settings.server.tokenEndpoint);
  // SPEC §15: a jwt-bearer request without a client secret sends just the grant, as Google
  // documents it; the assertion identifies the client (RFC 7521 §4.1).
  if (settings.clientSecret === null && settings.assertionGrant) return () => undefined;
  if (settings.clientSecret === null) return openid.None();
  switch (settings.tokenEndpointAuthMethod) {
    case 'client_secret_basic':
      return openid.ClientSecretBasic(settings.clientSecret);
    case 'client_secret_post':
      return openid.ClientSecretPost(settings.clientSecret);
  }
}

/**
 * RFC 7523 client assertions through openid-client's PrivateKeyJwt. The key is imported per call
 * (ClientAuth may be async; the configuration is built synchronously). The assertion names the
 * certificate (`kid` and `x5t#S256`, which Entra looks up) and its `aud` is the token endpoint,
 * which Entra and Google require and RFC 7523 §3 allows (openid-client's default is the issuer).
 */
function privateKeyJwt(key: ClientAssertionKey | null, tokenEndpoint: string): openid.ClientAuth {
  // openid-client types ClientAuth as returning void, but oauth4webapi awaits it (openid-client's
  // own PrivateKeyJwt is async), so an async one is safe.
  type AsyncClientAuth = (...args: Parameters<openid.ClientAuth>) => Promise<void>;
  const authenticate: AsyncClientAuth = async (server, client, body, headers) => {
    if (key === null) throw new ProviderCallError('rejected', 'the link has no private key');
    const thumbprint = certificateThumbprint(key.certificate);
    const signed = openid.PrivateKeyJwt(
      { key: await signingKeyOf(key.key), kid: thumbprint },
      {
        [openid.modifyAssertion]: (header, payload) => {
          header['x5t#S256'] = thumbprint;
          payload.aud = tokenEndpoint;
        },
      },
    ) as unknown as AsyncClientAuth;
    await signed(server, client, body, headers);
  };
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- awaited, see above
  return authenticate;
}
