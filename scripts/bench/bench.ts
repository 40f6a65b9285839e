/**
 * `npm run bench`: the hot path, a refresh stampede and fleet-scale background refresh, on
 * PostgreSQL and on embedded PGlite. Prints as it goes and writes BENCHMARKS.md and
 * benchmarks/hot-path-latency.svg.
 *
 * Environment (all optional): BENCH_DATABASE_URL (an admin connection to PostgreSQL, default
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_FLEET_SIZES and BENCH_PGLITE_FLEET_SIZES
 * (comma-separated), BENCH_DURATION_SECONDS, BENCH_PROFILE (auto | always | never),
 * BENCH_BACKENDS (postgresql,pglite), BENCH_OUTPUT_DIR (where BENCHMARKS.md, the chart and the
 * profiles go; default the repository), BENCH_SMOKE=1 (a run of a few seconds that proves every
 * part works and measures nothing worth reading: test/scripts runs it; set BENCH_OUTPUT_DIR).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem, type as osType } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateApiKey } from '../../src/auth/api-key-secret.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
import {
  generateEncryptionKeyEntry,
  parseEncryptionKeys,
} from '../../src/config/encryption-keys.js';
import type { BenchContext, BenchSettings } from './bench-context.js';
import {
  createPgliteDatabase,
  createPostgresDatabase,
  insertConsumerKey,
  seedLinks,
  type Backend,
  type BenchDatabase,
} from './bench-database.js';
import { FakeTokenEndpoint } from './fake-token-endpoint.js';
import { ForeignCpuMeter } from './foreign-cpu.js';
import { runFleetRefresh } from './fleet-refresh.js';
import { runHotPath } from './hot-path.js';
import { latencyChartSvg } from './latency-chart.js';
import { renderMarkdown, type BenchResults } from './report.js';
import { startServer, type ServerProcess } from './server-process.js';
import { runStampede } from './stampede.js';

const HOT_PATH_LINKS = 100;
const openDatabases = new Set<BenchDatabase>();
const CHART_PATH = 'benchmarks/hot-path-latency.svg';
/** The profile table of issue 10's speed work, kept by hand and copied into BENCHMARKS.md. */
const PROFILE_STEPS_PATH = 'benchmarks/hot-path-profile.md';

const sizes = (value: string | undefined, fallback: number[]): number[] =>
  value === undefined
    ? fallback
    : value
        .split(',')
        .map((entry) => Number(entry.trim()))
        .filter((entry) => Number.isInteger(entry) && entry > 0);

/** BENCH_SMOKE=1: every scenario once, as small as it can be. */
const SMOKE_SETTINGS: BenchSettings = {
  durationSeconds: 1,
  warmupSeconds: 0,
  connections: 4,
  stampedeRequests: 20,
  fleetSizes: { postgresql: [20], pglite: [20] },
  fleetLoadRate: 20,
  fleetTimeoutSeconds: 60,
  refreshLeadSeconds: 300,
  refreshConcurrency: 64,
  profile: 'never',
  quietWaitSeconds: 0,
};

function readSettings(env: NodeJS.ProcessEnv): BenchSettings {
  if (env.BENCH_SMOKE === '1') return SMOKE_SETTINGS;
  const profile = env.BENCH_PROFILE ?? 'auto';
  if (profile !== 'auto' && profile !== 'always' && profile !== 'never')
    throw new Error('BENCH_PROFILE must be auto, always or never');
  return {
    durationSeconds: Number(env.BENCH_DURATION_SECONDS ?? 10),
    warmupSeconds: 2,
    connections: 64,
    stampedeRequests: 1000,
    fleetSizes: {
      postgresql: sizes(env.BENCH_FLEET_SIZES, [1_000, 10_000, 100_000]),
      pglite: sizes(env.BENCH_PGLITE_FLEET_SIZES, [1_000, 10_000]),
    },
    fleetLoadRate: Number(env.BENCH_FLEET_LOAD_RATE ?? 200),
    fleetTimeoutSeconds: 600,
    refreshLeadSeconds: 300,
    refreshConcurrency: 64,
    profile,
    quietWaitSeconds: Number(env.BENCH_QUIET_WAIT_SECONDS ?? 10),
  };
}

/** The command as run, with the BENCH_ variables that shaped it. */
function benchCommand(env: NodeJS.ProcessEnv): string {
  const variables = Object.keys(env)
    .filter((name) => name.startsWith('BENCH_') && name !== 'BENCH_DATABASE_URL')
    .sort()
    .map((name) => `${name}=${env[name]}`);
  return [...variables, 'npm run bench'].join(' ');
}

async function postgresVersion(adminUrl: string): Promise<string> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0].server_version;
  } finally {
    await client.end();
  }
}

