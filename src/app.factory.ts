import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController, type FastifyBaseLogger, type preHandlerHookHandler } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Logger } from 'nestjs-pino';
import type { ChildLoggerOptions, DestinationStream } from 'pino';
import { AppModule, type AppRuntime } from './app.module.js';
import { answerClientError, answerFrameworkError } from './common/framework-errors.js';
import { useStrictJsonBodies } from './common/json-body.js';
import { createRootLogger, withRequestId } from './common/logging.js';
import { entersLogContextOnDemand, RequestLogContext } from './common/request-log-context.js';
import { fastifyTrustProxy } from './config/trust-proxy.js';
import { buildOpenApiDocument, DOCS_PATH, setUpSwaggerUi } from './common/openapi.js';
import { useSecurityHeaders } from './common/security-headers.js';
import { MetricsService } from './metrics/metrics.service.js';

/** SPEC §2: bodies over 64 KiB are refused with 413. */
export const BODY_LIMIT_BYTES = 64 * 1024;
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Accepts a caller's X-Request-Id when it is short and plain (so ids follow a request across
 * services), otherwise makes one.
 */
function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  const id =
    typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  return id;
}

/** Fastify's request logger, without the pino binding that costs a redaction per request. */
const requestLogger = (
  parent: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  options: ChildLoggerOptions,
): FastifyBaseLogger => withRequestId(parent.child({}, options), String(bindings.requestId));

/** Builds the whole application on the Fastify adapter; main.ts and the tests share it. */
export async function createApp(
  runtime: AppRuntime,
  options: {
    logDestination?: DestinationStream;
    /** Sees every route as it is registered (the tests walk them all). */
    onRoute?: (route: { method: string; url: string }) => void;
  } = {},
): Promise<NestFastifyApplication> {
  const logContext = new RequestLogContext();
  const logger = createRootLogger(runtime.config, options.logDestination, logContext);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    childLoggerFactory: requestLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // SPEC §11: the client address that the failed-auth limit and the logs use.
    trustProxy: fastifyTrustProxy(runtime.config.trustProxy),
    genReqId: requestIdFor,
    // Prototype-pollution keys in JSON are refused by the parser (400), not silently stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Errors Fastify and Node answer before Nest runs are problem+json too (SPEC §2).
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ ...runtime, logger, logContext }),
    adapter,
    {
      bufferLogs: true,
      // Nest's parsers would also take form bodies and text; useStrictJsonBodies is the only one.
      bodyParser: false,
    },
  );
  app.useLogger(app.get(Logger));

  const fastify = app.getHttpAdapter().getInstance();
  useStrictJsonBodies(fastify);
  useSecurityHeaders(app, DOCS_PATH);
  const { onRoute } = options;
  if (onRoute) {
    fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) onRoute({ method, url: route.url });
    });
  }
  // Logs made through Nest's Logger while a request is handled carry its request id. preHandler,
  // not onRequest: the body has been read by then, and stream callbacks would drop the context.
  // A hook per route, so that a route with `logContextOnDemand`, which enters the context itself
  // when it goes asynchronous, runs no preHandler at all.
  const enterLogContext: preHandlerHookHandler = (request, reply, done) => {
    const { exit } = logContext.enter(request.id, done);
    reply.raw.once('close', exit);
  };
  fastify.addHook('onRoute', (route) => {
    if (entersLogContextOnDemand(route.config)) return;
    route.preHandler = [enterLogContext, ...[route.preHandler ?? []].flat()];
  });
  // Callback hooks, not async ones: each async hook is one more promise on every request.
  const metrics = app.get(MetricsService);
  // onRequest, not onSend: one hook fewer on every answer; error answers keep what it set.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observeHttpRequest(
      request.method,
      request.routeOptions.url,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  try {
    setUpSwaggerUi(app, buildOpenApiDocument(app));
    await app.init();
  } catch (error) {
    // The modules are up by now (pool, change feed, timers): close them, or a failed start
    // leaves them running (a test runner then never exits).
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
