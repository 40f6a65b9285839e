import 'reflect-metadata';
import { pino } from 'pino';
import { createApp } from './app.factory.js';
import { AppConfig, ConfigError, loadConfig } from './config/app-config.js';
import { fillInGeneratedSecrets } from './generated-secrets.js';
import type { DatabaseTarget } from './database/data-source-options.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './database/embedded-postgres.js';

function readConfig(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One message listing every problem, then stop (SPEC §1).
    console.error(error.message);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  let config = readConfig();
  // Nest's logger does not exist yet: start-up messages go through a plain pino of the same shape.
  const bootLog = pino({ level: config.logLevel, base: { context: 'Bootstrap' } });

  let embedded: EmbeddedPostgres | undefined;
  let database: DatabaseTarget;
  if (config.databaseUrl === undefined) {
    // The data-dir lock comes first, so that a second process stops before touching any file.
    embedded = await startEmbeddedPostgres(config.dataDir, {
      log: (message) => bootLog.info(message),
    });
    database = { url: embedded.url, embedded: true };
    bootLog.info(`Embedded PostgreSQL (PGlite) in ${config.dataDir}`);
  } else {
    database = { url: config.databaseUrl, embedded: false };
  }
  config = fillInGeneratedSecrets(config, (message) => bootLog.info(message));

  const app = await createApp({ config, database }).catch(async (error: unknown) => {
    await embedded?.stop();
    throw error;
  });
  await app.listen({ port: config.port, host: config.host });
  bootLog.info(
    `Outlink is listening on ${config.host}:${config.port}; Swagger UI at ${config.publicBaseUrl}/docs`,
  );

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    bootLog.info(`${signal} received: finishing in-flight requests and closing`);
    // Fastify stops accepting connections and waits for in-flight requests; Nest's shutdown
    // hooks then close the pool; the embedded database goes last, once nothing uses it.
    await app.close();
    await embedded?.stop();
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, (received) => void shutdown(received));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
