import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Pool } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { ChangeNotifications, type Change } from '../../src/database/change-notifications.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { BACKEND, TEST_DATABASE_URL } from '../support/test-database.js';

/** An admin route that touches no table: any database work a request does is authentication. */
const PROBE_ROUTE = '/v1/providers';
const POLL_INTERVAL_MS = 50;

/**
 * Counts checkouts from the app's TypeORM pool. Every statement TypeORM sends outside a
 * transaction borrows a pool client for it, so zero checkouts means zero round trips.
 */
function countDatabaseCheckouts(dataSource: DataSource): { readonly count: number; stop(): void } {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  let count = 0;
  const onAcquire = (): void => {
    count++;
  };
  pool.on('acquire', onAcquire);
  return {
    get count() {
      return count;
    },
    stop: () => pool.off('acquire', onAcquire),
  };
}

/** Stops the app's own timers (usage flush, background refresh) so that only requests query. */
function stopBackgroundJobs(t: TestApp): void {
  const registry = t.app.get(SchedulerRegistry);
  for (const name of registry.getIntervals()) registry.deleteInterval(name);
  for (const name of registry.getTimeouts()) registry.deleteTimeout(name);
  for (const name of registry.getCronJobs().keys()) registry.deleteCronJob(name);
}

async function createKey(
  t: TestApp,
  role: 'admin' | 'consumer',
): Promise<{ id: string; key: string }> {
  const response = await t
    .http()
    .post('/v1/api-keys')
    .set(bearer(t.adminKey))
    .send({
      name: `${role} for revocation`,
      role,
      ...(role === 'consumer' ? { allLinks: true } : {}),
    })
    .expect(201);
  return response.body as { id: string; key: string };
}

/** What PROBE_ROUTE answers a key that is still valid: consumers authenticate, then are refused. */
const acceptedStatus = (role: 'admin' | 'consumer'): number => (role === 'admin' ? 200 : 403);

async function probe(t: TestApp, key: string): Promise<number> {
  return (await t.http().get(PROBE_ROUTE).set(bearer(key))).status;
}

/** Proves `key` is served from t's cache: the request is accepted and costs no round trip. */
async function expectCached(t: TestApp, key: string, role: 'admin' | 'consumer'): Promise<void> {
  const checkouts = countDatabaseCheckouts(t.dataSource);
  try {
    expect(await probe(t, key)).toBe(acceptedStatus(role));
  } finally {
    checkouts.stop();
  }
  expect(checkouts.count).toBe(0);
}

