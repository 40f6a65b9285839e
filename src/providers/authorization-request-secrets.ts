import * as openid from 'openid-client';

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
