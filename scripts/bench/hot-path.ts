import { join } from 'node:path';
import {
  bearer,
  randomItem,
  settle,
  startService,
  tokenPath,
  type BenchContext,
} from './bench-context.js';
import type { Backend, BenchDatabase } from './bench-database.js';
import { summariseCpuProfile, type ProfileSummary } from './cpu-profile.js';
import { runLoad, type LoadResult } from './load.js';
import { startServer, type ServerProcess } from './server-process.js';

export const RATIO_TARGET = 0.6;
/** SPEC §14 / issue 10: the token route's p99 at full load within this factor of the bare route's. */
export const P99_TARGET_FACTOR = 2;

export interface HotPathResult {
  backend: Backend;
  token: LoadResult;
  bare: LoadResult;
  /** token requests/s over bare requests/s. */
  ratio: number;
  /**
   * Both routes over one connection (the next request leaves when the answer arrives): the
   * route's own latency, with no queue in front of it.
   */
  oneConnection: { token: LoadResult; bare: LoadResult };
  /** The token route again with LOG_LEVEL=info (PostgreSQL only). */
  tokenAtInfo?: LoadResult;
  profile?: {
    path: string;
    summary: ProfileSummary;
    run: LoadResult;
    /** The bare route profiled the same way: what any Nest + Fastify request costs. */
    bare: { summary: ProfileSummary; run: LoadResult };
  };
}

/** CLOCK_MONOTONIC, the clock of V8's profile timestamps on Linux. */
const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

const barePath = (linkId: string): string => `/bare/${linkId}/token?minValidity=60`;

export function hotPathTargetMet(result: HotPathResult): boolean {
  return result.ratio >= RATIO_TARGET && p99TargetMet(result);
}

export function p99TargetMet(result: HotPathResult): boolean {
  return result.token.latencyMs.p99 <= P99_TARGET_FACTOR * result.bare.latencyMs.p99;
}

/** Warm-up, then the measured run, on one route; each request picks a random link. */
async function measureRoute(
  context: BenchContext,
  server: ServerProcess,
  pathFor: (linkId: string) => string,
  linkIds: readonly string[],
  connections = context.settings.connections,
): Promise<LoadResult> {
  const { warmupSeconds, durationSeconds } = context.settings;
  const load = {
    baseUrl: server.baseUrl,
    connections,
    headers: bearer(context.consumerKey),
    path: () => pathFor(randomItem(linkIds)),
  };
  await settle(context);
  if (warmupSeconds > 0) await runLoad({ ...load, durationSeconds: warmupSeconds });
  context.meter.start();
  const startedMicros = monotonicMicros();
  const cpuBefore = server.cpuSeconds();
  const result = await runLoad({ ...load, durationSeconds });
  result.serverCpuMicrosPerRequest = ((server.cpuSeconds() - cpuBefore) * 1e6) / result.responses;
  result.window = { startedMicros, endedMicros: monotonicMicros() };
  result.foreignCpuPercent = context.meter.read();
  if (result.non2xx > 0 || result.errors > 0) {
    console.log(`  (${server.baseUrl}: ${result.non2xx} non-2xx answers, ${result.errors} errors)`);
  }
  return result;
}

async function measureService(
  context: BenchContext,
  database: BenchDatabase,
  linkIds: readonly string[],
  name: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  alsoOneConnection = false,
): Promise<{ saturated: LoadResult; oneConnection?: LoadResult }> {
  const service = await startService(context, database, name, env, nodeArgs);
  try {
    const saturated = await measureRoute(context, service, tokenPath, linkIds);
    if (!alsoOneConnection) return { saturated };
    const oneConnection = await measureRoute(context, service, tokenPath, linkIds, 1);
    return { saturated, oneConnection };
  } finally {
    await service.stop();
  }
}

/**
 * SPEC §7's hot path: warm GET /v1/links/{id}/token (served from the replica's cache) against
 * the bare Nest + Fastify route, measured back to back in this run.
 */
export async function runHotPath(
  context: BenchContext,
  database: BenchDatabase,
  linkIds: readonly string[],
  bare: ServerProcess,
): Promise<HotPathResult> {
  const backend = database.backend;
  console.log(`[hot path/${backend}] token route, then bare route`);
  const { saturated: token, oneConnection } = await measureService(
    context,
    database,
    linkIds,
    `hot-${backend}`,
    {},
    [],
    true,
  );
  const bareResult = await measureRoute(context, bare, barePath, linkIds);
  const bareOneConnection = await measureRoute(context, bare, barePath, linkIds, 1);
  const result: HotPathResult = {
    backend,
    token,
    bare: bareResult,
    ratio: token.requestsPerSecond / bareResult.requestsPerSecond,
    oneConnection: { token: oneConnection!, bare: bareOneConnection },
  };
  console.log(
    `[hot path/${backend}] token ${token.requestsPerSecond.toFixed(0)} req/s p99 ${token.latencyMs.p99.toFixed(2)} ms; bare ${bareResult.requestsPerSecond.toFixed(0)} req/s; ratio ${result.ratio.toFixed(2)}; server CPU/request ${token.serverCpuMicrosPerRequest?.toFixed(0)} vs ${bareResult.serverCpuMicrosPerRequest?.toFixed(0)} µs; other processes ${token.foreignCpuPercent?.toFixed(0)} / ${bareResult.foreignCpuPercent?.toFixed(0)} %`,
  );
  if (backend !== 'postgresql') return result;

  console.log('[hot path/postgresql] token route with LOG_LEVEL=info');
  result.tokenAtInfo = (
    await measureService(context, database, linkIds, 'hot-info', { LOG_LEVEL: 'info' })
  ).saturated;
  const { profile } = context.settings;
  if (profile === 'always' || (profile === 'auto' && !hotPathTargetMet(result))) {
    console.log('[hot path/postgresql] profiling the service (node --cpu-prof)');
    const name = 'hot-path-postgresql.cpuprofile';
    const { saturated: run } = await measureService(context, database, linkIds, 'hot-profile', {}, [
      '--cpu-prof',
      `--cpu-prof-dir=${context.profileDir}`,
      `--cpu-prof-name=${name}`,
    ]);
    const path = join(context.profileDir, name);
    const bareName = 'hot-path-bare.cpuprofile';
    const profiledBare = await startServer({
      script: join(context.root, 'dist-bench/scripts/bench/bare-server.js'),
      nodeArgs: [
        '--cpu-prof',
        `--cpu-prof-dir=${context.profileDir}`,
        `--cpu-prof-name=${bareName}`,
      ],
      env: { LOG_LEVEL: 'warn' },
      readyPath: '/bare/ready',
      logPath: join(context.workDir, 'bare-profile.log'),
    });
    context.meter.own(profiledBare.pid);
    let bareRun: LoadResult;
    try {
      bareRun = await measureRoute(context, profiledBare, barePath, linkIds);
    } finally {
      await profiledBare.stop();
    }
    const barePathOnDisk = join(context.profileDir, bareName);
    result.profile = {
      path,
      summary: summariseCpuProfile(path, run.window),
      run,
      bare: { summary: summariseCpuProfile(barePathOnDisk, bareRun.window), run: bareRun },
    };
  }
  return result;
}
