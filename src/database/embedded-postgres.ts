import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { makePrivateDataDir, makeTreeOwnerOnly } from './data-dir-modes.js';

/**
 * Connections the app's pool may open to the embedded database.
 *
 * PGlite is one database session shared by every socket connection, and the stock socket server
 * interleaves the Parse/Bind/Execute messages of concurrent connections in it, so a query can run
 * on another connection's statement and hand back its rows (electric-sql/pglite#1046, not fixed
 * upstream). One connection keeps each query's messages together; wire it as TypeORM's
 * `extra: { max: EMBEDDED_POOL_SIZE }`.
 */
export const EMBEDDED_POOL_SIZE = 1;

/** A running embedded PostgreSQL, reachable only through a unix socket inside DATA_DIR. */
export interface EmbeddedPostgres {
  /** A `postgres://` connection string usable by `pg`: the socket directory as `?host=`. */
  url: string;
  /** Flushes the database to disk, stops the worker and frees the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Receives operational notices, such as a stale lock being taken over. */
  log?: (message: string) => void;
}

type WorkerEvent = { type: 'ready' } | { type: 'stopped' } | { type: 'error'; message: string };

// A fresh data dir takes ~7 s to initialise on a small machine; leave room for a slow CI host.
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

// pg, like libpq, reads a host starting with "/" as a directory holding `.s.PGSQL.<port>`.
const SOCKET_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${SOCKET_PORT}`;
// sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included.
const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107;

/** Where the socket of the embedded database in `dataDir` lives. */
export function embeddedSocketPath(dataDir: string): string {
  return join(resolve(dataDir), SOCKET_NAME);
}

/**
 * Starts PostgreSQL (PGlite) with its files in `<dataDir>/pgdata`, served on the unix socket
 * `<dataDir>/.s.PGSQL.5432` and nowhere else. DATA_DIR becomes 0700 and the database files
 * 0600 (0700 for directories), older data dirs included.
 *
 * PGlite runs in a worker thread because it blocks its event loop while it runs a query; on the
 * main thread that would stall every HTTP request behind each SQL statement.
 *
 * @throws Error when another process holds `<dataDir>/outlink.lock`, when DATA_DIR's path is too
 *   long for a socket, or when PGlite fails to start.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const log = options.log ?? ((message: string) => console.warn(message));
  const socketPath = embeddedSocketPath(dataDir);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `DATA_DIR ${resolve(dataDir)} is too long: the embedded database's socket ${socketPath} ` +
        `would exceed the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket path may have. ` +
        'Use a shorter DATA_DIR (or a symbolic link to it).',
    );
  }
  makePrivateDataDir(dataDir);
  const lock = await acquireDataDirLock(join(dataDir, 'outlink.lock'), dataDir, log);

  let worker: Worker | undefined;
  try {
    const pgDataDir = join(dataDir, 'pgdata');
    mkdirSync(pgDataDir, { recursive: true, mode: 0o700 });
    makeTreeOwnerOnly(pgDataDir);
    // A process that crashed leaves its socket file behind, and listen() fails on it. The lock
    // says no live process serves it.
    rmSync(socketPath, { force: true });
    worker = new Worker(new URL('./embedded-postgres.worker.js', import.meta.url), {
      workerData: { pgDataDir, socketPath },
    });
    await waitForWorkerEvent(worker, 'ready', READY_TIMEOUT_MS);
    return runningDatabase(worker, socketPath, lock, log);
  } catch (error) {
    await worker?.terminate();
    lock.release();
    throw error;
  }
}

function runningDatabase(
  worker: Worker,
  socketPath: string,
  lock: DataDirLock,
  log: (message: string) => void,
): EmbeddedPostgres {
  let exited = false;
  let stopping: Promise<void> | undefined;
  // After start-up nobody awaits the worker, so its late failures would otherwise go unseen; an
  // 'error' event without a listener would even crash the whole process.
  worker.on('message', (event: WorkerEvent) => {
    if (event.type === 'error') log(`Embedded PostgreSQL: ${event.message}`);
  });
  worker.on('error', (error) => log(`Embedded PostgreSQL worker crashed: ${error.message}`));
  worker.once('exit', (code) => {
    exited = true;
    if (!stopping) log(`Embedded PostgreSQL worker exited unexpectedly (code ${code})`);
  });

  const stopWorkerAndReleaseLock = async (): Promise<void> => {
    try {
      if (!exited) {
        const stopped = waitForWorkerEvent(worker, 'stopped', STOP_TIMEOUT_MS);
        worker.postMessage({ type: 'stop' });
        await stopped;
      }
    } finally {
      await worker.terminate();
      lock.release();
    }
  };

  return {
    // libpq's form for a socket directory; unlike `postgres://postgres@/postgres?host=`, it is a
    // valid WHATWG URL, and it names no TCP host that anything could fall back to.
    url: `postgres:///postgres?host=${encodeURIComponent(dirname(socketPath))}&user=postgres`,
    stop: () => (stopping ??= stopWorkerAndReleaseLock()),
  };
}

/**
 * Resolves with the first event of the wanted type; rejects when the worker reports an error,
 * dies, or stays silent past the timeout.
 */
function waitForWorkerEvent<T extends WorkerEvent['type']>(
  worker: Worker,
  type: T,
  timeoutMs: number,
): Promise<Extract<WorkerEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (event: WorkerEvent): void => {
      if (event.type === type) {
        cleanUp();
        resolve(event as Extract<WorkerEvent, { type: T }>);
      } else if (event.type === 'error') {
        fail(new Error(`Embedded PostgreSQL: ${event.message}`));
      }
    };
    const fail = (error: Error): void => {
      cleanUp();
      reject(error);
    };
    const onExit = (code: number): void =>
      fail(new Error(`Embedded PostgreSQL worker exited (code ${code}) before "${type}"`));
    const timer = setTimeout(
      () => fail(new Error(`Embedded PostgreSQL: no "${type}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const cleanUp = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', fail).off('exit', onExit);
    };
    worker.on('message', onMessage).on('error', fail).on('exit', onExit);
  });
}
