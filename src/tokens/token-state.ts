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
  scopes: string[];
  refreshTokenPresent: boolean;
  refreshNotBefore: Date | null;
  lastError: { code: string; message: string; at: string } | null;
}

/** Clock skew allowed between Outlink and the provider; the only margin (SPEC §10). */
export const CLOCK_SKEW_MS = 1_000;

/** True when the state holds an access token valid for at least `minValiditySeconds` more. */
export function isValidFor(
  state: Pick<TokenState, 'accessToken' | 'expiresAt'>,
  minValiditySeconds: number,
  now = Date.now(),
): boolean {
  if (state.accessToken === null) return false;
  if (state.expiresAt === null) return true;
  return state.expiresAt.getTime() - now - CLOCK_SKEW_MS >= minValiditySeconds * 1000;
}
