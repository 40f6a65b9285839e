import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import supertest from 'supertest';
import type { TestDatabase } from './test-database.js';

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
export const MAIN = join(PROJECT_ROOT, 'dist/main.js');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Outlink as operators run it: `node dist/main.js` in a process of its own. */
export interface ChildReplica {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  pid: number;
  adminKey: string;
  http(): ReturnType<typeof supertest>;
  /** Set once the process has ended. */
  readonly exitStatus: ExitStatus | undefined;
  /** What the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the process to end. */
  kill(signal: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGTERM (graceful shutdown), SIGKILL if that takes too long; a no-op once ended. */
  stop(): Promise<void>;
}

export interface ChildReplicaOptions {
  /** Must be a PostgreSQL database: two processes cannot share an embedded one. */
  database: TestDatabase;
  adminKey: string;
  env?: Record<string, string>;
}

function newestModification(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestModification(path));
    // The build compiles src/**/*.js too (the embedded database's worker thread).
    else if (/(?<!\.spec)\.ts$|\.js$/.test(entry.name))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * `npm test` builds dist/ first (pretest). A jest run started directly may find it missing or
 * older than src/: a stale build would test yesterday's code, so it is rebuilt then.
 */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestModification(join(PROJECT_ROOT, 'src')))
    return;
  console.log('dist/ is missing or older than src/: building it (npm run build)');
  await promisify(execFile)(
    join(PROJECT_ROOT, 'node_modules/.bin/tsc'),
    ['-p', join(PROJECT_ROOT, 'tsconfig.build.json')],
    { cwd: PROJECT_ROOT, timeout: 120_000 },
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/**
 * The environment of an Outlink process a test starts: nothing of the test runner's environment
 * (NODE_OPTIONS, TEST_DATABASE_URL) leaks in.
 */
export function outlinkProcessEnv(url: string, dataDir: string): Record<string, string> {
  const { hostname, port } = new URL(url);
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'development',
    HOST: hostname,
    PORT: port,
    PUBLIC_BASE_URL: url,
    DATA_DIR: dataDir,
  };
}

/** Starts a replica process on the database and waits until it answers /health/live. */
export async function startChildReplica(options: ChildReplicaOptions): Promise<ChildReplica> {
  if (options.database.target.embedded)
    throw new Error('a child replica needs a PostgreSQL database, not the embedded one');
  await ensureBuilt();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'outlink-child-'));
  const child = spawn(process.execPath, [MAIN], {
    cwd: PROJECT_ROOT,
    env: {
      ...outlinkProcessEnv(url, dataDir),
      DATABASE_URL: options.database.target.url,
      ADMIN_API_KEY: options.adminKey,
      ENCRYPTION_KEYS: options.database.encryptionKeys,
      LOG_LEVEL: 'warn',
      // As in startTestApp: the test providers listen on loopback.
      OUTBOUND_ALLOW: '127.0.0.1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let exitStatus: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((done) =>
    child.on('exit', (code, signal) => {
      exitStatus = { code, signal };
      rmSync(dataDir, { recursive: true, force: true });
      done(exitStatus);
    }),
  );

  const kill = async (signal: NodeJS.Signals): Promise<ExitStatus> => {
    if (exitStatus) return exitStatus;
    child.kill(signal);
    return exited;
  };
  const replica: ChildReplica = {
    url,
    pid: child.pid!,
    adminKey: options.adminKey,
    http: () => supertest(url),
    get exitStatus() {
      return exitStatus;
    },
    output: () => output,
    kill,
    stop: async () => {
      if (exitStatus) return;
      child.kill('SIGTERM');
      const ended = await Promise.race([exited, sleep(STOP_TIMEOUT_MS, undefined, { ref: false })]);
      if (!ended) await kill('SIGKILL');
    },
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitStatus) throw new Error(`the replica exited while starting:\n${output}`);
    const live = await fetch(`${url}/health/live`).catch(() => undefined);
    if (live?.ok) return replica;
    if (Date.now() > deadline) {
      await replica.kill('SIGKILL');
      throw new Error(`the replica did not answer within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(100);
  }
}
