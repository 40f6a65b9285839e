import type { ClientKey } from './client-key.js';
import type { TokenIdentity } from './id-token-identity.js';
import type { ServiceAccountKey } from './service-account-key.js';

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
