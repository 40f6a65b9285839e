import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { apiKeyHint, hashApiKey } from '../../src/auth/api-key-secret.js';
import { encryptionContext } from '../../src/crypto/encrypted-column.js';
import type { KeyRing } from '../../src/crypto/key-ring.js';
import { dataSourceOptions, type DatabaseTarget } from '../../src/database/data-source-options.js';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { LINK_ACCESS_TOKEN, LINK_REFRESH_TOKEN } from '../../src/database/encrypted-columns.js';
import { runMigrationsExclusively } from '../../src/database/migration-runner.js';
import {
  ACCESS_TOKEN_LIFETIME_SECONDS,
  accessTokenFor,
  refreshTokenFor,
} from './fake-token-endpoint.js';

export type Backend = 'postgresql' | 'pglite';

/**
 * A scratch database for one back end. On PostgreSQL the bench may query it at any time; PGlite
 * is opened by the bench only while no server runs on it (one session, and the stock socket
 * server can mix up concurrent connections' rows: electric-sql/pglite#1046).
 */
export interface BenchDatabase {
  backend: Backend;
  /** Whether the bench may query while the service runs on the database. */
  queryableWhileServing: boolean;
  /** DATABASE_URL / DATA_DIR for the service process. */
  serverEnv: Record<string, string>;
  withPool<T>(work: (pool: pg.Pool) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

async function migrate(target: DatabaseTarget): Promise<void> {
  const dataSource = await new DataSource(dataSourceOptions(target)).initialize();
  try {
    await runMigrationsExclusively(dataSource);
  } finally {
    await dataSource.destroy();
  }
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

export async function createPostgresDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `outlink_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'outlink-bench-'));
  await migrate({ url: url.toString(), embedded: false });
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  return {
    backend: 'postgresql',
    queryableWhileServing: true,
    serverEnv: { DATABASE_URL: url.toString(), DATA_DIR: dataDir },
    withPool: (work) => work(pool),
    dispose: async () => {
      await pool.end();
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function createPgliteDatabase(): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'outlink-bench-pglite-'));
  const withEmbedded = async <T>(work: (url: string) => Promise<T>): Promise<T> => {
    const embedded = await startEmbeddedPostgres(dataDir, { log: () => undefined });
    try {
      return await work(embedded.url);
    } finally {
      await embedded.stop();
    }
  };
  await withEmbedded((url) => migrate({ url, embedded: true }));
  return {
    backend: 'pglite',
    queryableWhileServing: false,
    serverEnv: { DATA_DIR: dataDir },
    withPool: (work) =>
      withEmbedded(async (url) => {
        const pool = new pg.Pool({ connectionString: url, max: 1 });
        try {
          return await work(pool);
        } finally {
          await pool.end();
        }
      }),
    dispose: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
  };
}

/** A consumer key granted every link (link_ids NULL), inserted the way the API stores it. */
export async function insertConsumerKey(pool: pg.Pool, key: string): Promise<void> {
  await pool.query(
    `INSERT INTO api_keys (id, name, role, link_ids, key_hash, key_hint)
     VALUES ($1, 'bench consumer', 'consumer', NULL, $2, $3)`,
    [randomUUID(), hashApiKey(key), apiKeyHint(key)],
  );
}

export interface SeedOptions {
  count: number;
  /** The fake provider's base URL; links refresh at `<it>/token`. */
  providerUrl: string;
  /** Seconds from now until link `index`'s access token expires (negative: already expired). */
  expiresInSeconds: (index: number) => number;
}

const SEED_BATCH = 2_000;

/**
 * Connected links with encrypted tokens, written straight into `links` with the app's KeyRing
 * and encryption contexts (no provider round trip). Each token was issued an hour before it
 * expires, like a real 1-hour token, so the refresher's half-lifetime rule does not apply.
 */
export async function seedLinks(
  pool: pg.Pool,
  keyRing: KeyRing,
  options: SeedOptions,
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < options.count; start += SEED_BATCH) {
    const batch = { ids: [] as string[], access: [] as string[], refresh: [] as string[] };
    const expiresIn: number[] = [];
    for (let index = start; index < Math.min(options.count, start + SEED_BATCH); index++) {
      const id = randomUUID();
      batch.ids.push(id);
      batch.access.push(
        keyRing.encrypt(accessTokenFor(id, 0), encryptionContext(LINK_ACCESS_TOKEN, id)),
      );
      batch.refresh.push(
        keyRing.encrypt(refreshTokenFor(id, 0), encryptionContext(LINK_REFRESH_TOKEN, id)),
      );
      expiresIn.push(options.expiresInSeconds(index));
    }
    await pool.query(
      `INSERT INTO links (id, name, provider, grant_type, client_id, scopes, authorization_endpoint,
         token_endpoint, token_endpoint_auth_method, status, granted_scopes, access_token_encrypted,
         token_type, access_token_expires_at, refresh_token_encrypted, refresh_token_present,
         last_refreshed_at, created_at)
       SELECT t.id, 'bench link ' || t.id, 'custom', 'authorization_code', 'outlink-bench',
              ARRAY['openid', 'offline_access'], $5 || '/authorize', $5 || '/token',
              'client_secret_basic', 'connected', ARRAY['openid', 'offline_access'], t.access,
              'Bearer', now() + make_interval(secs => t.expires_in), t.refresh, true,
              now() + make_interval(secs => t.expires_in - $6), now() - interval '2 days'
          FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::text[]) AS t(id, access, expires_in, refresh)`,
      [
        batch.ids,
        batch.access,
        expiresIn,
        batch.refresh,
        options.providerUrl,
        ACCESS_TOKEN_LIFETIME_SECONDS,
      ],
    );
    ids.push(...batch.ids);
  }
  return ids;
}

/** Empties the link tables between measurements; API keys stay. */
export async function removeAllLinks(pool: pg.Pool): Promise<void> {
  await pool.query('TRUNCATE links, link_events, authorization_requests');
}

/** Links whose token still expires within `leadSeconds` (not yet renewed). */
export async function countExpiringWithin(pool: pg.Pool, leadSeconds: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM links
      WHERE deleted_at IS NULL AND access_token_expires_at < now() + make_interval(secs => $1)`,
    [leadSeconds],
  );
  return rows[0].n;
}
