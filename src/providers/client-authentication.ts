import * as openid from 'openid-client';
import { certificateThumbprint, signingKeyOf } from './client-key.js';
import { ProviderCallError } from './provider-error.js';
import type { ClientAssertionKey, ProviderClientSettings } from './provider-client.types.js';
import { signJwtBearerAssertion, type ServiceAccountKey } from './service-account-key.js';

/**
 * How the client proves who it is at the token and revocation endpoints: a client secret (basic or
 * post), a signed client assertion (`private_key_jwt`), or nothing beyond its id.
 *
 * @param settings - the link's client and server
 * @returns the openid-client ClientAuth to build a Configuration with
 */
export function clientAuthentication(settings: ProviderClientSettings): openid.ClientAuth {
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

/**
 * SPEC §15: the RFC 7523 §2.1 assertion a `jwt_bearer` link sends as its grant: signed with the
 * service account key, issued by the client id, `aud` the token endpoint it goes to, and the
 * scopes inside it (as Google wants them).
 *
 * @param settings - the link's client and server
 * @param grant - the service account key and the user it acts as (null: the account itself)
 * @param scopes - the assertion's `scope` claim; omitted when empty
 * @param now - when the assertion is issued
 * @returns the signed assertion
 */
export function jwtBearerAssertion(
  settings: ProviderClientSettings,
  grant: { key: ServiceAccountKey; subject: string | null },
  scopes: string[],
  now: Date,
): Promise<string> {
  return signJwtBearerAssertion(
    grant.key,
    {
      issuer: settings.clientId,
      subject: grant.subject,
      audience: settings.server.tokenEndpoint,
      scopes,
    },
    now,
  );
}
