import { decodeJwt } from 'jose';

/** Who an ID token names (SPEC §12 account binding). */
export interface TokenIdentity {
  subject: string;
  email: string | null;
  username: string | null;
}

/** Longest claim value kept: an e-mail address's maximum, plenty for a login name. */
const MAX_CLAIM_LENGTH = 320;

function claim(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_LENGTH
    ? value
    : null;
}

/**
 * Reads who consented from the ID token of an authorization-code exchange, or null when there is
 * none or it is not for this client. The signature is not checked: the token came straight from
 * the token endpoint over the connection Outlink opened, which OpenID Connect Core 3.1.3.7 lets a
 * client trust instead (and openid-client never sees it, see provider-http.ts).
 *
 * @param idToken - the `id_token` of the token response, if any
 * @param clientId - the link's client id; the token's `aud` must name it
 * @returns subject, e-mail (`email`) and username (`preferred_username`, else Microsoft's `upn`)
 */
export function identityFromIdToken(
  idToken: string | null,
  clientId: string,
): TokenIdentity | null {
  if (idToken === null) return null;
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(idToken);
  } catch {
    return null;
  }
  const audience = claims.aud;
  const forThisClient = Array.isArray(audience)
    ? audience.includes(clientId)
    : audience === clientId;
  const subject = claim(claims.sub);
  if (!forThisClient || subject === null) return null;
  return {
    subject,
    email: claim(claims.email),
    username: claim(claims.preferred_username) ?? claim(claims.upn),
  };
}
