import { setTimeout as sleep } from 'node:timers/promises';
import {
  bearer,
  randomItem,
  settle,
  startService,
  tokenPath,
  type BenchContext,
} from './bench-context.js';
import {
  countExpiringWithin,
  removeAllLinks,
  seedLinks,
  type Backend,
  type BenchDatabase,
} from './bench-database.js';
import { runLoad, type LoadResult } from './load.js';
import { logProblems } from './server-process.js';

const POLL_MS = 200;
const LOAD_CONNECTIONS = 20;

export interface FleetResult {
  backend: Backend;
  links: number;
  seedSeconds: number;
  /** False when the timeout struck first. */
  completed: boolean;
  /** From the first refresh grant the provider received until no link expires within the lead. */
  secondsToFresh: number;
  refreshesPerSecond: number;
  /** How completion was observed: a SQL poll, or the service's own metrics (PGlite). */
  observedBy: 'sql' | 'metrics';
  /** Links still expiring within the lead when the service stopped (read from the database). */
  staleAfter: number;
  grants: number;
  replays: number;
  linksRefreshedTwice: number;
  backgroundRefreshes: number;
  onDemandRefreshes: number;
  peakRssBytes: number | undefined;
  /** Service CPU time per refreshed link (token traffic included), in milliseconds. */
  serviceCpuMsPerLink: number;
  load: LoadResult;
  /** Token answers with expiresIn < 60 (minValidity=60): must be 0. */
  shortValidity: number;
  statuses: Record<string, number>;
  /** Warnings and errors the service logged. */
  logProblems: { message: string; count: number }[];
}

/** Successful refreshes by trigger, from the service's Prometheus metrics. */
async function refreshSuccesses(
  baseUrl: string,
  adminKey: string,
): Promise<Record<string, number>> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: bearer(adminKey) });
  const text = await response.text();
  const byTrigger: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^outlink_refreshes_total\{(.*)\} (\S+)$/.exec(line);
    if (!match || !match[1].includes('result="success"')) continue;
    const trigger = /trigger="([^"]+)"/.exec(match[1])?.[1] ?? 'unknown';
    byTrigger[trigger] = (byTrigger[trigger] ?? 0) + Number(match[2]);
  }
  return byTrigger;
}

const sum = (values: Record<string, number>): number =>
  Object.values(values).reduce((total, value) => total + value, 0);

/**
 * SPEC §7's background refresh at fleet scale: `size` links whose tokens expire within the lead,
 * a provider answering every grant after 50 ms, token traffic meanwhile.
 */
export async function runFleetRefresh(
  context: BenchContext,
  database: BenchDatabase,
  size: number,
): Promise<FleetResult> {
  const backend = database.backend;
  const { refreshLeadSeconds: lead, refreshConcurrency } = context.settings;
  await settle(context);
  console.log(`[fleet/${backend}] seeding ${size} links expiring within ${lead} s`);
  context.provider.reset();
  const seedStarted = performance.now();
  const linkIds = await database.withPool(async (pool) => {
    await removeAllLinks(pool);
    // Expiries spread over the lead, a few already inside minValidity (refreshed on demand).
    const ids = await seedLinks(pool, context.keyRing, {
      count: size,
      providerUrl: context.providerUrl,
      expiresInSeconds: (index) => 5 + ((lead - 10) * index) / size,
    });
    await pool.query('ANALYZE links');
    return ids;
  });
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const profileArgs = process.env.BENCH_FLEET_PROFILE
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${context.profileDir}`,
        `--cpu-prof-name=fleet-${backend}-${size}.cpuprofile`,
      ]
    : [];
  const service = await startService(
    context,
    database,
    `fleet-${backend}-${size}`,
    {
      REFRESH_CHECK_INTERVAL_SECONDS: '1',
      REFRESH_CONCURRENCY: String(refreshConcurrency),
      REFRESH_LEAD_SECONDS: String(lead),
    },
    profileArgs,
  );
  context.meter.start();
  const cpuBefore = service.cpuSeconds();
  const statuses: Record<string, number> = {};
  let shortValidity = 0;
  let markDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (markDone = resolve));
  const loadRun = runLoad({
    baseUrl: service.baseUrl,
    connections: LOAD_CONNECTIONS,
    durationSeconds: context.settings.fleetTimeoutSeconds + 60,
    rate: context.settings.fleetLoadRate,
    headers: bearer(context.consumerKey),
    path: () => tokenPath(randomItem(linkIds)),
    onResponse: (status, body) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 200 && (JSON.parse(body) as { expiresIn: number }).expiresIn < 60)
        shortValidity++;
    },
    stopWhen: done,
  });
  loadRun.catch(() => undefined); // awaited below, once the fleet is fresh

  const observedBy = database.queryableWhileServing ? 'sql' : 'metrics';
  const deadline = Date.now() + context.settings.fleetTimeoutSeconds * 1000;
  let completed = false;
  let finishedAt = performance.now();
  let triggers: Record<string, number> = {};
  try {
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      const fresh =
        observedBy === 'sql'
          ? (await database.withPool((pool) => countExpiringWithin(pool, lead))) === 0
          : sum(await refreshSuccesses(service.baseUrl, context.adminKey)) >= size;
      if (fresh) {
        finishedAt = performance.now();
        completed = true;
        break;
      }
    }
    markDone();
    triggers = await refreshSuccesses(service.baseUrl, context.adminKey);
  } finally {
    markDone();
  }
  const load = await loadRun;
  load.foreignCpuPercent = context.meter.read();
  const peakRssBytes = service.peakRssBytes();
  const serviceCpuMsPerLink = ((service.cpuSeconds() - cpuBefore) * 1000) / size;
  await service.stop();
  const counts = context.provider.snapshot;
  const staleAfter = await database.withPool((pool) => countExpiringWithin(pool, lead));
  const startedAt = counts.firstReceivedAt ?? finishedAt;
  const secondsToFresh = (finishedAt - startedAt) / 1000;
  const result: FleetResult = {
    backend,
    links: size,
    seedSeconds,
    completed,
    secondsToFresh,
    refreshesPerSecond: size / secondsToFresh,
    observedBy,
    staleAfter,
    grants: counts.grants,
    replays: counts.replays,
    linksRefreshedTwice: counts.linksRefreshedTwice,
    backgroundRefreshes: triggers.background ?? 0,
    onDemandRefreshes: triggers.on_demand ?? 0,
    peakRssBytes,
    serviceCpuMsPerLink,
    load,
    shortValidity,
    statuses,
    logProblems: logProblems(service.logPath),
  };
  console.log(
    `[fleet/${backend}] ${size} links fresh in ${secondsToFresh.toFixed(1)} s (${result.refreshesPerSecond.toFixed(0)}/s), ${counts.grants} grants, ${counts.replays} replays, peak RSS ${((peakRssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB, service CPU ${serviceCpuMsPerLink.toFixed(2)} ms/link, other processes ${load.foreignCpuPercent?.toFixed(0)} %, ${load.responses} token answers, ${shortValidity} short`,
  );
  return result;
}
