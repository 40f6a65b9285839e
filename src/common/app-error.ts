/**
 * Stable, machine-readable error codes of the API (SPEC §2). The problem-details filter maps
 * each one to an HTTP status with an exhaustive switch, so adding a code without a status fails
 * the type-check.
 */
export type ErrorCode =
  | 'validation_failed'
  | 'client_secret_required'
  | 'invalid_json'
  | 'malformed_request'
  | 'request_timeout'
  | 'headers_too_large'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'too_many_requests'
  | 'not_found'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'invalid_state'
  | 'authorization_denied'
  | 'authorization_failed'
  | 'link_not_connected'
  | 'reauthorization_required'
  | 'link_error'
  | 'endpoint_not_allowed'
  | 'provider_unavailable'
  | 'internal_error'
  | 'service_unavailable'
  | 'account_mismatch';

export interface FieldError {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  errors?: FieldError[];
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The one error type the API answers with. Modules subclass it (or use its factories) so that
 * every failure carries a stable `code` and a human `detail` that is safe to show: never a secret,
 * never SQL, never a stack trace.
 */
export class AppError extends Error {
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    options: AppErrorOptions = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.errors = options.errors;
    this.headers = options.headers;
  }

  static validation(errors: FieldError[], detail = 'The request is not valid.'): AppError {
    return new AppError('validation_failed', detail, { errors });
  }

  static notFound(what: string): AppError {
    return new AppError('not_found', `${what} does not exist.`);
  }
}
