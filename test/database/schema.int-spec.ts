import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { runMigrationsExclusively } from '../../src/database/migration-runner.js';
import { MIGRATIONS } from '../../src/database/migrations.js';
import { ENTITIES } from '../../src/entities.js';
import { startTestApp } from '../support/test-app.js';
import {
  BACKEND,
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/test-database.js';

async function tableNames(dataSource: DataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}

describe(`schema and migrations (${BACKEND})`, () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await new DataSource(dataSourceOptions(database.target, ENTITIES)).initialize();
    await runMigrationsExclusively(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.dispose();
  });

  it('has entities that agree with the migrations (what migration:generate would write is empty)', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('lists in src/entities.ts every entity the app registers', async () => {
    const app = await startTestApp({ database });
    try {
      const registered = app.dataSource.entityMetadatas.map((metadata) => metadata.target);
      expect(new Set(registered)).toEqual(new Set(ENTITIES));
    } finally {
      await app.closeApp();
    }
  });

  it('applies every migration and has nothing pending', async () => {
    expect(await dataSource.showMigrations()).toBe(false);
    const applied: { name: string }[] = await dataSource.query(
      'SELECT name FROM migrations ORDER BY id',
    );
    expect(applied.map((row) => row.name)).toEqual(MIGRATIONS.map((migration) => migration.name));
  });

  it('can undo every migration with down() and apply them again', async () => {
    for (let i = 0; i < MIGRATIONS.length; i++)
      await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tableNames(dataSource)).toEqual(['migrations']);
    await runMigrationsExclusively(dataSource);
    expect(await tableNames(dataSource)).toEqual(
      expect.arrayContaining(['api_keys', 'migrations']),
    );
    expect(await dataSource.showMigrations()).toBe(false);
  });
});

// PGlite is one process by construction (the data-dir lock), so racing replicas exist only on PostgreSQL.
(TEST_DATABASE_URL ? describe : describe.skip)(
  'replicas starting together on an empty PostgreSQL database',
  () => {
    it('all come up: migrations are guarded by an advisory lock', async () => {
      const database = await createTestDatabase();
      const replicas = await Promise.all(
        [1, 2, 3].map(() => new DataSource(dataSourceOptions(database.target)).initialize()),
      );
      try {
        const results = await Promise.all(
          replicas.map((replica) => runMigrationsExclusively(replica)),
        );
        // Exactly one replica applied the migrations; the others found nothing to do.
        expect(results.map((applied) => applied.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
        for (const replica of replicas) expect(await replica.showMigrations()).toBe(false);
      } finally {
        await Promise.all(replicas.map((replica) => replica.destroy()));
        await database.dispose();
      }
    });
  },
);
