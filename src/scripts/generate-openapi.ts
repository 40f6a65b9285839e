// Regenerates openapi.yaml from the controllers and DTOs: `npm run openapi`.
// Nest's preview mode resolves modules and routes without instantiating providers, so this
// needs no database; test/openapi fails when the committed file differs from what the app serves.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import YAML from 'yaml';
import { RequestLogContext } from '../common/request-log-context.js';
import { AppModule } from '../app.module.js';
import { buildOpenApiDocument } from '../common/openapi.js';
import { loadConfig } from '../config/app-config.js';

export const OPENAPI_FILE = 'openapi.yaml';
const HEADER = '# Generated from the code by `npm run openapi`; do not edit by hand.\n';

export function toOpenApiYaml(document: object): string {
  return HEADER + YAML.stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
}

async function main(): Promise<void> {
  const config = loadConfig({
    DATABASE_URL: 'postgres://unused@127.0.0.1/unused',
    LOG_LEVEL: 'silent',
  });
  const app = await NestFactory.create(
    AppModule.forRoot({
      config,
      database: { url: config.databaseUrl!, embedded: false },
      logger: pino({ level: 'silent' }),
      logContext: new RequestLogContext(),
    }),
    new FastifyAdapter(),
    { preview: true, logger: false },
  );
  const path = resolve(OPENAPI_FILE);
  writeFileSync(path, toOpenApiYaml(buildOpenApiDocument(app)));
  console.log(`Wrote ${path}`);
}

await main();
