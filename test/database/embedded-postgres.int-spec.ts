import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  embeddedSocketPath,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '../../src/database/embedded-postgres.js';
import { readNotes, withPool } from '../support/embedded-pool.js';

// Every fresh PGlite data dir costs ~7 s to initialise, so each describe initialises one and
// its tests share it; reopening an existing dir costs ~1 s.
const FRESH_INIT_TIMEOUT_MS = 120_000;

function freshDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'outlink-embedded-pg-'));
}

/** A pid that surely belongs to no running process: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error('could not spawn a short-lived child');
  return child.pid;
}

describe('embedded PostgreSQL: a data dir reopened', () => {
  const notes = ['first', 'second', 'third'];
  // Made in beforeAll, not here: a describe whose tests are all filtered out runs no afterAll.
  let dataDir: string;
  let lockPath: string;

  beforeAll(async () => {
    dataDir = freshDataDir();
    lockPath = join(dataDir, 'outlink.lock');
    const db = await startEmbeddedPostgres(dataDir);
    try {
      await withPool(db.url, async (pool) => {
        await pool.query('CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL)');
        for (const body of notes) await pool.query('INSERT INTO note (body) VALUES ($1)', [body]);
      });
    } finally {
      await db.stop();
    }
  }, FRESH_INIT_TIMEOUT_MS);

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every row across a restart', async () => {
    const db = await startEmbeddedPostgres(dataDir);
    try {
      expect(await readNotes(db.url)).toEqual(notes);
    } finally {
      await db.stop();
    }
  });

  // Issue 9, point 7 within one machine: a pid in a lock file proves nothing once the pid is
  // reused. Here the stale lock (in the format the pid lock used) names this very process.
  it('takes over a stale lock that names a live process, which does not hold it', async () => {
    writeFileSync(lockPath, `${process.pid}\n`);

    const db = await startEmbeddedPostgres(dataDir, { log: () => undefined });
    try {
      expect(await readNotes(db.url)).toEqual(notes);
    } finally {
      await db.stop();
    }
  });

  it('takes over a stale lock left by a process that died', async () => {
    const crashedPid = deadPid();
    writeFileSync(lockPath, `pid ${crashedPid} on a host since 2025-01-01T00:00:00.000Z\n`);
    const logged: string[] = [];

    const db = await startEmbeddedPostgres(dataDir, { log: (message) => logged.push(message) });
    try {
      expect(readFileSync(lockPath, 'utf8')).toMatch(new RegExp(`^pid ${process.pid} on `));
      expect(logged).toEqual([expect.stringContaining('stale lock')]);
      expect(logged[0]).toContain(`pid ${crashedPid}`);
      expect(await readNotes(db.url)).toEqual(notes);
    } finally {
      await db.stop();
    }
  });
});

describe('embedded PostgreSQL: a running instance', () => {
  let dataDir: string;
  let lockPath: string;
  let db: EmbeddedPostgres;

  beforeAll(async () => {
    dataDir = freshDataDir();
    lockPath = join(dataDir, 'outlink.lock');
    db = await startEmbeddedPostgres(dataDir);
  }, FRESH_INIT_TIMEOUT_MS);

  afterAll(async () => {
    await db?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a second start on the same data dir and leaves the first one running', async () => {
    const holder = readFileSync(lockPath, 'utf8').trim();
    expect(holder).toMatch(new RegExp(`^pid ${process.pid} on `));
    await expect(startEmbeddedPostgres(dataDir)).rejects.toThrow(
      `DATA_DIR ${dataDir} is in use: the lock ${lockPath} is held by ${holder}. ` +
        'Stop that process or set DATA_DIR to another directory.',
    );

    expect(readFileSync(lockPath, 'utf8').trim()).toBe(holder);
    const answer = await withPool(db.url, (pool) => pool.query<{ one: number }>('SELECT 1 AS one'));
    expect(answer.rows).toEqual([{ one: 1 }]);
  });

  // Pins electric-sql/pglite#1046: the stock socket server interleaves the Parse/Bind/Execute
  // messages of concurrent connections in its one session, so a caller's parameters can run on
  // another caller's statement. Against a 4-connection pool this test wrongs 10+ callers every run
  // (some get `portal "" does not exist`); 20 KB parameters under one shared SQL text never showed
  // it, hence 200 KB and a SQL text unique per caller. EMBEDDED_POOL_SIZE must leave none wronged.
  it('never runs a caller’s parameters on another caller’s statement (pglite#1046)', async () => {
    const queryCount = 300;
    const payloads = Array.from(
      { length: queryCount },
      (_, caller) => `${caller}:${randomBytes(100_000).toString('hex')}`,
    );
    // The caller number lives in the SQL text, which is how a swapped statement shows up.
    const echoQuery = (caller: number): string =>
      `SELECT $1::text AS echoed, length($1::text) AS len, ${caller} AS caller`;
    type Echo = { echoed: string; len: number; caller: number };

    const outcomes = await withPool(db.url, (pool) =>
      Promise.allSettled(
        payloads.map(async (payload, caller) => {
          // Every tenth caller runs inside a transaction on a checked-out client.
          if (caller % 10 !== 0) return (await pool.query<Echo>(echoQuery(caller), [payload])).rows;
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const { rows } = await client.query<Echo>(echoQuery(caller), [payload]);
            await client.query('COMMIT');
            return rows;
          } finally {
            client.release();
          }
        }),
      ),
    );

    // Describe each wronged caller briefly: printing the payloads would dump 60 MB.
    const wrongedCallers = outcomes.flatMap((outcome, caller) => {
      if (outcome.status === 'rejected') return [`caller ${caller}: ${String(outcome.reason)}`];
      const [row, ...extraRows] = outcome.value;
      if (row?.caller !== caller || extraRows.length > 0) {
        const callersAnswered = outcome.value.map((r) => r.caller).join(', ');
        return [`caller ${caller}: got the rows of caller(s) [${callersAnswered}]`];
      }
      if (row.echoed !== payloads[caller] || row.len !== payloads[caller].length) {
        return [`caller ${caller}: got another payload back`];
      }
      return [];
    });
    expect(wrongedCallers).toEqual([]);
  });

  it('stops idempotently, frees the lock and removes the socket', async () => {
    const url = db.url;
    const socketPath = embeddedSocketPath(dataDir);
    expect(existsSync(socketPath)).toBe(true);

    await Promise.all([db.stop(), db.stop()]);
    await db.stop();

    // The lock file stays (deleting it would let two processes lock two files), naming nobody.
    expect(readFileSync(lockPath, 'utf8')).toBe('');
    expect(existsSync(socketPath)).toBe(false);
    const client = new pg.Client({ connectionString: url });
    await expect(client.connect()).rejects.toThrow(/ENOENT/);
  });
});
