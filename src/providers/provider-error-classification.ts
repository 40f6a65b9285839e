import type { Logger } from '@nestjs/common';
import * as openid from 'openid-client';
import {
  OutboundError,
  OutboundResponseRefused,
  OutboundAddressRefused,
} from '../outbound/outbound.errors.js';
import {
  OAUTH_ERROR_CODE,
  ProviderCallError,
  type ProviderCallErrorDetails,
} from './provider-error.js';

/** What the HTTP layer saw during one exchange; errors are classified from it. */
export interface Observation {
  status: number | null;
  retryAfter: string | null;
  /** The request never got a complete answer: connection refused or reset, DNS, timeout. */
  networkFailure: boolean;
  /** What the network failure was, for a debug log line only (SPEC §11: not for admins). */
  networkDetail: string | null;
  /** The outbound policy refused the address, a redirect or an oversized answer. */
  refusal: OutboundError | null;
  /** The `id_token` of a token response, taken out before openid-client sees it (provider-http.ts). */
  idToken: string | null;
}

export function newObservation(): Observation {
  return {
    status: null,
    retryAfter: null,
    networkFailure: false,
    networkDetail: null,
    refusal: null,
    idToken: null,
  };
}

/** `TypeError: fetch failed (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1)`: no secret in it. */
export function networkDetailOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Not `instanceof Error`: Node's socket errors may come from another realm (jest's vm contexts).
  const cause: unknown = error.cause;
  if (cause === null || typeof cause !== 'object') return `${error.name}: ${error.message}`;
  const code = codeOf(cause);
  const message = 'message' in cause && typeof cause.message === 'string' ? cause.message : '';
  return `${error.name}: ${error.message} (${[code, message].filter(Boolean).join(': ')})`;
}

const TRANSIENT_OAUTH_ERRORS = new Set(['temporarily_unavailable', 'server_error']);
const CLIENT_OAUTH_ERRORS = new Set(['invalid_client', 'unauthorized_client']);

/**
 * Turns anything openid-client (or fetch) threw into a ProviderCallError (SPEC §7). Facts come from
 * the observation first (did a request go out, what status came back), then from the error.
 */
export function classify(
  error: unknown,
  observation: Observation,
  endpoint: string,
): ProviderCallError {
  if (error instanceof ProviderCallError) return error;

  if (error instanceof openid.AuthorizationResponseError) {
    const oauthError = safeErrorCode(error.error);
    return new ProviderCallError(
      'rejected',
      `the provider answered the authorization request with ${oauthError ?? 'an error'}`,
      { oauthError, description: error.error_description ?? null },
    );
  }

  const refusal = observation.refusal;
  if (refusal instanceof OutboundAddressRefused) {
    return new ProviderCallError(
      'rejected',
      `Outlink did not connect to ${endpoint}: ${refusal.message}`,
    );
  }
  if (refusal instanceof OutboundResponseRefused) {
    const said =
      refusal.reason === 'redirect'
        ? 'with a redirect, which Outlink does not follow'
        : 'with more than 1 MiB';
    // A redirect will come again; an oversized answer is a broken one, like malformed JSON.
    return new ProviderCallError(
      refusal.reason === 'redirect' ? 'rejected' : 'transient',
      `${endpoint} answered HTTP ${refusal.status} ${said}`,
      { httpStatus: refusal.status },
    );
  }

  if (observation.networkFailure || isTimeout(error)) {
    // One sentence for every failure without an HTTP answer: telling a refused connection from a
    // reset or a timeout would make discovery a port scanner (SPEC §11). The detail is logged.
    return new ProviderCallError(
      'transient',
      `${endpoint} gave no HTTP answer (unreachable, not speaking HTTP, or too slow)`,
      { httpStatus: observation.status },
    );
  }

  const status = observation.status;
  if (status === null) return rejectedBeforeSending(error);
  if (codeOf(error) === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    // The only such check on a successful answer: a discovery document for another issuer.
    return new ProviderCallError(
      'rejected',
      `${endpoint} names another issuer than the one requested`,
      { httpStatus: status },
    );
  }

  const { oauthError, description } = oauthErrorOf(error);
  const details: ProviderCallErrorDetails = {
    oauthError,
    description,
    httpStatus: status,
    retryAfterSeconds: parseRetryAfter(observation.retryAfter),
  };
  const answered = `${endpoint} answered HTTP ${status}${oauthError === null ? '' : ` ${oauthError}`}`;

  if (
    status === 429 ||
    status >= 500 ||
    (oauthError !== null && TRANSIENT_OAUTH_ERRORS.has(oauthError))
  ) {
    return new ProviderCallError('transient', answered, details);
  }
  if (oauthError === 'invalid_grant')
    return new ProviderCallError('invalid_grant', answered, details);
  if ((oauthError !== null && CLIENT_OAUTH_ERRORS.has(oauthError)) || status === 401) {
    return new ProviderCallError('invalid_client', answered, details);
  }
  if (oauthError !== null) return new ProviderCallError('rejected', answered, details);
  if (status >= 300) {
    return new ProviderCallError('rejected', `${answered} without an OAuth error`, details);
  }
  if (codeOf(error) === 'OAUTH_UNSUPPORTED_OPERATION') {
    return new ProviderCallError(
      'rejected',
      `${endpoint} answered with an unsupported token type`,
      details,
    );
  }
  return new ProviderCallError(
    'transient',
    `${endpoint} answered with a malformed response`,
    details,
  );
}

