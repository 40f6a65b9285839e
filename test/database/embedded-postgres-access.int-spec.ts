import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import {
  endpointOf,
  ownTcpListeners,
  probePostgres,
  readErrorAsUser,
  uidOf,
} from '../support/postgres-probe.js';
import { readNotes, withPool } from '../support/embedded-pool.js';

// Issue 9, point 1 (SPEC §11 "Embedded database"): PGlite listened on a random loopback port
// with no password, so any local process was its superuser, and its files were 0666.

/**
 * What under `dir` (itself included) someone other than its owner could use: anything but a 0700
 * directory or a 0600 file or socket, as "path mode"; the count and the first ten.
 */
function notPrivate(dir: string): { count: number; first: string[] } {
  const loose = looseEntries(dir, dir);
  return { count: loose.length, first: loose.slice(0, 10) };
}
const ALL_PRIVATE = { count: 0, first: [] };

function looseEntries(dir: string, root: string): string[] {
  const mode = lstatSync(dir).mode & 0o777;
  const own = mode === 0o700 ? [] : [`${relative(root, dir) || '.'} ${mode.toString(8)}`];
  return own.concat(
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return looseEntries(path, root);
      const fileMode = lstatSync(path).mode & 0o777;
      return fileMode === 0o600 ? [] : [`${relative(root, path)} ${fileMode.toString(8)}`];
    }),
  );
}

/** Loosens every mode under `dir` the way PGlite 0.5 left a data dir (files 0666, dirs 0755). */
function loosenModes(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) loosenModes(path);
    else chmodSync(path, 0o666);
  }
}

describe('embedded PostgreSQL: a DATA_DIR too long for a unix socket', () => {
  it('is refused with a message saying so, before anything is created', async () => {
    const dataDir = join(tmpdir(), `outlink-${'long'.repeat(25)}`);
    await expect(startEmbeddedPostgres(dataDir)).rejects.toThrow(
      `DATA_DIR ${dataDir} is too long: the embedded database's socket ${dataDir}/.s.PGSQL.5432 ` +
        'would exceed the 107 bytes a unix socket path may have.',
    );
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('embedded PostgreSQL: nobody else gets in', () => {
  const notes = ['first', 'second'];
  let dataDir: string;

  // A fresh data dir (~7 s): the first test looks at the modes PGlite's initialisation left.
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'outlink-embedded-access-'));
    const db = await startEmbeddedPostgres(dataDir);
    try {
      await withPool(db.url, async (pool) => {
        await pool.query('CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL)');
        for (const body of notes) await pool.query('INSERT INTO note (body) VALUES ($1)', [body]);
      });
    } finally {
      await db.stop();
    }
  }, 120_000);

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // PGlite chmods the files of a new data dir to 0666 itself; no start-up repair has run on them.
  it('initialises a fresh data dir with private modes', () => {
    expect(notPrivate(dataDir)).toEqual(ALL_PRIVATE);
  });

  it('serves no TCP listener that speaks PostgreSQL', async () => {
    const before = ownTcpListeners();
    const db = await startEmbeddedPostgres(dataDir);
    try {
      const opened = ownTcpListeners().filter(
        (listener) =>
          !before.some((old) => old.host === listener.host && old.port === listener.port),
      );
      const speakers = [];
      for (const listener of opened) {
        if ((await probePostgres(listener)).outcome === 'postgres') speakers.push(listener);
      }
      expect(speakers).toEqual([]);
      // The probe does recognise the database where it really is.
      expect(await probePostgres(endpointOf(db.url))).toEqual({ outcome: 'postgres' });
    } finally {
      await db.stop();
    }
  });

  // The tests run as root on this machine; runuser switches to `nobody` for the attempt. Without
  // root (or without runuser) uidOf throws and the test fails rather than skipping.
  it('lets no other OS user open a session or read the files', async () => {
    expect(process.getuid?.()).toBe(0);
    expect(await uidOf('nobody')).not.toBe(0);
    const db = await startEmbeddedPostgres(dataDir);
    try {
      expect(await probePostgres(endpointOf(db.url), 'nobody')).toEqual({
        outcome: 'refused',
        code: 'EACCES',
      });
      expect(await readErrorAsUser('nobody', join(dataDir, 'pgdata', 'PG_VERSION'))).toMatch(
        /Permission denied/,
      );
      expect(await probePostgres(endpointOf(db.url))).toEqual({ outcome: 'postgres' });
    } finally {
      await db.stop();
    }
  });

  it('keeps DATA_DIR, the database files and the socket private (0700/0600)', async () => {
    const db = await startEmbeddedPostgres(dataDir);
    try {
      await withPool(db.url, async (pool) => {
        await pool.query(
          'CREATE TABLE IF NOT EXISTS mode_check (id serial PRIMARY KEY, body text)',
        );
        await pool.query(
          "INSERT INTO mode_check (body) SELECT repeat('x', 500) FROM generate_series(1, 2000)",
        );
        await pool.query('CREATE INDEX IF NOT EXISTS mode_check_body ON mode_check (body)');
        await pool.query('CHECKPOINT');
      });
      const endpoint = endpointOf(db.url);
      expect('path' in endpoint && relative(dataDir, endpoint.path)).toBe('.s.PGSQL.5432');
      expect(notPrivate(dataDir)).toEqual(ALL_PRIVATE);
    } finally {
      await db.stop();
    }
    expect(notPrivate(dataDir)).toEqual(ALL_PRIVATE);
  });

  it('repairs the modes of a data dir written by an older version', async () => {
    loosenModes(dataDir);
    const db = await startEmbeddedPostgres(dataDir);
    try {
      expect(notPrivate(dataDir)).toEqual(ALL_PRIVATE);
      expect(await readNotes(db.url)).toEqual(notes);
    } finally {
      await db.stop();
    }
  });
});
