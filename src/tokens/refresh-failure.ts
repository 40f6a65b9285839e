import type { AppError } from '../common/app-error.js';
import type { GrantType, LinkLastError, LinkStatus } from '../links/link.entity.js';
import type { ProviderCallError } from '../providers/provider-error.js';
import {
  actionForLink,
  diagnoseProviderFailure,
  NO_REFRESH_TOKEN,
  type FailureDiagnosis,
} from '../providers/provider-failures.js';
import { nextAttemptDelayMs } from './refresh-backoff.js';
import { TokenErrors } from './tokens.errors.js';

/** What a failed refresh means for the link, and what the caller is answered. */
export interface RefreshFailure {
  status: LinkStatus;
  lastError: LinkLastError;
  error: AppError;
  /** When the provider may be called again; null: no backoff (the failure is not transient). */
  notBefore: Date | null;
  /** Consecutive transient failures, for the backoff. */
  failures: number;
}

/**
 * Maps a provider's refusal to the link's next state (SPEC §7): `invalid_grant` needs consent
 * again, a refused client is an `error` for the admin, anything transient keeps the status and
 * backs off. Pure: the clock and the jitter are parameters.
 */
export function describeRefreshFailure(
  error: ProviderCallError,
  link: { id?: string; status: LinkStatus; refreshFailures: number; grantType?: GrantType },
  now: Date = new Date(),
  random: () => number = Math.random,
): RefreshFailure {
  const at = now.toISOString();
  const said = error.description ? ` (${error.description})` : '';
  // Who must act and how (SPEC §13), from the provider's own words.
  const diagnosed = (diagnosis: FailureDiagnosis): FailureDiagnosis =>
    link.id === undefined ? diagnosis : actionForLink(diagnosis, link.id);
  const diagnosis = diagnosed(
    diagnoseProviderFailure({ error: error.oauthError, description: error.description }),
  );
  // SPEC §15: a refused assertion is fixed by the admin (key, subject, delegation), not by consent.
  if (link.grantType === 'jwt_bearer' && error.kind === 'invalid_grant') {
    const lastError = {
      code: 'invalid_grant',
      message: `The provider refused the signed assertion${said}: check the service account key, the subject and (Google) the domain-wide delegation of the client id and scopes.`,
      at,
      ...diagnosis,
      ...(diagnosis.reason === 'unknown' && {
        reason: 'assertion_refused',
        actor: 'outlink_admin' as const,
        action:
          'Check the service account key (serviceAccountKey), the subject and, for Google, the domain-wide delegation of the client id and scopes.',
      }),
    };
    return {
      status: 'error',
      lastError,
      error: TokenErrors.linkError({ lastError }),
      notBefore: null,
      failures: 0,
    };
  }
  switch (error.kind) {
    case 'invalid_grant': {
      const lastError = {
        code: 'invalid_grant',
        message: `The provider rejected the refresh token${said}: consent was revoked, or the token expired or was replaced.`,
        at,
        ...diagnosis,
      };
      return {
        status: 'reauthorization_required',
        lastError,
        error: TokenErrors.reauthorizationRequired({ lastError }),
        notBefore: null,
        failures: 0,
      };
    }
    case 'invalid_client':
    case 'rejected': {
      const lastError = {
        code: error.oauthError ?? error.kind,
        message:
          error.kind === 'invalid_client'
            ? `The provider rejected the client id or secret${said}. Client secrets expire (Microsoft: AADSTS7000222); set a new one.`
            : `The provider refused the refresh: ${error.message}${said}.`,
        at,
        ...diagnosis,
      };
      return {
        status: 'error',
        lastError,
        error: TokenErrors.linkError({ lastError }),
        notBefore: null,
        failures: 0,
      };
    }
    case 'transient': {
      const failures = link.refreshFailures + 1;
      const delayMs = nextAttemptDelayMs(failures, error.retryAfterSeconds, random);
      const lastError = {
        code: 'provider_unavailable',
        message: `The provider is unavailable: ${error.message}.`,
        at,
        reason: 'provider_unavailable',
        actor: 'provider_admin' as const,
        action:
          "Nothing, unless it lasts: Outlink retries with backoff. If it does, check the provider's status page and the network between Outlink and the provider.",
      };
      return {
        status: link.status,
        lastError,
        error: TokenErrors.providerUnavailable(Math.ceil(delayMs / 1000), error.message),
        notBefore: new Date(now.getTime() + delayMs),
        failures,
      };
    }
  }
}

/** An authorization-code link whose access token expired and that holds no refresh token. */
export function noRefreshTokenFailure(now: Date = new Date()): RefreshFailure {
  const error = TokenErrors.noRefreshToken();
  return {
    status: 'reauthorization_required',
    lastError: {
      code: 'no_refresh_token',
      message: error.detail,
      at: now.toISOString(),
      ...NO_REFRESH_TOKEN,
    },
    error,
    notBefore: null,
    failures: 0,
  };
}
