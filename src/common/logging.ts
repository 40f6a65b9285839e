import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import type { RequestLogContext } from './request-log-context.js';

/** Query parameters whose values are credentials (the OAuth callback's code and state). */
const SECRET_QUERY_PARAMETERS = [
  'code',
  'state',
  'access_token',
  'refresh_token',
  'id_token',
  'key',
];

/** Paths that pino replaces with "[redacted]" wherever they appear in a log record. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  ...[
    'clientSecret',
    'accessToken',
    'refreshToken',
    'codeVerifier',
    'key',
    'adminApiKey',
    'encryptionKeys',
  ].flatMap((field) => [field, `*.${field}`]),
  ...['client_secret', 'access_token', 'refresh_token', 'code_verifier', 'id_token'].flatMap(
    (field) => [field, `*.${field}`],
  ),
];

/** Query parameters that name a person: the token route's mailbox user (SPEC §11). */
const PERSONAL_QUERY_PARAMETERS = ['user'];

/**
 * An e-mail address in free text; its domain must end in letters, so versions (pkg@1.2.3) and
 * user@host:port in connection strings are left alone. Only run on text that contains an "@".
 */
const EMAIL_ADDRESS = /([^\s@"'<>()[\]{},;:\\/]+)@((?:[\p{L}\p{N}-]+\.)+\p{L}{2,})/gu;

const firstCharacter = (text: string): string =>
  text.length === 0 ? '' : String.fromCodePoint(text.codePointAt(0)!);

/**
 * How a mailbox user or an e-mail address appears in the logs: its first character, `***`, and
 * the domain if it has one (`a***@example.com`, `s***`), enough to tell mailboxes apart.
 */
export function maskUser(user: string): string {
  const at = user.lastIndexOf('@');
  return at < 0
    ? `${firstCharacter(user)}***`
    : `${firstCharacter(user.slice(0, at))}***${user.slice(at)}`;
}

/** Masks every e-mail address in a text (SPEC §11: logs mask e-mail addresses). */
export function maskEmailAddresses(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(EMAIL_ADDRESS, (_match, local: string, domain: string) =>
    maskUser(`${local}@${domain}`),
  );
}

/** The URL as logged: credential values replaced, mailbox users masked. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url;
  const query = new URLSearchParams(url.slice(queryStart + 1));
  for (const name of SECRET_QUERY_PARAMETERS) if (query.has(name)) query.set(name, '[redacted]');
  for (const name of PERSONAL_QUERY_PARAMETERS) {
    const values = query.getAll(name);
    query.delete(name);
    for (const value of values) query.append(name, maskUser(value));
  }
  return `${url.slice(0, queryStart)}?${query.toString()}`;
}

/**
 * pino's logMethod hook: masks e-mail addresses in the message and its interpolation arguments.
 * Outlink's lines are short fixed sentences; the includes("@") test keeps the cost away from the
 * lines that hold none (every request's "incoming request" and "request completed").
 */
function maskEmailsInArguments(
  this: PinoLogger,
  args: Parameters<PinoLogger['info']>,
  method: (...args: unknown[]) => void,
): void {
  for (let i = 0; i < args.length; i++) {
    const value: unknown = args[i];
    if (typeof value === 'string' && value.includes('@'))
      (args as unknown[])[i] = maskEmailAddresses(value);
  }
  method.apply(this, args);
}

/** pino's error serializer, with e-mail addresses masked in the message and the stack. */
function serializeError(error: Error): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const field of ['message', 'stack']) {
    const value = serialized[field];
    if (typeof value === 'string') serialized[field] = maskEmailAddresses(value);
  }
  return serialized;
}

/** Where a request's logger keeps its request id (see withRequestId). */
const REQUEST_ID = Symbol('outlink.requestId');
type RequestIdCarrier = { [REQUEST_ID]?: string };

/**
 * Marks a child logger (and its own children) as the logger of one request: its lines carry
 * `requestId`. Not a pino binding: with REDACTED_LOG_PATHS' wildcards pino runs every binding
 * through the redaction when the child is made, about 8 µs per child, and every request made
 * two (issue 10); the id is added by the root's mixin only to lines that are really written.
 */
export function withRequestId<Logger extends object>(logger: Logger, requestId: string): Logger {
  (logger as RequestIdCarrier)[REQUEST_ID] = requestId;
  return logger;
}

/**
 * pino's mixin: the request id of the line, from the logger that writes it (Fastify's request
 * loggers) or else from the request being handled (what modules log through Nest's Logger).
 */
const requestIdMixin =
  (context: RequestLogContext | undefined) =>
  (_mergeObject: object, _level: number, logger: PinoLogger): { requestId?: string } => {
    const requestId = (logger as RequestIdCarrier)[REQUEST_ID] ?? context?.requestId();
    return requestId === undefined ? {} : { requestId };
  };

/**
 * The one pino logger of an application instance. Fastify logs every request through it (with
 * its request id) and nestjs-pino routes Nest's own logs into it, so both share redaction.
 */
export function createRootLogger(
  config: AppConfig,
  destination?: DestinationStream,
  context?: RequestLogContext,
): PinoLogger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      hooks: { logMethod: maskEmailsInArguments },
      mixin: requestIdMixin(context),
      serializers: {
        err: serializeError,
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
        }),
        res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
      },
    },
    destination ?? process.stdout,
  );
}

/**
 * nestjs-pino reuses the logger Fastify already has instead of adding pino-http middleware, and
 * registers no middleware of its own: on Nest 12 + Fastify its middleware never bound the
 * request's logger (Nest's log lines had no request id), while every request still paid for
 * @fastify/middie. The root logger's mixin adds the request id instead (RequestLogContext).
 */
export function loggerParams(logger: PinoLogger): Params {
  return { pinoHttp: { logger }, useExisting: true, forRoutes: [] };
}