describe(`API key cache (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    stopBackgroundJobs(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves a known key without a database round trip, and still records its use', async () => {
    const { id, key } = await createKey(t, 'admin');
    const cold = countDatabaseCheckouts(t.dataSource);
    await t.http().get(PROBE_ROUTE).set(bearer(key)).expect(200);
    cold.stop();
    expect(cold.count).toBeGreaterThan(0); // the counter sees the lookup of an uncached key

    const service = t.app.get(ApiKeysService);
    await service.flushUsage();
    const usedAt = async (): Promise<Date> => {
      const [row]: { last_used_at: Date }[] = await t.dataSource.query(
        'SELECT last_used_at FROM api_keys WHERE id = $1',
        [id],
      );
      return row.last_used_at;
    };
    const firstUse = await usedAt();

    const warm = countDatabaseCheckouts(t.dataSource);
    for (let i = 0; i < 20; i++) await t.http().get(PROBE_ROUTE).set(bearer(key)).expect(200);
    warm.stop();
    expect(warm.count).toBe(0);

    await service.flushUsage();
    expect((await usedAt()).getTime()).toBeGreaterThan(firstUse.getTime());
  });

  it('does not cache unknown keys', async () => {
    const unknown = `olk_${'Z'.repeat(43)}`;
    await t.http().get(PROBE_ROUTE).set(bearer(unknown)).expect(401);
    const checkouts = countDatabaseCheckouts(t.dataSource);
    await t.http().get(PROBE_ROUTE).set(bearer(unknown)).expect(401);
    checkouts.stop();
    expect(checkouts.count).toBeGreaterThan(0);
  });

  it.each(['admin', 'consumer'] as const)(
    'refuses a cached %s key immediately after its deletion on the same replica',
    async (role) => {
      const { id, key } = await createKey(t, role);
      expect(await probe(t, key)).toBe(acceptedStatus(role));
      await expectCached(t, key, role);
      await t.http().delete(`/v1/api-keys/${id}`).set(bearer(t.adminKey)).expect(204);
      expect(await probe(t, key)).toBe(401);
    },
  );
});

(TEST_DATABASE_URL ? describe : describe.skip)(
  'API key revocation across replicas (postgresql)',
  () => {
    let a: TestApp;
    let b: TestApp;
    const extraReplicas: TestApp[] = [];

    beforeAll(async () => {
      a = await startTestApp();
      // The same ADMIN_API_KEY, or B's boot would replace A's (the last test does so on purpose).
      b = await startTestApp({ database: a.database, env: { ADMIN_API_KEY: a.adminKey } });
      stopBackgroundJobs(b);
    });
    afterAll(async () => {
      for (const replica of extraReplicas) await replica.closeApp();
      await b?.closeApp();
      await a?.close();
    });

    /** Polls B every 50 ms until it refuses `key`; the delay is measured from `since`. */
    async function delayUntilRefusedOnB(key: string, since: number): Promise<number> {
      for (;;) {
        const status = await probe(b, key);
        const delay = performance.now() - since;
        if (status === 401 || delay > 5_000) return status === 401 ? delay : Infinity;
        await sleep(POLL_INTERVAL_MS);
      }
    }

    it.each(['admin', 'consumer'] as const)(
      'refuses a %s key cached on B within 1 second of its deletion through A',
      async (role) => {
        const { id, key } = await createKey(a, role);
        expect(await probe(b, key)).toBe(acceptedStatus(role));
        await expectCached(b, key, role);

        const notified: number[] = [];
        const unsubscribe = b.app
          .get(ChangeNotifications)
          .subscribe((change: Change) => change.id === id && notified.push(performance.now()));
        const deleteStarted = performance.now();
        await a.http().delete(`/v1/api-keys/${id}`).set(bearer(a.adminKey)).expect(204);
        const deleted = performance.now();
        const delay = await delayUntilRefusedOnB(key, deleted);
        unsubscribe();

        console.log(
          `${role} key deleted through A: refused by B ${delay.toFixed(1)} ms after the 204 ` +
            `(B's subscriber was told ${(notified[0] - deleteStarted).toFixed(1)} ms after the DELETE was sent)`,
        );
        expect(delay).toBeLessThan(1_000);
        expect(await probe(a, key)).toBe(401);
      },
    );

    it('makes a replaced ADMIN_API_KEY stop working on replicas that had it cached', async () => {
      const oldKey = a.adminKey;
      await b.http().get(PROBE_ROUTE).set(bearer(oldKey)).expect(200);
      await expectCached(b, oldKey, 'admin');

      // A replica started with a new value replaces the environment key at boot.
      const started = performance.now();
      const c = await startTestApp({ database: a.database });
      extraReplicas.push(c);
      const booted = performance.now();
      const delay = await delayUntilRefusedOnB(oldKey, booted);
      console.log(
        `Replaced ADMIN_API_KEY refused by B ${delay.toFixed(1)} ms after the new replica booted (boot took ${(booted - started).toFixed(0)} ms)`,
      );
      expect(delay).toBeLessThan(1_000);
      await c.http().get(PROBE_ROUTE).set(bearer(c.adminKey)).expect(200);
      await b.http().get(PROBE_ROUTE).set(bearer(c.adminKey)).expect(200);
    });
  },
);
