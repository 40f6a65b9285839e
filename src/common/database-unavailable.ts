/** Node socket errors of a connection that went away or never came. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** SQLSTATEs of a server shutting down or refusing connections (class 08 is checked apart). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What pg and its pool say when the connection dies or cannot be had in time. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

interface ErrorLike {
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
  cause?: unknown;
  driverError?: unknown;
}

/**
 * True when an error means the database cannot be reached right now (restart, failover,
 * network): the request deserves a 503 to retry, not a 500 for a bug. Looks through TypeORM's
 * `driverError` and `cause` chains.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { code, syscall, message, cause, driverError } = error as ErrorLike;
  // The embedded database's unix socket is missing while it restarts.
  if (code === 'ENOENT' && syscall === 'connect') return true;
  if (typeof code === 'string') {
    if (
      CONNECTION_ERROR_CODES.has(code) ||
      UNAVAILABLE_SQLSTATES.has(code) ||
      /^08[0-9A-Z]{3}$/.test(code)
    )
      return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((known) => message.includes(known)))
    return true;
  return isDatabaseUnavailable(driverError, depth + 1) || isDatabaseUnavailable(cause, depth + 1);
}
