import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChangeNotifications } from '../../src/database/change-notifications.js';
import { startChildReplica, type ChildReplica } from '../support/child-replica.js';
import { connectLink, tokenOf } from '../support/connected-link.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import {
  privateClusterUnavailable,
  startPrivateCluster,
  type PrivateCluster,
} from '../support/private-postgres.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const ENV = {
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: 'http://127.0.0.1:39994',
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
};
const LOOPS = 10;
/** How long the server stays down between `pg_ctl stop` and `pg_ctl start`. */
const OUTAGE_MS = 2_000;
/** Time allowed after the server is back before every request must succeed again. */
const GRACE_MS = 3_000;
/** How long the load keeps running once the server is back. */
const AFTER_RECOVERY_MS = 5_000;

interface Sample {
  at: number;
  kind: 'token' | 'link' | 'ready';
  /** 0: no HTTP answer at all (refused, reset or timed out). */
  status: number;
  contentType: string;
  code?: string;
  detail?: string;
}

async function probe(url: string, kind: Sample['kind'], key?: string): Promise<Sample> {
  try {
    const response = await fetch(url, {
      headers: key ? bearer(key) : {},
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    let problem: { code?: string; detail?: string } = {};
    try {
      problem = JSON.parse(text) as typeof problem;
    } catch {
      problem = {};
    }
    return {
      at: performance.now(),
      kind,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      code: problem.code,
      detail: problem.detail,
    };
  } catch {
    return { at: performance.now(), kind, status: 0, contentType: '' };
  }
}

/** `{ "message": count }` of a process's JSON log lines at warn and above. */
function logSummary(output: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of output.split('\n')) {
    let message: string;
    try {
      message = String((JSON.parse(line) as { msg?: unknown }).msg).replace(/\d+/g, 'N');
    } catch {
      message = line.slice(0, 80);
    }
    if (message) counts[message] = (counts[message] ?? 0) + 1;
  }
  return counts;
}

/** `{ "status code": count }` for a report line. */
function tally(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) {
    const key = sample.code ? `${sample.status} ${sample.code}` : String(sample.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function cachedTokenRequests(replica: ChildReplica): Promise<number> {
  const metrics = await replica.http().get('/metrics').set(bearer(replica.adminKey)).expect(200);
  const line = /^outlink_token_requests_total\{result="cached"\} (\d+)/m.exec(metrics.text);
  return line ? Number(line[1]) : 0;
}

// A PostgreSQL server of its own, whatever TEST_DATABASE_URL says: the shared one must not restart.
describe('a PostgreSQL restart under load (private cluster)', () => {
  let cluster: PrivateCluster | undefined;
  let database: TestDatabase | undefined;
  /** In process: its ChangeNotifications can be watched directly. */
  let b: TestApp;
  /** A real process, under load during the restart: a crash shows as an exit. */
  let a: ChildReplica;
  let provider: TestProvider;

  beforeAll(async () => {
    // A suite that cannot run fails, rather than skipping with a warning nobody reads.
    const unavailable = privateClusterUnavailable();
    if (unavailable) throw new Error(`cannot start a private PostgreSQL: ${unavailable}`);
    cluster = await startPrivateCluster();
    database = await createTestDatabase({ adminUrl: cluster.url });
    b = await startTestApp({ database, env: ENV });
    provider = await startTestProvider({
      redirectUri: b.config.redirectUrl,
      accessTokenTtlSeconds: 300,
    });
    // Background passes every second: they too run into the outage and must not crash anything.
    a = await startChildReplica({
      database,
      adminKey: b.adminKey,
      env: { ...ENV, REFRESH_CHECK_INTERVAL_SECONDS: '1' },
    });
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.closeApp();
    await provider?.close();
    await database?.dispose().catch(() => undefined); // the server may be down after a failure
    await cluster?.dispose();
  });

  it('survives the restart: ready turns 503 and back, and every request succeeds once the database is back', async () => {
    const { id } = await connectLink(b, provider);
    await tokenOf(a, id, '?minValidity=0').expect(200); // warms A's cache
    const transitionsOnB: { reliable: boolean; at: number }[] = [];
    b.app
      .get(ChangeNotifications)
      .onReliabilityChange((reliable) => transitionsOnB.push({ reliable, at: performance.now() }));

    const samples: Sample[] = [];
    let running = true;
    // 7 loops ask for the token (the cache may answer), 3 read the link (always the database).
    const loops = Array.from({ length: LOOPS }, async (_, index) => {
      const [kind, path] =
        index < 7
          ? (['token', `/v1/links/${id}/token?minValidity=0`] as const)
          : (['link', `/v1/links/${id}`] as const);
      while (running) {
        samples.push(await probe(`${a.url}${path}`, kind, a.adminKey));
        await sleep(10);
      }
    });
    const readiness = (async () => {
      while (running) {
        samples.push(await probe(`${a.url}/health/ready`, 'ready'));
        await sleep(100);
      }
    })();

    const loadStartedAt = performance.now();
    await sleep(1_500);
    const stoppingAt = performance.now();
    await cluster!.stop();
    const downAt = performance.now();
    await sleep(OUTAGE_MS);
    await cluster!.start();
    const backAt = performance.now();
    await sleep(AFTER_RECOVERY_MS);
    running = false;
    await Promise.all([...loops, readiness]);
    const loadEndedAt = performance.now();

    const requests = samples.filter((sample) => sample.kind !== 'ready');
    const ready = samples.filter((sample) => sample.kind === 'ready');
    const during = (from: number, to: number, kind?: Sample['kind']) =>
      samples.filter(
        (sample) => sample.at >= from && sample.at < to && (kind ? sample.kind === kind : true),
      );
    const firstReadyAfterBack = ready.find((sample) => sample.at > backAt && sample.status === 200);
    const settled = requests.filter((sample) => sample.at >= backAt + GRACE_MS);
    const lastFailure = requests.filter((sample) => sample.status !== 200).at(-1);
    const line = (from: number, to: number): string =>
      (['token', 'link', 'ready'] as const)
        .map((kind) => `${kind} ${JSON.stringify(tally(during(from, to, kind)))}`)
        .join(', ');
    const ms = (at: number | undefined): string =>
      at === undefined ? 'never' : `${(at - backAt).toFixed(0)} ms`;
    console.log(
      [
        `PostgreSQL restart under load (${LOOPS} loops, ${requests.length} requests in ${((loadEndedAt - loadStartedAt) / 1000).toFixed(1)} s):`,
        `  pg_ctl stop took ${(downAt - stoppingAt).toFixed(0)} ms, then the server was down ${(backAt - downAt).toFixed(0)} ms`,
        `  before the stop:      ${line(loadStartedAt, stoppingAt)}`,
        `  while stopping:       ${line(stoppingAt, downAt)}`,
        `  while down:           ${line(downAt, backAt)}`,
        `  first ${GRACE_MS} ms back:   ${line(backAt, backAt + GRACE_MS)}`,
        `  after the grace:      ${line(backAt + GRACE_MS, loadEndedAt)}`,
        `  (times below relative to the server being back)`,
        `  ready 200 again at ${ms(firstReadyAfterBack?.at)}; last non-200 request at ${ms(lastFailure?.at)}`,
        `  replica B's change feed: ${transitionsOnB.map((t) => `${t.reliable ? 'reliable' : 'unreliable'} at ${ms(t.at)}`).join(', ')}`,
        `  replica A logged: ${JSON.stringify(logSummary(a.output()))}`,
      ].join('\n'),
    );

    // Neither replica crashed, and the HTTP server answered every single request.
    expect(a.exitStatus).toBeUndefined();
    expect(samples.filter((sample) => sample.status === 0)).toEqual([]);
    await a.http().get('/health/live').expect(200);

    // Readiness said so while the database was away, as problem+json, and recovered quickly.
    const notReady = during(downAt, backAt, 'ready').filter((sample) => sample.status === 503);
    expect(notReady.length).toBeGreaterThan(0);
    expect(notReady[0].contentType).toMatch(/^application\/problem\+json/);
    expect(notReady[0].code).toBe('service_unavailable');
    expect(firstReadyAfterBack).toBeDefined();
    expect(firstReadyAfterBack!.at - backAt).toBeLessThan(5_000);

    // Failures during the outage are 503s to retry (not 500s), problem+json, and say nothing of
    // the database's address.
    for (const failure of requests.filter((sample) => sample.status !== 200)) {
      expect(failure.contentType).toMatch(/^application\/problem\+json/);
      expect({ status: failure.status, code: failure.code }).toEqual({
        status: 503,
        code: 'service_unavailable',
      });
      expect(failure.detail).not.toContain(String(cluster!.port));
    }

    // No 500 storm once the database is back: after a short grace, every request succeeds.
    expect(settled.length).toBeGreaterThan(100);
    expect(tally(settled)).toEqual({ '200': settled.length });

    // B's cache stopped trusting the feed during the outage and trusts it again.
    expect(transitionsOnB.map((t) => t.reliable)).toEqual([false, true]);
  }, 60_000);

  it('honours a deletion on another replica again once the LISTEN connection is back', async () => {
    expect(b.app.get(ChangeNotifications).reliable).toBe(true);
    const { id } = await connectLink(b, provider);
    // A serves from its cache only while its own feed is reliable: wait for a cached answer.
    const deadline = performance.now() + 10_000;
    let cachedOnA = false;
    while (!cachedOnA && performance.now() < deadline) {
      await tokenOf(a, id, '?minValidity=0').expect(200);
      const before = await cachedTokenRequests(a);
      await tokenOf(a, id, '?minValidity=0').expect(200);
      cachedOnA = (await cachedTokenRequests(a)) > before;
      if (!cachedOnA) await sleep(100);
    }
    expect(cachedOnA).toBe(true);

    await b.http().delete(`/v1/links/${id}`).set(bearer(b.adminKey)).expect(204);
    const deletedAt = performance.now();
    let status = 200;
    while (status === 200 && performance.now() - deletedAt < 2_000) {
      status = (await tokenOf(a, id, '?minValidity=0')).status;
      if (status === 200) await sleep(20);
    }
    const delay = performance.now() - deletedAt;
    console.log(`after the restart, a deletion on B reached A's cache in ${delay.toFixed(0)} ms`);
    expect(status).toBe(404);
    expect(delay).toBeLessThan(1_000);
  });
});
