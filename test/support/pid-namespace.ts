import { spawn } from 'node:child_process';
import {
  MAIN,
  PROJECT_ROOT,
  freePort,
  outlinkProcessEnv,
  type ExitStatus,
} from './child-replica.js';

/** `node dist/main.js` in embedded mode, started the way a container starts its process. */
export interface EmbeddedOutlinkProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** What the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves once it logs that it listens; rejects with its output if it ends first. */
  listening: Promise<void>;
  /** Resolves once the process and everything in its namespace ended (its pipes closed). */
  ended: Promise<ExitStatus>;
  /** SIGKILLs it (a crash, as `docker kill` does) and waits until it has ended. */
  crash(): Promise<ExitStatus>;
}

export interface EmbeddedOutlinkOptions {
  dataDir: string;
  /**
   * Run it as PID 1 of a new PID namespace, as in a container (`unshare --pid --fork`, which
   * needs root). `--kill-child` makes a SIGKILL of unshare kill the namespace's process too.
   */
  asPid1?: boolean;
}

const LISTENING = 'Outlink is listening';

/** Starts Outlink on the embedded database in `dataDir`; the caller awaits `listening` or `ended`. */
export async function startEmbeddedOutlink(
  options: EmbeddedOutlinkOptions,
): Promise<EmbeddedOutlinkProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = [process.execPath, MAIN];
  const [command, ...args] = options.asPid1
    ? ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', ...node]
    : node;
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { ...outlinkProcessEnv(url, options.dataDir), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ended = new Promise<ExitStatus>((done) =>
    child.on('close', (code, signal) => done({ code, signal })),
  );
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes(LISTENING)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void ended.then((status) =>
      reject(new Error(`Outlink ended (${JSON.stringify(status)}) before listening:\n${output}`)),
    );
  });
  // A test that only awaits `ended` must not see an unhandled rejection.
  listening.catch(() => undefined);

  return {
    url,
    output: () => output,
    listening,
    ended,
    crash: () => {
      child.kill('SIGKILL');
      return ended;
    },
  };
}
