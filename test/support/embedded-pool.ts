import pg from 'pg';
import { EMBEDDED_POOL_SIZE } from '../../src/database/embedded-postgres.js';

/** Runs `use` with a pool on the embedded database (its one-connection size), then closes it. */
export async function withPool<T>(url: string, use: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: EMBEDDED_POOL_SIZE });
  try {
    return await use(pool);
  } finally {
    await pool.end();
  }
}

/** The bodies of the `note` table the embedded-database tests write, in order. */
export async function readNotes(url: string): Promise<string[]> {
  return withPool(url, async (pool) => {
    const { rows } = await pool.query<{ body: string }>('SELECT body FROM note ORDER BY id');
    return rows.map((row) => row.body);
  });
}
