import type { GrantType, LinkStatus } from '../links/link.entity.js';

/** What the token endpoint needs to know about a link, with its access token decrypted. */
export interface TokenState {
  linkId: string;
  status: LinkStatus;
  grantType: GrantType;
  accessToken: string | null;
  tokenType: string | null;
  /** null: the provider gave no expiry. */
  expiresAt: Date | null;
  /**
   * When Outlink treats the token as expired: expiresAt, or for a token without one its age
   * reaching ASSUMED_TOKEN_LIFETIME_SECONDS; null: never (only a forced refresh renews it).
   */
  renewBy: Date | null;
  scopes: string[];
  refreshTokenPresent: boolean;
  refreshNotBefore: Date | null;
  lastError: { code: string; message: string; at: string } | null;
}

/** Clock skew allowed between Outlink and the provider; the only margin (SPEC §10). */
export const CLOCK_SKEW_MS = 1_000;

/** True when the state holds an access token valid for at least `minValiditySeconds` more. */
export function isValidFor(
  state: Pick<TokenState, 'accessToken' | 'renewBy'>,
  minValiditySeconds: number,
  now = Date.now(),
): boolean {
  if (state.accessToken === null) return false;
  if (state.renewBy === null) return true;
  return state.renewBy.getTime() - now - CLOCK_SKEW_MS >= minValiditySeconds * 1000;
}

/** renewBy of a token: its expiry, or when a token without one is assumed to have expired. */
export function renewByOf(
  expiresAt: Date | null,
  obtainedAt: Date | null,
  assumedLifetimeSeconds: number,
): Date | null {
  if (expiresAt !== null) return expiresAt;
  if (assumedLifetimeSeconds <= 0 || obtainedAt === null) return null;
  return new Date(obtainedAt.getTime() + assumedLifetimeSeconds * 1000);
}
