import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian and Ubuntu put the server binaries; PG_BIN_DIR overrides it. */
const BIN_DIR = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const RUNUSER = '/usr/sbin/runuser';
const SERVER_USER = 'postgres';
const runningAsRoot = process.getuid?.() === 0;

/**
 * Why a private cluster cannot be started here, or undefined when it can. PostgreSQL refuses to
 * run as root, so root needs runuser and the postgres account.
 */
export function privateClusterUnavailable(): string | undefined {
  for (const binary of ['initdb', 'pg_ctl'])
    if (!existsSync(join(BIN_DIR, binary)))
      return `${join(BIN_DIR, binary)} is missing (set PG_BIN_DIR to PostgreSQL's bin directory)`;
  if (runningAsRoot && !existsSync(RUNUSER))
    return `running as root and ${RUNUSER} is missing: PostgreSQL refuses to run as root`;
  return undefined;
}

/**
 * A PostgreSQL server of a test's own, which it may stop and start at will without disturbing
 * the shared cluster other tests use. Trust authentication, TCP on 127.0.0.1 only.
 */
export interface PrivateCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: an admin URL for createTestDatabase. */
  url: string;
  port: number;
  /** Stops the server (fast mode: clients are disconnected, nothing waits for them). */
  stop(): Promise<void>;
  /** Starts it again on the same port and files; resolves once it accepts connections. */
  start(): Promise<void>;
  /** The server log, for a failure message. */
  logFile: string;
  /** Stops the server if it runs and deletes its files. Never throws. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs a server binary as the postgres account (through runuser when we are root). */
async function asServerUser(binary: string, args: string[]): Promise<void> {
  const [command, commandArgs] = runningAsRoot
    ? [RUNUSER, ['-u', SERVER_USER, '--', join(BIN_DIR, binary), ...args]]
    : [join(BIN_DIR, binary), args];
  try {
    await run(command, commandArgs, { timeout: 60_000 });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${binary} ${args.join(' ')} failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`,
    );
  }
}

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const root = mkdtempSync(join(tmpdir(), 'outlink-private-pg-'));
  if (runningAsRoot) {
    const { stdout } = await run('id', ['-u', SERVER_USER]);
    const { stdout: group } = await run('id', ['-g', SERVER_USER]);
    chownSync(root, Number(stdout.trim()), Number(group.trim()));
  }
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const port = await freePort();
  const options = `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async (): Promise<void> => {
    await asServerUser('pg_ctl', ['-D', dataDir, '-o', options, '-l', logFile, '-w', 'start']);
  };
  const stop = async (): Promise<void> => {
    await asServerUser('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  };
  const dispose = async (): Promise<void> => {
    // Also after a failed test or a failed start: whatever server runs on these files stops.
    if (existsSync(join(dataDir, 'postmaster.pid')))
      await stop().catch(() =>
        asServerUser('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(
          () => undefined,
        ),
      );
    rmSync(root, { recursive: true, force: true });
  };
  try {
    // --no-sync: a throwaway cluster need not survive a power cut, and fsync makes initdb slow.
    await asServerUser('initdb', [
      '-D',
      dataDir,
      '--auth=trust',
      '--username=postgres',
      '--no-sync',
      '--no-instructions',
    ]);
    await start();
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    logFile,
    start,
    stop,
    dispose,
  };
}
