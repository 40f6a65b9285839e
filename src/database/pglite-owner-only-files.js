// @ts-check
// Imported by embedded-postgres.worker.js before PGlite, in the worker thread only.
//
// PGlite's file layer (Emscripten's NODEFS) sets file modes itself, whatever the umask: it chmods
// the files of a new data dir to 0666 and files PostgreSQL opens with fopen() to 0644 (measured
// with PGlite 0.5.14), and its directories get 0777 minus the umask. The process umask cannot
// help: chmod ignores it, a worker thread may not set it, and setting it from the main thread
// would change it for everything else the process (or a test runner) creates. This thread runs
// nothing but PGlite, so here the `fs` calls it makes lose the group and other bits of every mode
// they ask for: files 0600, directories 0700, from the moment they exist. Emscripten only uses
// the synchronous calls.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const GROUP_AND_OTHER = 0o077;

/** @param {number | string} mode a mode as fs takes it: a number, or an octal string */
const narrow = (mode) =>
  (typeof mode === 'string' ? Number.parseInt(mode, 8) : mode) & ~GROUP_AND_OTHER;

const { chmodSync, fchmodSync, mkdirSync, openSync, writeFileSync } = fs;

/** @type {typeof fs.chmodSync} */
const ownerOnlyChmodSync = (path, mode) => chmodSync(path, narrow(mode));
/** @type {typeof fs.fchmodSync} */
const ownerOnlyFchmodSync = (fd, mode) => fchmodSync(fd, narrow(mode));
/** @type {typeof fs.openSync} */
const ownerOnlyOpenSync = (path, flags, mode) => openSync(path, flags, narrow(mode ?? 0o666));
/** @type {(path: fs.PathLike, options?: fs.Mode | fs.MakeDirectoryOptions | null) => any} */
const ownerOnlyMkdirSync = (path, options) => {
  const { mode = 0o777, ...rest } =
    typeof options === 'object' && options !== null ? options : { mode: options ?? 0o777 };
  return mkdirSync(path, { ...rest, mode: narrow(mode) });
};
/** @type {typeof fs.writeFileSync} */
const ownerOnlyWriteFileSync = (file, data, options) => {
  const { mode = 0o666, ...rest } =
    typeof options === 'string' ? { encoding: options } : (options ?? {});
  writeFileSync(file, data, { ...rest, mode: narrow(mode) });
};

fs.chmodSync = ownerOnlyChmodSync;
fs.fchmodSync = ownerOnlyFchmodSync;
fs.openSync = ownerOnlyOpenSync;
fs.mkdirSync = /** @type {typeof fs.mkdirSync} */ (ownerOnlyMkdirSync);
fs.writeFileSync = ownerOnlyWriteFileSync;
// `import { chmodSync } from 'node:fs'` bindings (PGlite's NodeFS uses one) see them too.
syncBuiltinESMExports();
