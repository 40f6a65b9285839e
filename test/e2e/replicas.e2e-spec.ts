import { BackgroundRefresh } from '../../src/tokens/background-refresh.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectLink, expireStoredToken, tokenOf } from '../support/connected-link.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import {
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const ENV = {
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: 'http://127.0.0.1:39996',
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
};

// Replicas share a real PostgreSQL; the embedded database is one process by construction.
(TEST_DATABASE_URL ? describe : describe.skip)('three replicas on one PostgreSQL', () => {
  let database: TestDatabase;
  let replicas: TestApp[];
  let provider: TestProvider;

  beforeAll(async () => {
    database = await createTestDatabase();
    const first = await startTestApp({ database, env: ENV });
    replicas = [
      first,
      await startTestApp({ database, env: { ...ENV, ADMIN_API_KEY: first.adminKey } }),
      await startTestApp({ database, env: { ...ENV, ADMIN_API_KEY: first.adminKey } }),
    ];
    provider = await startTestProvider({
      redirectUri: first.config.redirectUrl,
      accessTokenTtlSeconds: 300,
    });
  });
  afterAll(async () => {
    for (const replica of replicas ?? []) await replica.closeApp();
    await database?.dispose();
    await provider?.close();
  });

  it('lets exactly one refresh reach the provider for 200 concurrent requests spread over the replicas', async () => {
    const { id } = await connectLink(replicas[0], provider);
    await expireStoredToken(replicas[0], id);
    const before = provider.grantCounts().refresh_token ?? 0;
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        tokenOf(replicas[index % 3], id, '?minValidity=60'),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(200).fill(200));
    expect(new Set(answers.map((answer) => answer.body.accessToken)).size).toBe(1);
    expect(provider.grantCounts().refresh_token).toBe(before + 1);
    const link = await replicas[2]
      .http()
      .get(`/v1/links/${id}`)
      .set(bearer(replicas[0].adminKey))
      .expect(200);
    expect(link.body).toMatchObject({ status: 'connected', lastError: null });
    // The grant survived: a second, forced refresh works (a replayed refresh token would have revoked it).
    await replicas[1]
      .http()
      .post(`/v1/links/${id}/refresh`)
      .set(bearer(replicas[0].adminKey))
      .expect(200);
  });

  it('honours a deletion on replica A at replica B within 1 second, though B had the token cached', async () => {
    const { id } = await connectLink(replicas[0], provider);
    await tokenOf(replicas[1], id, '?minValidity=0').expect(200);
    await tokenOf(replicas[1], id, '?minValidity=0').expect(200); // served from B's cache
    await replicas[0]
      .http()
      .delete(`/v1/links/${id}`)
      .set(bearer(replicas[0].adminKey))
      .expect(204);
    const deletedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - deletedAt < 2_000) {
      status = (await tokenOf(replicas[1], id, '?minValidity=0')).status;
      if (status === 200) await sleep(20);
    }
    const delay = Date.now() - deletedAt;
    console.log(`deletion reached replica B after ${delay} ms`);
    expect(status).toBe(404);
    expect(delay).toBeLessThan(1_000);
  });

  it('serves a refresh made on replica A from replica B without another provider call', async () => {
    const { id } = await connectLink(replicas[0], provider);
    const cachedOnB = (await tokenOf(replicas[1], id, '?minValidity=0').expect(200)).body
      .accessToken;
    await replicas[0]
      .http()
      .post(`/v1/links/${id}/refresh`)
      .set(bearer(replicas[0].adminKey))
      .expect(200);
    const before = provider.grantCounts().refresh_token ?? 0;
    const deadline = Date.now() + 1_000;
    let seenOnB = cachedOnB;
    while (seenOnB === cachedOnB && Date.now() < deadline) {
      seenOnB = (await tokenOf(replicas[1], id, '?minValidity=0').expect(200)).body.accessToken;
      if (seenOnB === cachedOnB) await sleep(20);
    }
    expect(seenOnB).not.toBe(cachedOnB);
    expect(provider.grantCounts().refresh_token).toBe(before);
  });
});

(TEST_DATABASE_URL ? describe : describe.skip)('background refresh on two replicas', () => {
  it('splits the due links between them without refreshing any of them twice', async () => {
    const database = await createTestDatabase();
    const setup = await startTestApp({ database, env: ENV });
    const provider = await startTestProvider({
      redirectUri: setup.config.redirectUrl,
      accessTokenTtlSeconds: 600,
    });
    const ids: string[] = [];
    const replicas: TestApp[] = [];
    try {
      for (let i = 0; i < 20; i++) ids.push((await connectLink(setup, provider)).id);
      await setup.closeApp();
      // Tokens live 600 s and the lead is 900 s: they are due once half their life has passed,
      // which the UPDATE below makes true for all 20 at once (issued 400 s ago, 200 s left).
      const background = {
        ...ENV,
        ADMIN_API_KEY: setup.adminKey,
        // Passes are run below, on both replicas at once, rather than waited for.
        REFRESH_CHECK_INTERVAL_SECONDS: '3600',
        REFRESH_LEAD_SECONDS: '900',
        // Small batches, so that both replicas come to claim some of the 20.
        REFRESH_CONCURRENCY: '2',
      };
      replicas.push(await startTestApp({ database, env: background }));
      await replicas[0].dataSource.query(
        `UPDATE links SET last_refreshed_at = now() - interval '400 seconds',
                          access_token_expires_at = now() + interval '200 seconds'
          WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      replicas.push(await startTestApp({ database, env: background }));
      const before = provider.grantCounts().refresh_token ?? 0;
      const passOnBoth = () =>
        Promise.all(replicas.map((replica) => replica.app.get(BackgroundRefresh).runOnce()));
      await passOnBoth();
      await passOnBoth(); // nothing is due any more: no link is refreshed again
      const backgroundRefreshes = await Promise.all(
        replicas.map(async (replica) => {
          const metrics = await replica.http().get('/metrics').set(bearer(setup.adminKey));
          const line = /^outlink_refreshes_total\{trigger="background",result="success"\} (\d+)/m;
          return Number(line.exec(metrics.text)?.[1] ?? 0);
        }),
      );
      // Both replicas did part of the work, and together all of it.
      expect(backgroundRefreshes.every((count) => count > 0)).toBe(true);
      expect(backgroundRefreshes[0] + backgroundRefreshes[1]).toBe(ids.length);
      const perLink: { link_id: string; refreshes: string }[] = await replicas[0].dataSource.query(
        `SELECT link_id, count(*) AS refreshes FROM link_events WHERE type = 'refreshed' AND link_id = ANY($1::uuid[]) GROUP BY link_id`,
        [ids],
      );
      expect(perLink.map((row) => Number(row.refreshes))).toEqual(Array(ids.length).fill(1));
      expect(provider.grantCounts().refresh_token).toBe(before + ids.length);
      const statuses: { status: string }[] = await replicas[0].dataSource.query(
        'SELECT DISTINCT status FROM links WHERE id = ANY($1::uuid[])',
        [ids],
      );
      expect(statuses).toEqual([{ status: 'connected' }]);
    } finally {
      for (const replica of replicas) await replica.closeApp();
      await database.dispose();
      await provider.close();
    }
  });
});
