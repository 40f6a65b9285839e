import * as openid from 'openid-client';
import { clientAuthentication } from './client-authentication.js';
import type { ProviderClientSettings } from './provider-client.types.js';

/** How every request reaches a provider, whichever link it is for. */
export interface ProviderTransport {
  timeoutSeconds: number;
  /** openid-client refuses plain http unless this is on (ALLOW_INSECURE_ENDPOINTS). */
  allowInsecureEndpoints: boolean;
  /** The fetch through the outbound policy that records what the provider answered. */
  fetch: openid.CustomFetch;
}

/**
 * The openid-client Configuration for one request: the link's server as metadata (nothing is
 * discovered here), its client id and authentication, and the transport.
 *
 * @param settings - the link's client and server
 * @param transport - timeout, insecure-endpoint policy and fetch
 * @returns a Configuration to use for one request
 */
export function openidConfiguration(
  settings: ProviderClientSettings,
  transport: ProviderTransport,
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
  configuration.timeout = transport.timeoutSeconds;
  configuration[openid.customFetch] = transport.fetch;
  if (transport.allowInsecureEndpoints) openid.allowInsecureRequests(configuration);
  return configuration;
}
