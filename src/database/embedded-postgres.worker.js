// @ts-check
// Plain JavaScript on purpose: worker threads are started by plain node (also under jest), which
// cannot load a .ts file. With allowJs, tsc emits it to dist/ next to its compiled caller, as long
// as the build's tsconfig includes src/**/*.js.
// First: PGlite must find `fs` narrowed to owner-only modes before it creates any file.
import './pglite-owner-only-files.js';
import { chmodSync } from 'node:fs';
import { inspect } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * @typedef {{ pgDataDir: string, socketPath: string }} EmbeddedPostgresWorkerData
 * @typedef {{ type: 'stop' }} EmbeddedPostgresWorkerCommand
 * @typedef {{ type: 'ready' }
 *   | { type: 'stopped' }
 *   | { type: 'error', message: string }} EmbeddedPostgresWorkerEvent
 */

// Room for a pool to reconnect while the server still counts the socket it is closing;
// the app itself uses one connection (see EMBEDDED_POOL_SIZE).
const MAX_SOCKET_CONNECTIONS = 4;

if (!parentPort) {
  throw new Error('embedded-postgres.worker.js must run as a worker thread');
}
const parent = parentPort;

/** @param {EmbeddedPostgresWorkerEvent} event */
function tellParent(event) {
  parent.postMessage(event);
}

// PGlite's file system layer throws plain objects such as `ErrnoError { errno: 54 }`, which
// String() would reduce to "[object Object]".
/** @param {unknown} error */
function describeError(error) {
  return error instanceof Error ? error.message : inspect(error, { breakLength: Infinity });
}

/** @type {EmbeddedPostgresWorkerData} */
const { pgDataDir, socketPath } = workerData;

/** @type {PGlite | undefined} */
let db;
/** @type {PGLiteSocketServer | undefined} */
let server;

async function start() {
  db = new PGlite(pgDataDir);
  await db.waitReady;
  // A unix socket, not TCP: PGlite asks for no password, so only the file system may decide who
  // connects, and DATA_DIR (0700) lets no other user reach the socket.
  server = new PGLiteSocketServer({
    db,
    path: socketPath,
    maxConnections: MAX_SOCKET_CONNECTIONS,
  });
  server.addEventListener('error', (event) => {
    const detail = event instanceof CustomEvent ? event.detail : event;
    tellParent({ type: 'error', message: `PGlite socket server: ${describeError(detail)}` });
  });
  await server.start();
  // listen() creates the socket 0777 minus the umask; connecting needs write permission on it.
  chmodSync(socketPath, 0o600);
  tellParent({ type: 'ready' });
}

// Closing PGlite is what flushes its files to disk, so it must happen before the thread ends.
async function stop() {
  await server?.stop();
  if (db && !db.closed) {
    await db.close();
  }
}

parent.on('message', (/** @type {EmbeddedPostgresWorkerCommand} */ command) => {
  if (command.type !== 'stop') return;
  stop()
    .then(() => tellParent({ type: 'stopped' }))
    .catch((error) => tellParent({ type: 'error', message: describeError(error) }))
    // Closing the port lets the thread exit on its own once nothing else is pending.
    .finally(() => parent.close());
});

start().catch((error) => {
  tellParent({ type: 'error', message: `cannot start on ${pgDataDir}: ${describeError(error)}` });
  stop()
    .catch(() => undefined)
    .finally(() => parent.close());
});