/** Failures before any request went out: Outlink's own checks refused to go on. */
function rejectedBeforeSending(error: unknown): ProviderCallError {
  const code = codeOf(error);
  // openid-client wraps oauth4webapi's specific error in a generic one; the specific one says
  // which check failed.
  const specific = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = specific instanceof Error ? specific.message : '';
  if (code === 'OAUTH_HTTP_REQUEST_FORBIDDEN' || code === 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN') {
    return new ProviderCallError(
      'rejected',
      'the provider endpoint is not https:// (plain http needs ALLOW_INSECURE_ENDPOINTS=true)',
    );
  }
  if (code === 'OAUTH_MISSING_SERVER_METADATA' || code === 'OAUTH_INVALID_SERVER_METADATA') {
    return new ProviderCallError('rejected', 'the provider endpoint is missing or not a valid URL');
  }
  if (/"state"/.test(message)) {
    return new ProviderCallError(
      'rejected',
      'the state of the authorization response does not match the request',
    );
  }
  if (/"iss"/.test(message)) {
    return new ProviderCallError(
      'rejected',
      'the iss of the authorization response does not match the expected issuer',
    );
  }
  // openid-client's messages are fixed sentences; the values they are about sit in `cause`.
  return new ProviderCallError(
    'rejected',
    `the request was not sent: ${message || 'invalid input'}`,
  );
}

function oauthErrorOf(error: unknown): { oauthError: string | null; description: string | null } {
  if (error instanceof openid.ResponseBodyError) {
    return {
      oauthError: safeErrorCode(error.error),
      description: typeof error.error_description === 'string' ? error.error_description : null,
    };
  }
  if (error instanceof openid.WWWAuthenticateChallengeError) {
    const parameters = error.cause[0]?.parameters;
    return {
      oauthError: safeErrorCode(parameters?.error),
      description: parameters?.error_description ?? null,
    };
  }
  return { oauthError: null, description: null };
}

function safeErrorCode(value: unknown): string | null {
  return typeof value === 'string' && OAUTH_ERROR_CODE.test(value) ? value : null;
}

function codeOf(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object' || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isTimeout(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT';
}

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP date.
 *
 * @param value - the header value, or null
 * @param now - the current time in epoch milliseconds
 * @returns whole seconds to wait (0 for a date in the past), or null when absent or unparseable
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  // An HTTP date always names its weekday or month; this keeps Date.parse from reading "-5".
  const date = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * {@link classify}, and the detail of a network failure logged at debug: the admin-facing
 * message does not tell a closed port from a silent one (SPEC §11), an operator may need to.
 */
export function classifyAndLog(
  logger: Logger,
  error: unknown,
  observation: Observation,
  endpoint: string,
): ProviderCallError {
  const classified = classify(error, observation, endpoint);
  if (observation.networkFailure) {
    logger.debug(`${endpoint} gave no HTTP answer: ${observation.networkDetail ?? 'unknown'}`);
  }
  return classified;
}
