import {
  chmodSync,
  closeSync,
  constants,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';

/** The lock on a DATA_DIR, held until `release()` or the end of this process. */
export interface DataDirLock {
  /** Forgets the holder's name and frees the lock. Safe to call twice. */
  release(): void;
}

/**
 * Takes `lockPath` for the life of this process, or throws naming the lock and its holder.
 *
 * The lock is the kernel's (an open file description lock, `fcntl(F_OFD_SETLK)`, through
 * fs-native-extensions; Node has no flock), not a pid file: the kernel frees it when its holder
 * dies however it dies, and in any PID namespace. A pid says nothing in a container, whose process
 * is PID 1 again after a restart (issue 9), and lock libraries that judge staleness by the file's
 * age (proper-lockfile) take the lock from a live holder that stalls. The lock belongs to one open
 * of the file, so a second start inside this very process is refused too. The file only names the
 * holder, for the message; it is never deleted, since deleting a lock file lets two processes lock
 * two different files of the same name.
 *
 * @throws Error naming `lockPath` and its holder when another process (or start) holds it.
 */
export async function acquireDataDirLock(
  lockPath: string,
  dataDir: string,
  log: (message: string) => void,
): Promise<DataDirLock> {
  const tryLock = await loadTryLock();
  const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT, 0o600);
  try {
    chmodSync(lockPath, 0o600); // a lock file written by an older version may be looser
    const holder = readFileSync(lockPath, 'utf8').trim();
    if (!tryLock(fd)) {
      throw new Error(
        `DATA_DIR ${dataDir} is in use: the lock ${lockPath} is held by ` +
          `${holder || 'a process that is just starting'}. ` +
          'Stop that process or set DATA_DIR to another directory.',
      );
    }
    // A clean stop empties the file, so a name left in it is a holder that died holding it.
    if (holder) log(`Taking over the stale lock ${lockPath} from ${holder}: it is not running.`);
    ftruncateSync(fd, 0);
    writeSync(fd, `pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`, 0);
  } catch (error) {
    closeSync(fd);
    throw error;
  }

  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      try {
        ftruncateSync(fd, 0);
      } finally {
        closeSync(fd); // closing the only descriptor of this open frees the lock
      }
    },
  };
}

type TryLock = (fd: number) => boolean;

// Loaded on first use, so that a platform without the addon still runs with DATABASE_URL.
async function loadTryLock(): Promise<TryLock> {
  try {
    const { tryLock } = await import('fs-native-extensions');
    return (fd) => tryLock(fd);
  } catch (error) {
    throw new Error(
      'The embedded database needs an OS-level lock on DATA_DIR, and the native addon of ' +
        `fs-native-extensions does not load here (${(error as Error).message}). It ships builds ` +
        'for Linux (glibc) and macOS among others, not for musl (Alpine); there set DATABASE_URL.',
    );
  }
}
