import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createApp } from '../../src/app.factory.js';
import { generateApiKey } from '../../src/auth/api-key-secret.js';
import { loadConfig } from '../../src/config/app-config.js';
import { fillInGeneratedSecrets } from '../../src/generated-secrets.js';
import { BACKEND, createTestDatabase } from '../support/test-database.js';

/** Connections to the database other than this query's own. */
async function otherConnections(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return Number(rows[0].count);
  } finally {
    await client.end();
  }
}

describe(`a start that fails (${BACKEND})`, () => {
  it('closes what it opened (pool, change feed, timers) before it reports the error', async () => {
    const database = await createTestDatabase();
    try {
      const config = fillInGeneratedSecrets(
        loadConfig({
          DATA_DIR: database.dataDir,
          ADMIN_API_KEY: generateApiKey(),
          ENCRYPTION_KEYS: database.encryptionKeys,
          LOG_LEVEL: 'silent',
        }),
        () => undefined,
      );
      // The modules are up (database connected, LISTEN started) when the routes are registered.
      await expect(
        createApp(
          { config, database: database.target },
          {
            onRoute: () => {
              throw new Error('route registration failed');
            },
          },
        ),
      ).rejects.toThrow('route registration failed');
      // Before the fix the failed app's pool and LISTEN connection stayed open (and kept jest
      // from exiting). PGlite serves one connection at a time, so there the check is that this
      // query gets a connection at all.
      expect(await otherConnections(database.target.url)).toBe(0);
    } finally {
      await database.dispose();
    }
  });
});
