import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { generateApiKey } from '../../src/auth/api-key-secret.js';
import { generateEncryptionKeyEntry } from '../../src/config/encryption-keys.js';
import { ensureBuilt } from '../support/child-replica.js';
import { BACKEND, createTestDatabase, type TestDatabase } from '../support/test-database.js';

const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const SCRIPTS = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

/** Every `npm run <x>` and `npm start|test` the README tells an operator to type. */
function scriptsTheReadmeNames(): string[] {
  const named = new Set<string>();
  for (const match of README.matchAll(/npm run ([a-z][\w:-]*)/g)) named.add(match[1]);
  for (const match of README.matchAll(/npm (start|test)\b/g)) named.add(match[1]);
  return [...named].sort();
}

/**
 * The command a script runs once `npm run build` (done by `npm test` beforehand) has run: the
 * scripts are `npm run build && node <file>`, and the file must exist (regression:
 * `migration:run` pointed at dist/scripts/run-migrations.js, which nothing built).
 */
function builtEntryOf(script: string): string {
  const command = SCRIPTS[script];
  const match = /^npm run build && node (\S+\.js)$/.exec(command ?? '');
  if (!match) throw new Error(`${script} is not "npm run build && node <file>": ${command}`);
  return join(PROJECT_ROOT, match[1]);
}

