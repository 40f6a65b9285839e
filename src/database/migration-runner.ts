import { MigrationExecutor, type DataSource, type Migration } from 'typeorm';

/** Arbitrary but fixed: the advisory-lock key all replicas take to migrate one at a time. */
const MIGRATION_LOCK_KEY = 7_140_225_001;

/**
 * Runs pending migrations under a session advisory lock, so that replicas started at the same
 * moment on an empty database take turns instead of racing to create the same tables (SPEC §10).
 * The lock and the migrations share one connection, which also keeps the single-connection
 * embedded pool from deadlocking.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      return await executor.executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