async function runBackend(
  context: BenchContext,
  database: BenchDatabase,
  results: BenchResults,
  bare: ServerProcess,
): Promise<void> {
  const { hotLinks, stampedeLink } = await database.withPool(async (pool) => {
    await insertConsumerKey(pool, context.consumerKey);
    const ids = await seedLinks(pool, context.keyRing, {
      count: HOT_PATH_LINKS + 1,
      providerUrl: context.providerUrl,
      expiresInSeconds: () => 3600,
    });
    return { hotLinks: ids.slice(0, HOT_PATH_LINKS), stampedeLink: ids[HOT_PATH_LINKS] };
  });
  results.hotPath.push(await runHotPath(context, database, hotLinks, bare));
  results.stampede.push(await runStampede(context, database, stampedeLink));
  for (const size of context.settings.fleetSizes[database.backend]) {
    results.fleet.push(await runFleetRefresh(context, database, size));
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const settings = readSettings(process.env);
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const backends = (process.env.BENCH_BACKENDS ?? 'postgresql,pglite').split(',') as Backend[];
  const encryptionKeys = generateEncryptionKeyEntry('bench');
  const provider = new FakeTokenEndpoint();
  const workDir = mkdtempSync(join(tmpdir(), 'outlink-bench-logs-'));
  const outputDir = resolve(process.env.BENCH_OUTPUT_DIR ?? root);
  const profileDir = join(outputDir, 'benchmarks/profiles');
  mkdirSync(profileDir, { recursive: true });
  const context: BenchContext = {
    root,
    workDir,
    profileDir,
    encryptionKeys,
    keyRing: new KeyRing(parseEncryptionKeys(encryptionKeys).keys),
    adminKey: generateApiKey(),
    consumerKey: generateApiKey(),
    provider,
    providerUrl: await provider.listen(),
    settings,
    meter: new ForeignCpuMeter(),
  };
  console.log(`Service logs in ${workDir}`);

  const results: BenchResults = {
    environment: {
      command: benchCommand(process.env),
      date: new Date().toISOString(),
      cores: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      totalMemoryBytes: totalmem(),
      node: process.version,
      os: `${osType()} ${release()}`,
      postgresVersion: backends.includes('postgresql') ? await postgresVersion(adminUrl) : '-',
      pgliteVersion: (
        JSON.parse(
          readFileSync(join(root, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
        ) as { version: string }
      ).version,
      runSeconds: 0,
    },
    settings,
    hotPath: [],
    stampede: [],
    fleet: [],
    notMeasured: [],
    chartPath: CHART_PATH,
  };
  const bare = await startServer({
    script: join(root, 'dist-bench/scripts/bench/bare-server.js'),
    env: { LOG_LEVEL: 'warn' },
    readyPath: '/bare/ready',
    logPath: join(workDir, '00-bare.log'),
  });
  context.meter.own(bare.pid);
  try {
    for (const backend of backends) {
      const database =
        backend === 'postgresql'
          ? await createPostgresDatabase(adminUrl)
          : await createPgliteDatabase();
      openDatabases.add(database);
      try {
        await runBackend(context, database, results, bare);
      } finally {
        openDatabases.delete(database);
        await database.dispose();
      }
    }
  } finally {
    await bare.stop();
    await provider.close();
  }

  const largestPglite = results.fleet
    .filter((run) => run.backend === 'pglite' && run.completed)
    .at(-1);
  if (backends.includes('pglite') && !settings.fleetSizes.pglite.includes(100_000)) {
    const estimate = largestPglite
      ? ` (at the ${largestPglite.links.toLocaleString('en-US')}-link rate of ${largestPglite.refreshesPerSecond.toFixed(0)}/s, about ${((100_000 / largestPglite.refreshesPerSecond + largestPglite.seedSeconds * (100_000 / largestPglite.links)) / 60).toFixed(0)} min with seeding)`
      : '';
    results.notMeasured.push({
      backend: 'pglite',
      links: 100_000,
      reason: `left out to keep \`npm run bench\` within its time budget${estimate}; PGlite runs every statement on one session, one at a time. Set BENCH_PGLITE_FLEET_SIZES=1000,10000,100000 to measure it`,
    });
  }
  results.environment.runSeconds = (performance.now() - started) / 1000;
  const colors: Record<Backend, [string, string]> = {
    postgresql: ['#1f5fa8', '#8fb4e0'],
    pglite: ['#2e8b57', '#9fd4b4'],
  };
  const name: Record<Backend, string> = { postgresql: 'PostgreSQL', pglite: 'PGlite' };
  const svg = latencyChartSvg(
    `Warm token route vs bare Nest route, ${settings.connections} connections`,
    results.hotPath.flatMap((run) => [
      {
        label: `${name[run.backend]} token`,
        color: colors[run.backend][0],
        latency: run.token.latencyMs,
      },
      {
        label: `${name[run.backend]} bare`,
        color: colors[run.backend][1],
        latency: run.bare.latencyMs,
      },
    ]),
    5,
  );
  mkdirSync(join(outputDir, 'benchmarks'), { recursive: true });
  writeFileSync(join(outputDir, CHART_PATH), svg);
  const stepsPath = join(root, PROFILE_STEPS_PATH);
  const markdown = renderMarkdown(
    results,
    existsSync(stepsPath) ? readFileSync(stepsPath, 'utf8') : undefined,
  );
  writeFileSync(join(outputDir, 'BENCHMARKS.md'), markdown);
  console.log(`\n${markdown}`);
  rmSync(workDir, { recursive: true, force: true });
}

// Ctrl-C: drop the scratch database before leaving (the servers are killed on exit).
process.once('SIGINT', () => {
  console.error('Interrupted: cleaning up');
  void Promise.allSettled([...openDatabases].map((database) => database.dispose())).then(() =>
    process.exit(130),
  );
});

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
