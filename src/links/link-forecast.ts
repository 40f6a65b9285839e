import type { LinkStatus } from './link.entity.js';

/** Days ahead of an expiry at which `expiring` is announced (SPEC §13), largest first. */
export const NOTICE_DAYS_AHEAD = [14, 3, 1] as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What can expire on a link. */
export type ExpirySubject = 'refresh_token' | 'client_secret' | 'next_client_secret';

/** The next thing that will break the link, in the words of lastError (SPEC §13). */
export interface NextRisk {
  reason: 'refresh_token_expires' | 'client_secret_expires';
  /** When it happens (ISO 8601); in the past when it already has. */
  at: string;
  /** Whole days left, rounded down; negative once past. */
  daysLeft: number;
  actor: 'outlink_admin' | 'provider_admin';
  action: string;
}

/** The link as the forecast sees it. */
export interface ForecastInput {
  id: string;
  status: LinkStatus;
  refreshTokenPresent: boolean;
  refreshTokenExpiresAt: Date | null;
  clientSecretExpiresAt: Date | null;
  /** A next secret replaces the current one when it expires (SPEC §13), so its expiry is the risk. */
  hasNextClientSecret?: boolean;
  nextClientSecretExpiresAt?: Date | null;
}

/** An expiry the forecast watches, with what to do about it. */
export interface WatchedExpiry {
  subject: ExpirySubject;
  expiresAt: Date;
  reason: NextRisk['reason'];
  actor: NextRisk['actor'];
  action: string;
}

/** The expiries that matter for this link: a refresh token only while it is in use. */
export function watchedExpiries(link: ForecastInput): WatchedExpiry[] {
  const watched: WatchedExpiry[] = [];
  if (link.refreshTokenExpiresAt && link.refreshTokenPresent && link.status === 'connected') {
    watched.push({
      subject: 'refresh_token',
      expiresAt: link.refreshTokenExpiresAt,
      reason: 'refresh_token_expires',
      actor: 'outlink_admin',
      action: `Authorize the link again before ${link.refreshTokenExpiresAt.toISOString()} (POST /v1/links/${link.id}/authorize): the provider ends the grant then.`,
    });
  }
  if (link.hasNextClientSecret) {
    if (link.nextClientSecretExpiresAt) {
      watched.push({
        subject: 'next_client_secret',
        expiresAt: link.nextClientSecretExpiresAt,
        reason: 'client_secret_expires',
        actor: 'provider_admin',
        action: `Create a new client secret at the provider and PATCH /v1/links/${link.id} with it as nextClientSecret (and nextClientSecretExpiresAt) before ${link.nextClientSecretExpiresAt.toISOString()}.`,
      });
    }
  } else if (link.clientSecretExpiresAt) {
    watched.push({
      subject: 'client_secret',
      expiresAt: link.clientSecretExpiresAt,
      reason: 'client_secret_expires',
      actor: 'provider_admin',
      action: `Create a new client secret at the provider and PATCH /v1/links/${link.id} with it as nextClientSecret (and nextClientSecretExpiresAt) before ${link.clientSecretExpiresAt.toISOString()}.`,
    });
  }
  return watched;
}

/** The soonest watched expiry, or null when nothing is known to expire. Pure. */
export function nextRisk(link: ForecastInput, now: Date): NextRisk | null {
  const soonest = watchedExpiries(link).sort(
    (a, b) => a.expiresAt.getTime() - b.expiresAt.getTime(),
  )[0];
  if (!soonest) return null;
  return {
    reason: soonest.reason,
    at: soonest.expiresAt.toISOString(),
    daysLeft: Math.floor((soonest.expiresAt.getTime() - now.getTime()) / DAY_MS),
    actor: soonest.actor,
    action: soonest.action,
  };
}

/**
 * The notice due for an expiry now: the smallest threshold (14, 3, 1 days) it is within, or null
 * when it is further away or already past. Only the most urgent one is announced, so a secret
 * entered 2 days before it expires gets the 3-day notice, not the 14-day one as well. Pure.
 */
export function dueNoticeDaysAhead(expiresAt: Date, now: Date): number | null {
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return null;
  const due = NOTICE_DAYS_AHEAD.filter((days) => left <= days * DAY_MS);
  return due.length === 0 ? null : due[due.length - 1];
}
