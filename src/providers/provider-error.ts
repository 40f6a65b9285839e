/**
 * The error of a failed call to a provider (a token, revocation or discovery endpoint), named so
 * that it cannot be confused with an unknown provider preset (providers.errors.ts).
 */
/**
 * What a failed provider exchange means for the link (SPEC §7):
 * - `invalid_grant`: the grant is gone for good; an admin must authorize again;
 * - `invalid_client`: the provider rejects the client itself (id, secret, or its permissions);
 * - `rejected`: the provider (or Outlink's own checks) refused this one request; retrying it
 *   unchanged will not help;
 * - `transient`: the provider was unreachable, slow, overloaded or answered garbage; retry later.
 */
export type ProviderFailureKind = 'invalid_grant' | 'invalid_client' | 'rejected' | 'transient';

/** Details of a {@link ProviderCallError}, all optional. */
export interface ProviderCallErrorDetails {
  oauthError?: string | null;
  description?: string | null;
  httpStatus?: number | null;
  retryAfterSeconds?: number | null;
}

const MAX_DESCRIPTION_LENGTH = 500;
// RFC 6749 §5.2: error codes are printable ASCII without '"' and '\'.
export const OAUTH_ERROR_CODE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

/**
 * A failed exchange with an authorization server, classified by what the caller should do next.
 *
 * Its message is written by Outlink and never contains a token, code, client secret or PKCE
 * verifier, so it may be logged and stored as a link's `lastError`. It carries no `cause`: the
 * underlying library errors hold request parameters and response bodies.
 */
export class ProviderCallError extends Error {
  /** What the failure means for the link. */
  readonly kind: ProviderFailureKind;
  /** The OAuth `error` code the provider sent (`invalid_grant`, `access_denied`, ...), if any. */
  readonly oauthError: string | null;
  /** The provider's `error_description`, cut to 500 characters; not part of the message. */
  readonly description: string | null;
  /** The HTTP status of the provider's answer; null when no answer arrived. */
  readonly httpStatus: number | null;
  /** From a `Retry-After` header (seconds or HTTP date), when the provider sent one. */
  readonly retryAfterSeconds: number | null;

  /**
   * @param kind - the classification
   * @param message - a human sentence without any secret
   * @param details - what the provider said, when it said anything
   */
  constructor(kind: ProviderFailureKind, message: string, details: ProviderCallErrorDetails = {}) {
    super(message);
    this.name = 'ProviderCallError';
    this.kind = kind;
    this.oauthError = details.oauthError ?? null;
    this.description =
      details.description === undefined || details.description === null
        ? null
        : details.description.slice(0, MAX_DESCRIPTION_LENGTH);
    this.httpStatus = details.httpStatus ?? null;
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
  }
}