async function runNode(
  file: string,
  env: Record<string, string>,
  cwd = PROJECT_ROOT,
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [file], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 120_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/**
 * The environment a tool gets, as operators set it: DATA_DIR always (generated key files land
 * there, not in the repository), plus DATABASE_URL on PostgreSQL.
 */
function databaseEnv(database: TestDatabase, dataDir: string): Record<string, string> {
  return BACKEND === 'pglite'
    ? { DATA_DIR: dataDir }
    : { DATA_DIR: dataDir, DATABASE_URL: database.target.url };
}

describe(`npm scripts the README names (${BACKEND})`, () => {
  let database: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase();
    // The embedded back end needs a data dir no other process holds: a fresh one.
    await database.stop();
    dataDir = mkdtempSync(join(tmpdir(), 'outlink-scripts-'));
  }, 120_000);
  afterAll(async () => {
    await database?.restart().catch(() => undefined);
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('names only scripts that exist, and each of them is tested here', () => {
    const named = scriptsTheReadmeNames();
    expect(named).toEqual(
      expect.arrayContaining(['start', 'test', 'migration:run', 'keys:rotate', 'openapi']),
    );
    for (const script of named)
      expect({ script, exists: script in SCRIPTS }).toEqual({
        script,
        exists: true,
      });
    // `test` is what CI runs.
    const testedHere = [
      'start',
      'migration:run',
      'keys:rotate',
      'openapi',
      'migration:generate',
      'bench',
    ];
    expect(named.filter((script) => !testedHere.includes(script) && script !== 'test')).toEqual([]);
  });

  it('bench runs every scenario in smoke mode and writes its report where it is told', async () => {
    expect(SCRIPTS.bench).toBe(
      'npm run build && tsc -p tsconfig.bench.json && node dist-bench/scripts/bench/bench.js',
    );
    // Incremental (tsconfig.bench.json): only the first compilation takes long.
    await promisify(execFile)(
      join(PROJECT_ROOT, 'node_modules/.bin/tsc'),
      ['-p', join(PROJECT_ROOT, 'tsconfig.bench.json')],
      { cwd: PROJECT_ROOT, timeout: 150_000 },
    );
    const committed = readFileSync(join(PROJECT_ROOT, 'BENCHMARKS.md'), 'utf8');
    const scratch = mkdtempSync(join(tmpdir(), 'outlink-bench-'));
    try {
      const result = await runNode(join(PROJECT_ROOT, 'dist-bench/scripts/bench/bench.js'), {
        BENCH_SMOKE: '1',
        BENCH_OUTPUT_DIR: scratch,
        BENCH_BACKENDS: BACKEND,
        ...(process.env.TEST_DATABASE_URL
          ? { BENCH_DATABASE_URL: process.env.TEST_DATABASE_URL }
          : {}),
      });
      // The bench's own console output names the scenario that failed.
      expect({ code: result.code, output: result.output }).toMatchObject({ code: 0 });
      expect(result.output).toMatch(/\[stampede\/\w+\] 20 answers \{"200":20\}/);
      const report = readFileSync(join(scratch, 'BENCHMARKS.md'), 'utf8');
      expect(report).toContain('BENCH_SMOKE=1 npm run bench');
      for (const section of ['## 1. Hot path', '## 2. Stampede', '## 3. Fleet refresh'])
        expect(report).toContain(section);
      // Every token answer of the smoke run was a 200, and the stampede made one grant.
      expect(report).toMatch(/\| token \(LOG_LEVEL=warn\) \|(?:[^|]*\|){6} 0 \|/);
      expect(report).toMatch(/\| \*\*1\*\* \(ok\) \|/);
      expect(existsSync(join(scratch, 'benchmarks/hot-path-latency.svg'))).toBe(true);
      expect(readFileSync(join(PROJECT_ROOT, 'BENCHMARKS.md'), 'utf8')).toBe(committed);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 240_000);

  it('migration:run applies the migrations to a new database, then finds nothing to do', async () => {
    const entry = builtEntryOf('migration:run');
    expect(existsSync(entry)).toBe(true);
    const first = await runNode(entry, databaseEnv(database, dataDir));
    expect(first).toMatchObject({ code: 0 });
    expect(first.output).toMatch(/Applied \d+ migration\(s\)\./);
    const second = await runNode(entry, databaseEnv(database, dataDir));
    expect(second).toMatchObject({ code: 0 });
    expect(second.output).toContain('No pending migrations');
  }, 120_000);

  it('keys:rotate re-encrypts under the current key and reports it', async () => {
    const result = await runNode(builtEntryOf('keys:rotate'), {
      ...databaseEnv(database, dataDir),
      ENCRYPTION_KEYS: generateEncryptionKeyEntry('k2'),
    });
    expect(result).toMatchObject({ code: 0 });
    expect(result.output).toMatch(/Done: \d+ value\(s\) re-encrypted; current key "k2"/);
  }, 120_000);

  it('openapi writes the same document as the committed openapi.yaml', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'outlink-openapi-'));
    try {
      const result = await runNode(builtEntryOf('openapi'), {}, scratch);
      expect(result).toMatchObject({ code: 0 });
      expect(readFileSync(join(scratch, 'openapi.yaml'), 'utf8')).toBe(
        readFileSync(join(PROJECT_ROOT, 'openapi.yaml'), 'utf8'),
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);

  it('start serves until SIGTERM, then exits 0', async () => {
    const port = await new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as AddressInfo;
        server.close(() => done(free));
      });
    });
    const child = spawn(process.execPath, [builtEntryOf('start')], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...databaseEnv(database, dataDir),
        PORT: String(port),
        HOST: '127.0.0.1',
        ADMIN_API_KEY: generateApiKey(),
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      let ready = 0;
      for (let attempt = 0; attempt < 300 && ready !== 200; attempt++) {
        ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
          (response) => response.status,
          () => 0,
        );
        if (ready !== 200) await sleep(100);
      }
      expect(ready).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 120_000);

  it('migration:generate finds entities and migrations in agreement', async () => {
    // The TypeORM CLI with the project's data source; run against the test's database.
    await database.restart();
    const cli = join(PROJECT_ROOT, 'node_modules/typeorm/cli.js');
    const command = SCRIPTS['migration:generate'];
    expect(command).toBe('npm run build && typeorm migration:generate -d dist/data-source.js');
    const migrated = await runNode(
      builtEntryOf('migration:run'),
      { DATA_DIR: dataDir, DATABASE_URL: database.target.url },
      PROJECT_ROOT,
    );
    expect(migrated).toMatchObject({ code: 0 });
    const result = await promisify(execFile)(
      process.execPath,
      [cli, 'migration:generate', '-d', 'dist/data-source.js', 'src/database/migrations/Unused'],
      {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.target.url },
      },
    ).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? -1,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );
    expect(result.output).toContain('No changes in database schema were found');
  }, 120_000);
});
