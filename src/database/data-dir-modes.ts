import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * Creates DATA_DIR if needed and makes it 0700. `mkdir`'s mode leaves an existing directory as it
 * is (and a new one is subject to the umask), hence the chmod.
 *
 * @throws Error saying what to do when this user may not change the directory's mode.
 */
export function makePrivateDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  try {
    chmodSync(dataDir, PRIVATE_DIR);
  } catch (error) {
    throw new Error(
      `DATA_DIR ${dataDir} must be private (mode 0700) and its mode cannot be set ` +
        `(${(error as Error).message}). Make the directory belong to the user Outlink runs as.`,
    );
  }
}

/**
 * Makes everything under `dir` (itself included) owner-only: directories 0700, other entries
 * 0600. This repairs data dirs written before the embedded database kept its files private
 * (PGlite left them 0666). Symbolic links are skipped: chmod would follow them out of the tree.
 */
export function makeTreeOwnerOnly(dir: string): void {
  chmodIfLoose(dir, PRIVATE_DIR);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeTreeOwnerOnly(path);
    else if (!entry.isSymbolicLink()) chmodIfLoose(path, PRIVATE_FILE);
  }
}

function chmodIfLoose(path: string, mode: number): void {
  if ((lstatSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
}
