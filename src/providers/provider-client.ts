import { Injectable, Logger } from '@nestjs/common';
import * as openid from 'openid-client';
import { AppConfig } from '../config/app-config.js';
import { OutboundHttp } from '../outbound/outbound-http.js';
import {
  classifyAndLog,
  newObservation,
  type Observation,
} from './provider-error-classification.js';
import { identityFromIdToken } from './id-token-identity.js';
import { jwtBearerAssertion } from './client-authentication.js';
import { openidConfiguration } from './openid-configuration.js';
import { observingFetch, toDeviceAuthorization, toTokenSet } from './provider-http.js';
import { ProviderCallError } from './provider-error.js';
import type {
  DeviceAuthorization,
  ProviderClientSettings,
  TokenSet,
} from './provider-client.types.js';

/** RFC 8628 §3.4 and RFC 7523 §2.1 grants, which openid-client sends as generic grant requests. */
const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * The door to openid-client for every exchange with a known server (ProviderDiscovery finds
 * servers). It holds no state between calls: each call builds its Configuration from the settings
 * it is given (openid-configuration.ts) and classifies whatever fails.
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
    return this.call(settings, 'the token endpoint', async (configuration, observation) => {
      const response = await openid.authorizationCodeGrant(configuration, callbackUrl, {
        expectedState: checks.expectedState,
        pkceCodeVerifier: checks.codeVerifier ?? undefined,
      });
      return {
        ...toTokenSet(response),
        identity: identityFromIdToken(observation.idToken, settings.clientId),
      };
    });
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
    return this.call(settings, 'the token endpoint', async (configuration) =>
      toTokenSet(await openid.refreshTokenGrant(configuration, refreshToken)),
    );
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
    return this.call(settings, 'the token endpoint', async (configuration) =>
      toTokenSet(await openid.clientCredentialsGrant(configuration, scopeParameter(scopes))),
    );
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
    return this.call(settings, 'the token endpoint', async (configuration) => {
      const assertion = await jwtBearerAssertion(settings, grant, scopes, new Date());
      const response = await openid.genericGrantRequest(configuration, JWT_BEARER_GRANT_TYPE, {
        assertion,
      });
      return { ...toTokenSet(response), refreshToken: null };
    });
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
    return this.call(settings, 'the device authorization endpoint', async (configuration) =>
      toDeviceAuthorization(
        await openid.initiateDeviceAuthorization(configuration, scopeParameter(scopes)),
      ),
    );
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
    return this.call(settings, 'the token endpoint', async (configuration) =>
      toTokenSet(
        await openid.genericGrantRequest(configuration, DEVICE_CODE_GRANT_TYPE, {
          device_code: deviceCode,
        }),
      ),
    );
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
    await this.call(settings, 'the revocation endpoint', (configuration) =>
      openid.tokenRevocation(configuration, token, { token_type_hint: tokenTypeHint }),
    );
  }

  /**
   * One request with a Configuration of its own; whatever fails is classified from what the
   * fetch observed, naming `endpoint` in the log.
   */
  private async call<T>(
    settings: ProviderClientSettings,
    endpoint: string,
    request: (configuration: openid.Configuration, observation: Observation) => Promise<T>,
  ): Promise<T> {
    const observation = newObservation();
    try {
      return await request(this.configuration(settings, observation), observation);
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, endpoint);
    }
  }

  private configuration(
    settings: ProviderClientSettings,
    observation: Observation,
  ): openid.Configuration {
    return openidConfiguration(settings, {
      timeoutSeconds: this.config.providerTimeoutSeconds,
      allowInsecureEndpoints: this.config.allowInsecureEndpoints,
      fetch: observingFetch(this.http, observation),
    });
  }
}

/** `scope` as one space-separated parameter, or nothing when no scopes are asked for. */
function scopeParameter(scopes: string[]): Record<string, string> {
  return scopes.length > 0 ? { scope: scopes.join(' ') } : {};
}
