import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config.js';

/** Query parameters whose values are credentials (the OAuth callback's code and state). */
const SECRET_QUERY_PARAMETERS = ['code', 'state', 'access_token', 'refresh_token', 'id_token', 'key'];

/** Paths that pino replaces with "[redacted]" wherever they appear in a log record. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  ...['clientSecret', 'accessToken', 'refreshToken', 'codeVerifier', 'key', 'adminApiKey', 'encryptionKeys']
    .flatMap((field) => [field, `*.${field}`]),
  ...['client_secret', 'access_token', 'refresh_token', 'code_verifier', 'id_token'].flatMap((field) => [
    field,
    `*.${field}`,
  ]),
];

/** The URL as logged: values of credential-bearing query parameters replaced. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url;
  const query = new URLSearchParams(url.slice(queryStart + 1));
  for (const name of SECRET_QUERY_PARAMETERS) if (query.has(name)) query.set(name, '[redacted]');
  return `${url.slice(0, queryStart)}?${query.toString()}`;
}

export function loggerParams(config: AppConfig, destination?: DestinationStream): Params {
  return {
    pinoHttp: [
      {
        level: config.logLevel,
        redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
        // Fastify assigned the request id first (see app.factory); reuse it so both agree.
        genReqId: (request: IncomingMessage) => String(request.headers['x-request-id']),
        customLogLevel: (_request, response, error) =>
          error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
        serializers: {
          req: (request: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
            id: request.id,
            method: request.method,
            url: redactUrl(request.url),
            remoteAddress: request.remoteAddress,
          }),
        },
      },
      destination ?? process.stdout,
    ],
  };
}
