// @ts-check
// Plain JavaScript on purpose: worker threads are started by plain node (also under jest), which
// cannot load a .ts file. With allowJs, tsc emits it to dist/ next to its compiled caller, as long
// as the build's tsconfig includes src/**/*.js.
import { inspect } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * @typedef {{ pgDataDir: string }} EmbeddedPostgresWorkerData
 * @typedef {{ type: 'stop' }} EmbeddedPostgresWorkerCommand
 * @typedef {{ type: 'ready', port: number }
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

/**
 * The server stores the port the OS picked when listening on port 0 and reports it as
 * "host:port" (see PGLiteSocketServer.start() in the pglite-socket dist).
 * @param {PGLiteSocketServer} server
 * @returns {number}
 */
function boundPortOf(server) {
  const connection = server.getServerConn();
  const port = Number(connection.slice(connection.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(`PGlite socket server reported no usable port: "${connection}"`);
  }
  return port;
}

/** @type {EmbeddedPostgresWorkerData} */
const { pgDataDir } = workerData;

/** @type {PGlite | undefined} */
let db;
/** @type {PGLiteSocketServer | undefined} */
let server;

async function start() {
  db = new PGlite(pgDataDir);
  await db.waitReady;
  server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: MAX_SOCKET_CONNECTIONS,
  });
  server.addEventListener('error', (event) => {
    const detail = event instanceof CustomEvent ? event.detail : event;
    tellParent({ type: 'error', message: `PGlite socket server: ${describeError(detail)}` });
  });
  await server.start();
  tellParent({ type: 'ready', port: boundPortOf(server) });
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
