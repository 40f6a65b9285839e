import type * as openid from 'openid-client';
import type { OutboundHttp } from '../outbound/outbound-http.js';
import { OutboundError, OutboundResponseRefused } from '../outbound/outbound.errors.js';
import { networkDetailOf, type Observation } from './provider-error-classification.js';
import type { DeviceAuthorization, TokenSet } from './provider-client.types.js';

/**
 * A fetch through the outbound policy that records what the provider answered, so errors can be
 * classified from facts.
 */
export function observingFetch(http: OutboundHttp, observation: Observation): openid.CustomFetch {
  return async (url, options) => {
    try {
      const response = await http.fetch(url, options);
      observation.status = response.status;
      observation.retryAfter = response.headers.get('retry-after');
      return await withoutIdToken(response, observation);
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

/**
 * Outlink is an OAuth client, never a relying party: it uses no identity, so an `id_token` in a
 * token response (when an admin adds the `openid` scope) is dropped before openid-client would
 * validate it. Its checks (issuer equal to the configured one, signing algorithm, clock skew)
 * could only turn a usable access token into a failure.
 */
async function withoutIdToken(response: Response, observation: Observation): Promise<Response> {
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
  // Kept aside for the account binding (SPEC §12, id-token-identity.ts), which checks its audience.
  if (typeof body.id_token === 'string') observation.idToken = body.id_token;
  const withoutIt: Record<string, unknown> = { ...body };
  delete withoutIt.id_token;
  return new Response(JSON.stringify(withoutIt), init);
}

export function toTokenSet(response: openid.TokenEndpointResponse): TokenSet {
  return {
    accessToken: response.access_token,
    tokenType: normaliseTokenType(response.token_type),
    expiresIn: typeof response.expires_in === 'number' ? response.expires_in : null,
    refreshToken: response.refresh_token ?? null,
    scope: typeof response.scope === 'string' && response.scope !== '' ? response.scope : null,
    // Not in RFC 6749, but sent by Entra (SPAs), GitHub apps and others (SPEC §13 forecast).
    refreshTokenExpiresIn:
      typeof response.refresh_token_expires_in === 'number' &&
      Number.isFinite(response.refresh_token_expires_in) &&
      response.refresh_token_expires_in > 0
        ? response.refresh_token_expires_in
        : null,
    identity: null,
  };
}

export function toDeviceAuthorization(
  response: openid.DeviceAuthorizationResponse,
): DeviceAuthorization {
  return {
    deviceCode: response.device_code,
    userCode: response.user_code,
    verificationUri: response.verification_uri,
    verificationUriComplete: response.verification_uri_complete ?? null,
    expiresIn: response.expires_in,
    interval: typeof response.interval === 'number' ? response.interval : null,
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
