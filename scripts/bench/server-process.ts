import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

/** A service (or the bare baseline) running as its own Node process, as in production. */
export interface ServerProcess {
  pid: number;
  baseUrl: string;
  /** Where the process's stdout and stderr go. */
  logPath: string;
  /** Resident set size now, in bytes (VmRSS), or undefined once the process is gone. */
  currentRssBytes(): number | undefined;
  /** The process's peak resident set size so far, in bytes (VmHWM). */
  peakRssBytes(): number | undefined;
  /** CPU time (user + system, every thread) the process has used so far, in seconds. */
  cpuSeconds(): number;
  /** SIGTERM (graceful shutdown, which also writes a --cpu-prof profile), then wait for exit. */
  stop(): Promise<void>;
}

export interface StartOptions {
  script: string;
  env: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Polled until it answers 200. */
  readyPath: string;
  logPath: string;
  /** Working directory of the child (the --cpu-prof output lands there unless told otherwise). */
  cwd?: string;
}

/** Children still running: killed if the bench dies, so that no server outlives it. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime from /proc/<pid>/stat, in seconds (USER_HZ = 100). */
function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // The child writes straight to a file: piping through the bench would cost the bench CPU.
  const logFd = openSync(options.logPath, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.script],
    {
      env: { PATH: process.env.PATH ?? '', ...options.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', logFd, logFd],
      cwd: options.cwd,
    },
  );
  closeSync(logFd);
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  void exited.then(() => running.delete(child));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (hasExited) {
      const log = readFileSync(options.logPath, 'utf8').slice(-4000);
      throw new Error(`${options.script} exited before it was ready:\n${log}`);
    }
    try {
      const response = await fetch(`${baseUrl}${options.readyPath}`);
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.script} was not ready within ${READY_TIMEOUT_MS / 1000} s`);
    }
    await sleep(100);
  }

  const pid = child.pid!;
  return {
    pid,
    baseUrl,
    logPath: options.logPath,
    currentRssBytes: () => procStatusBytes(pid, 'VmRSS'),
    peakRssBytes: () => procStatusBytes(pid, 'VmHWM'),
    cpuSeconds: () => procCpuSeconds(pid),
    stop: async () => {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Error and warning lines of a service log (pino JSON), grouped by message: what went wrong
 * behind a 5xx, without reading the whole log.
 */
export function logProblems(logPath: string, limit = 5): { message: string; count: number }[] {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return [];
  }
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let message: string;
    try {
      const record = JSON.parse(line) as {
        level?: number;
        msg?: string;
        err?: { message?: string; type?: string };
      };
      if ((record.level ?? 0) < 40) continue;
      const cause = record.err
        ? ` (${record.err.type ?? 'Error'}: ${record.err.message ?? ''})`
        : '';
      message = `${record.level === 40 ? 'warn' : 'error'}: ${record.msg ?? ''}${cause}`;
    } catch {
      message = `output: ${line}`;
    }
    message = message.slice(0, 300);
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([message, count]) => ({ message, count }));
}
