import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory.js';
import { generateApiKey } from '../../src/auth/api-key-secret.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { fillInGeneratedSecrets } from '../../src/generated-secrets.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** Every log line an app wrote, so tests can prove what never reaches the logs. */
export class CapturedLogs extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  database: TestDatabase;
  adminKey: string;
  logs: CapturedLogs;
  dataSource: DataSource;
  /** Every route the app registered, as Fastify saw it. */
  routes: { method: string; url: string }[];
  http(): ReturnType<typeof supertest>;
  /** Closes the app only (the database stays), e.g. to start another app on the same data. */
  closeApp(): Promise<void>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a database, e.g. for several replicas or a restart. */
  database?: TestDatabase;
}

/** Boots the real application on a fresh database of the selected back end. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const adminKey = options.env?.ADMIN_API_KEY ?? generateApiKey();
  const config = fillInGeneratedSecrets(
    loadConfig({
      DATA_DIR: database.dataDir,
      ADMIN_API_KEY: adminKey,
      ENCRYPTION_KEYS: database.encryptionKeys,
      LOG_LEVEL: 'info',
      // Test providers listen on loopback, which the outbound policy refuses without this
      // exception; a test of the policy itself overrides it with ''.
      OUTBOUND_ALLOW: '127.0.0.1',
      ...options.env,
    }),
    () => undefined,
  );
  const logs = new CapturedLogs();
  const routes: { method: string; url: string }[] = [];
  const app = await createApp(
    { config, database: database.target },
    { logDestination: logs, onRoute: (route) => routes.push(route) },
  );
  await app.getHttpAdapter().getInstance().ready();
  const closeApp = async (): Promise<void> => {
    await app.close();
  };
  return {
    app,
    config,
    database,
    adminKey,
    logs,
    routes,
    dataSource: app.get(DataSource),
    http: () => supertest(app.getHttpServer()),
    closeApp,
    close: async () => {
      await closeApp();
      if (!options.database) await database.dispose();
    },
  };
}

export const bearer = (key: string): { authorization: string } => ({
  authorization: `Bearer ${key}`,
});
