import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';
import { EMBEDDED_POOL_SIZE } from './embedded-postgres.js';
import { MIGRATIONS } from './migrations.js';

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

/**
 * How to reach the database, with every migration. `entities` only for code outside Nest (the
 * migration CLI, the schema test): the app registers them module by module (autoLoadEntities).
 */
export function dataSourceOptions(
  target: DatabaseTarget,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema> = [],
): DataSourceOptions {
  return {
    type: 'postgres',
    url: target.url,
    entities,
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
