import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { generateEncryptionKeyEntry } from '../../src/config/encryption-keys.js';
import { dataSourceOptions, type DatabaseTarget } from '../../src/database/data-source-options.js';
import {
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '../../src/database/embedded-postgres.js';
import { runMigrationsExclusively } from '../../src/database/migration-runner.js';
import { MIGRATIONS } from '../../src/database/migrations.js';

/**
 * Which back end the tests run on: real PostgreSQL when TEST_DATABASE_URL is set (each test
 * database is created fresh beside it and dropped afterwards), otherwise embedded PGlite.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const BACKEND = TEST_DATABASE_URL ? 'postgresql' : 'pglite';

export interface TestDatabase {
  target: DatabaseTarget;
  /** ENCRYPTION_KEYS for every app on this database: replicas must share them to read secrets. */
  encryptionKeys: string;
  /** A scratch DATA_DIR for the app (key files; PGlite's files in embedded mode). */
  dataDir: string;
  /** Stops PGlite (for restart tests) without deleting anything. */
  stop(): Promise<void>;
  /** Starts PGlite again on the same files; a no-op on PostgreSQL. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

function databaseUrlWithName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh PGlite directory takes ~7 s to initialise; copying one that already holds the schema
 * takes a fraction of that. The template is keyed on the migration list, so a new migration
 * builds a new template. Its `pgdata` is what to copy.
 */
export async function pgliteTemplateDir(): Promise<string> {
  const schemaKey = createHash('sha256')
    .update(MIGRATIONS.map((migration) => migration.name).join(','))
    .digest('hex')
    .slice(0, 12);
  const templateDir = join(tmpdir(), `outlink-pglite-template-${schemaKey}`);
  if (existsSync(templateDir)) return templateDir;

  const buildDir = mkdtempSync(join(tmpdir(), 'outlink-pglite-build-'));
  const embedded = await startEmbeddedPostgres(buildDir, { log: () => undefined });
  try {
    const dataSource = await new DataSource(
      dataSourceOptions({ url: embedded.url, embedded: true }),
    ).initialize();
    await runMigrationsExclusively(dataSource);
    await dataSource.destroy();
  } finally {
    await embedded.stop();
  }
  try {
    renameSync(buildDir, templateDir);
  } catch {
    rmSync(buildDir, { recursive: true, force: true }); // another run won the race: use its template
  }
  return templateDir;
}

export interface TestDatabaseOptions {
  /**
   * A PostgreSQL server to create the database on, whatever the selected back end (e.g. a
   * private cluster a test stops and starts). Default: TEST_DATABASE_URL, or PGlite without it.
   */
  adminUrl?: string;
  /** Embedded PGlite whatever the selected back end (e.g. a test of embedded-only behaviour). */
  embedded?: boolean;
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'outlink-test-'));
  const adminUrl = options.embedded ? undefined : (options.adminUrl ?? TEST_DATABASE_URL);
  if (adminUrl) {
    const name = `outlink_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
    return {
      target: { url: databaseUrlWithName(adminUrl, name), embedded: false },
      encryptionKeys: generateEncryptionKeyEntry('test'),
      dataDir,
      stop: () => Promise.resolve(),
      restart: () => Promise.resolve(),
      dispose: async () => {
        await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }

  cpSync(join(await pgliteTemplateDir(), 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
  let embedded: EmbeddedPostgres | undefined = await startEmbeddedPostgres(dataDir, {
    log: () => undefined,
  });
  const target: DatabaseTarget = { url: embedded.url, embedded: true };
  return {
    target,
    encryptionKeys: generateEncryptionKeyEntry('test'),
    dataDir,
    stop: async () => {
      await embedded?.stop();
      embedded = undefined;
    },
    restart: async () => {
      embedded = await startEmbeddedPostgres(dataDir, { log: () => undefined });
      target.url = embedded.url;
    },
    dispose: async () => {
      await embedded?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
