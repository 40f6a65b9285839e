import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError } from './app-error.js';
import { PROBLEM_CONTENT_TYPE, problemFor } from './problem-details.filter.js';

/**
 * Fastify answers a few malformed requests itself, before Nest and its exception filter see
 * them: a path that is not valid percent-encoded UTF-8, or a path parameter longer than
 * maxParamLength. Without this they were plain JSON, not problem+json (SPEC §2).
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  let appError: AppError;
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      appError = new AppError('malformed_request', 'The URL is not valid percent-encoded UTF-8.');
      break;
    case 'FST_ERR_MAX_PARAM_LENGTH':
      appError = AppError.validation(
        [{ field: 'path', message: 'a path parameter is longer than 100 characters' }],
        'A path parameter is too long.',
      );
      break;
    default:
      request.log.error({ err: error }, 'Unhandled framework error');
      appError = new AppError('internal_error', 'An unexpected error occurred.');
  }
  const problem = problemFor(appError, String(request.id));
  // Fastify answers these before any hook runs, so helmet's headers are not there (SPEC §11).
  void reply
    .status(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('x-content-type-options', 'nosniff')
    .header('x-request-id', request.id)
    .send(problem);
}

/**
 * Node's HTTP parser refuses some requests before any route runs: headers over 16 KiB, bytes a
 * URL may not hold, an invalid Content-Length. Fastify's default answer is plain JSON; this one
 * is problem+json, written straight to the socket as there is no request to reply to.
 */
export function answerClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new AppError('headers_too_large', 'The request line and headers exceed 16 KiB.')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new AppError('request_timeout', 'The request was not received in time.')
        : new AppError('malformed_request', 'The request is not valid HTTP/1.1.');
  const problem = problemFor(appError, '');
  const body = JSON.stringify(problem);
  this.log.trace({ err: error }, 'client error');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nX-Content-Type-Options: nosniff\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
