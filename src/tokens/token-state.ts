import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppError } from '../common/app-error.js';
import type { GrantType, LinkAccount, LinkStatus } from '../links/link.entity.js';
import { TokenErrors } from './tokens.errors.js';

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
  /** When the provider issued this access token (as far as Outlink knows); null: none held. */
  obtainedAt: Date | null;
  scopes: string[];
  refreshTokenPresent: boolean;
  refreshNotBefore: Date | null;
  lastError: { code: string; message: string; at: string } | null;
  /** Who consented (SPEC §12), null when unknown. */
  account: LinkAccount | null;
  /** The mailbox the admin named in the link's mail settings (SPEC §12, §15), null when none. */
  mailUser: string | null;
  /** jwt_bearer: the user the service account acts as (SPEC §15), null otherwise. */
  subject: string | null;
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

/**
 * Whether an on-demand request may be served this token as it is (SPEC §11 refresh budget): it is
 * valid for `minValiditySeconds`, or it is still valid and was obtained less than
 * `minRefreshIntervalSeconds` ago. The provider's tokens then live shorter than asked for, and
 * refreshing again would only burn a refresh (and an audit event) per call. An expired token
 * never passes.
 */
export function mayServeOnDemand(
  state: Pick<TokenState, 'accessToken' | 'renewBy' | 'obtainedAt'>,
  minValiditySeconds: number,
  minRefreshIntervalSeconds: number,
  now = Date.now(),
): boolean {
  if (isValidFor(state, minValiditySeconds, now)) return true;
  if (state.obtainedAt === null || !isValidFor(state, 0, now)) return false;
  return now - state.obtainedAt.getTime() < minRefreshIntervalSeconds * 1000;
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

/** Links that cannot be renewed answer with what the admin must do. */
export function assertRenewable(state: TokenState): void {
  switch (state.status) {
    case 'connected':
      return;
    case 'pending_authorization':
      // Connects with its first token (SPEC §15: so does a jwt_bearer link).
      if (state.grantType === 'client_credentials' || state.grantType === 'jwt_bearer') return;
      throw TokenErrors.notConnected();
    case 'reauthorization_required':
      throw TokenErrors.reauthorizationRequired(state);
    case 'error':
      throw TokenErrors.linkError(state);
  }
}

/** The answer while a failing provider is left alone (SPEC §7 backoff), or undefined. */
export function backoffError(
  state: Pick<TokenState, 'refreshNotBefore'>,
  now = Date.now(),
): AppError | undefined {
  const notBefore = state.refreshNotBefore;
  if (notBefore === null || notBefore.getTime() <= now) return undefined;
  return TokenErrors.providerUnavailable(
    Math.max(1, Math.ceil((notBefore.getTime() - now) / 1000)),
    'backing off after failures',
  );
}

/**
 * Whether a token a consumer reports as rejected is the one the state holds. Both sides are
 * hashed first so the constant-time comparison sees equal lengths and learns nothing from them.
 */
export function isSameToken(state: Pick<TokenState, 'accessToken'>, reported: string): boolean {
  if (state.accessToken === null) return false;
  const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
  return timingSafeEqual(digest(state.accessToken), digest(reported));
}

/**
 * What to do about a token a resource server refused (SPEC §12, POST /token/renew):
 * - `another_token`: the link already holds a different token; serve it (the usual on-demand
 *   rule decides whether that one needs a refresh);
 * - `renew`: it is the current token: renew it, once per refresh budget (an expired one always);
 * - `too_soon`: it is the current token but was obtained less than MIN_REFRESH_INTERVAL_SECONDS
 *   ago: serve it unchanged, so one consumer that keeps failing (a wrong mailbox) cannot make
 *   Outlink refresh on every call.
 */
export function rejectionOutcome(
  state: Pick<TokenState, 'accessToken' | 'renewBy' | 'obtainedAt'>,
  rejectedAccessToken: string,
  minRefreshIntervalSeconds: number,
  now = Date.now(),
): 'another_token' | 'renew' | 'too_soon' {
  if (!isSameToken(state, rejectedAccessToken)) return 'another_token';
  if (!isValidFor(state, 0, now) || state.obtainedAt === null) return 'renew';
  return now - state.obtainedAt.getTime() < minRefreshIntervalSeconds * 1000 ? 'too_soon' : 'renew';
}
