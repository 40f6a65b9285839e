import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, type FieldError } from './app-error.js';
import { isDatabaseUnavailable } from './database-unavailable.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  requestId?: string;
}

/** The HTTP status and title of each code; exhaustive, so a new code cannot go unmapped. */
export function describeErrorCode(code: ErrorCode): { status: number; title: string } {
  switch (code) {
    case 'validation_failed':
      return { status: 400, title: 'Validation failed' };
    case 'client_secret_required':
      return { status: 400, title: 'The client secret must be given again' };
    case 'invalid_json':
      return { status: 400, title: 'Malformed request body' };
    case 'malformed_request':
      return { status: 400, title: 'Malformed HTTP request' };
    case 'request_timeout':
      return { status: 408, title: 'Request timeout' };
    case 'headers_too_large':
      return { status: 431, title: 'Request headers too large' };
    case 'unauthorized':
      return { status: 401, title: 'Unauthorized' };
    case 'forbidden':
      return { status: 403, title: 'Forbidden' };
    case 'not_found':
      return { status: 404, title: 'Not found' };
    case 'route_not_found':
      return { status: 404, title: 'No such route' };
    case 'method_not_allowed':
      return { status: 405, title: 'Method not allowed' };
    case 'conflict':
      return { status: 409, title: 'Conflict' };
    case 'invalid_state':
      return { status: 400, title: 'Unknown, expired or already used authorization state' };
    case 'authorization_denied':
      return { status: 400, title: 'Consent was refused at the provider' };
    case 'authorization_failed':
      return { status: 400, title: 'The provider rejected the authorization' };
    case 'link_not_connected':
      return { status: 409, title: 'The link is not connected' };
    case 'reauthorization_required':
      return { status: 409, title: 'The link must be authorized again' };
    case 'link_error':
      return { status: 409, title: 'The provider rejected the client' };
    case 'endpoint_not_allowed':
      return { status: 400, title: 'The outbound policy refuses this address' };
    case 'provider_unavailable':
      return { status: 503, title: 'The provider is unavailable' };
    case 'payload_too_large':
      return { status: 413, title: 'Request body too large' };
    case 'unsupported_media_type':
      return { status: 415, title: 'Unsupported media type' };
    case 'too_many_requests':
      return { status: 429, title: 'Too many requests' };
    case 'internal_error':
      return { status: 500, title: 'Internal server error' };
    case 'service_unavailable':
      return { status: 503, title: 'Service unavailable' };
    case 'account_mismatch':
      return { status: 409, title: 'Consent by another account' };
  }
}

const CODE_BY_HTTP_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'service_unavailable',
};

/** Fastify's own request errors (body parsing, limits): their messages are safe to show. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

interface ErrorWithStatus {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
}

function fromFastifyError(error: ErrorWithStatus): AppError | undefined {
  const status = typeof error.statusCode === 'number' ? error.statusCode : undefined;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  const mapped = typeof error.code === 'string' ? FASTIFY_CODES[error.code] : undefined;
  // The JSON parser throws SyntaxError (and prototype-poisoning errors) with statusCode 400.
  const code =
    mapped ??
    (status === 400 ? 'invalid_json' : (CODE_BY_HTTP_STATUS[status] ?? 'validation_failed'));
  const message = typeof error.message === 'string' ? error.message : 'The request was rejected.';
  return new AppError(code, message);
}

function fromHttpException(exception: HttpException, request: FastifyRequest): AppError {
  // Nest wraps Fastify's 4xx errors (body parsing, limits) in an HttpException with the original
  // as its cause; without this a malformed body was a validation_failed instead of invalid_json.
  const cause = exception.cause as ErrorWithStatus | undefined;
  const fastifyCode = typeof cause?.code === 'string' ? FASTIFY_CODES[cause.code] : undefined;
  if (fastifyCode) return new AppError(fastifyCode, exception.message);
  const status = exception.getStatus();
  if (status === 404 && /^Cannot [A-Z]+ /.test(exception.message)) {
    return new AppError(
      'route_not_found',
      `No route ${request.method} ${request.url.split('?')[0]}.`,
    );
  }
  const code =
    CODE_BY_HTTP_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed');
  if (status >= 500)
    request.log.error({ err: exception, route: request.routeOptions?.url }, 'HTTP 5xx error');
  return new AppError(code, status >= 500 ? 'An unexpected error occurred.' : exception.message);
}

/** The RFC 9457 body of an error; 5xx answers carry the request id, to find the logs. */
export function problemFor(error: AppError, requestId: string): ProblemDetails {
  const { status, title } = describeErrorCode(error.code);
  return {
    type: `urn:outlink:problem:${error.code}`,
    title,
    status,
    detail: error.detail,
    code: error.code,
    ...(error.errors ? { errors: error.errors } : {}),
    ...(status >= 500 ? { requestId } : {}),
  };
}

/**
 * Turns every error into RFC 9457 problem+json (SPEC §2). Anything not recognised is a logged
 * 500 with a generic message: no stack, SQL or secret ever reaches the client.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const request = context.getRequest<FastifyRequest>();
    const reply = context.getResponse<FastifyReply>();

    let error: AppError;
    if (exception instanceof AppError) error = exception;
    else if (exception instanceof HttpException) error = fromHttpException(exception, request);
    else if (isDatabaseUnavailable(exception)) error = this.databaseUnavailable(exception, request);
    else error = fromFastifyError(exception ?? {}) ?? this.unexpected(exception, request);

    const problem = problemFor(error, String(request.id));
    if (reply.sent) return;
    void reply
      .status(problem.status)
      .headers(error.headers ?? {})
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send(problem);
  }

  /** A restart or failover, not a bug: 503 to retry, logged as a warning without the stack. */
  private databaseUnavailable(exception: unknown, request: FastifyRequest): AppError {
    const reason = exception instanceof Error ? exception.message : 'unknown';
    request.log.warn({ route: request.routeOptions?.url, reason }, 'Database unavailable');
    return new AppError('service_unavailable', 'The database is unavailable; retry shortly.', {
      headers: { 'retry-after': '2' },
    });
  }

  private unexpected(exception: unknown, request: FastifyRequest): AppError {
    // The request's own logger: it carries the request id and belongs to this application.
    // Nest's Logger would go through nestjs-pino's process-wide root, which is the first
    // application created in the process and is not bound to the request.
    request.log.error({ err: exception, route: request.routeOptions?.url }, 'Unhandled error');
    return new AppError(
      'internal_error',
      'An unexpected error occurred. The request id identifies it in the logs.',
    );
  }
}
