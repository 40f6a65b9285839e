import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { AppConfig } from '../config/app-config.js';

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

/** The URL as logged: values of credential-bearing query parameters replaced. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url;
  const query = new URLSearchParams(url.slice(queryStart + 1));
  for (const name of SECRET_QUERY_PARAMETERS) if (query.has(name)) query.set(name, '[redacted]');
  return `${url.slice(0, queryStart)}?${query.toString()}`;
}

/**
 * The one pino logger of an application instance. Fastify logs every request through it (with
 * its request id) and nestjs-pino routes Nest's own logs into it, so both share redaction.
 */
export function createRootLogger(config: AppConfig, destination?: DestinationStream): PinoLogger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      serializers: {
        err: pino.stdSerializers.err,
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
 * @fastify/middie. A preHandler hook in app.factory.ts binds it instead.
 */
export function loggerParams(logger: PinoLogger): Params {
  return { pinoHttp: { logger }, useExisting: true, forRoutes: [] };
}
