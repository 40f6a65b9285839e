// `npm run migration:run`: applies pending migrations to the configured database (DATABASE_URL, or
// the embedded database in DATA_DIR) and says which. The service also runs them at start, under
// the same advisory lock, so this is for operators who migrate before rolling out replicas.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source-options.js';
import { runMigrationsExclusively } from '../database/migration-runner.js';
import { exitWith, log, runWithConfiguredDatabase } from './script-database.js';

exitWith(
  runWithConfiguredDatabase({ name: 'migration:run', needsSecrets: false }, async (target) => {
    const dataSource = await new DataSource(dataSourceOptions(target)).initialize();
    try {
      const applied = await runMigrationsExclusively(dataSource);
      for (const migration of applied) log(`  applied ${migration.name}`);
      log(
        applied.length === 0
          ? 'No pending migrations: the schema is up to date.'
          : `Applied ${applied.length} migration(s).`,
      );
    } finally {
      await dataSource.destroy();
    }
  }),
);
