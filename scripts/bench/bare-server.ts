/**
 * The baseline of the hot-path ratio: a Nest app with one controller returning constant JSON,
 * on the Fastify adapter with the service's own adapter options (logger at the same level,
 * request ids, body limit, poisoning checks) and nothing else: no guard, pipe, filter or hook.
 * Run as its own process by bench.ts, like the service.
 */
import 'reflect-metadata';
import { Controller, Get, Header, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';

/** app.factory.ts's BODY_LIMIT_BYTES; not imported, which would load the whole service. */
const BODY_LIMIT_BYTES = 64 * 1024;
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const CONSTANT = {
  linkId: '00000000-0000-4000-8000-000000000000',
  accessToken: 'constant',
  tokenType: 'Bearer',
  expiresAt: '2030-01-01T00:00:00.000Z',
  expiresIn: 3600,
  scopes: ['openid', 'offline_access'],
};

@Controller('bare')
class BareController {
  /** Same shape of URL as the token route, so the load generator does the same work for both. */
  @Get(':id/token')
  @Header('cache-control', 'no-store')
  getConstant(): typeof CONSTANT {
    return CONSTANT;
  }

  @Get('ready')
  ready(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: (request: IncomingMessage) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming)
        ? incoming
        : randomUUID();
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, adapter, {
    logger: ['warn', 'error'],
    bodyParser: false,
  });
  await app.listen({ port: Number(process.env.PORT), host: process.env.HOST ?? '127.0.0.1' });
  const shutdown = (): void => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
