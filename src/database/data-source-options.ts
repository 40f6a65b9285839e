import type { DataSourceOptions } from 'typeorm';
import { EMBEDDED_POOL_SIZE } from './embedded-postgres.js';
import { ENTITIES, MIGRATIONS } from './schema.js';

/** Where the data lives: a real PostgreSQL, or the embedded PGlite's local socket. */
export interface DatabaseTarget {
  url: string;
  embedded: boolean;
}

/**
 * Nest token for the DatabaseTarget. It lives here rather than in database.module.ts so that
 * providers the module declares can inject it without an import cycle.
 */
export const DATABASE_TARGET = Symbol('DATABASE_TARGET');

export const DATABASE_POOL_SIZE = 10;

export function dataSourceOptions(target: DatabaseTarget): DataSourceOptions {
  return {
    type: 'postgres',
    url: target.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    applicationName: 'outlink',
    extra: {
      max: target.embedded ? EMBEDDED_POOL_SIZE : DATABASE_POOL_SIZE,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    },
  };
}
