import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppRuntime } from './app.module.js';
import { buildOpenApiDocument, setUpSwaggerUi } from './common/openapi.js';
import { MetricsService } from './metrics/metrics.service.js';

/** SPEC §2: bodies over 64 KiB are refused with 413. */
export const BODY_LIMIT_BYTES = 64 * 1024;
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Accepts a caller's X-Request-Id when it is short and plain (so ids follow a request across
 * services), otherwise makes one. Written back onto the raw request so that pino-http, which
 * runs later as middleware, logs the same id.
 */
function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  const id = typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  request.headers['x-request-id'] = id;
  return id;
}

/** Builds the whole application on the Fastify adapter; main.ts and the tests share it. */
export async function createApp(runtime: AppRuntime): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdFor,
    // Prototype-pollution keys in JSON are refused by the parser (400), not silently stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(runtime), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));

  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.observeHttpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });

  setUpSwaggerUi(app, buildOpenApiDocument(app));
  await app.init();
  return app;
}
