import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { LINK_REFRESH_TOKEN } from '../../src/database/encrypted-columns.js';
import { TokenRefresher } from '../../src/tokens/token-refresher.js';
import { startChildReplica, type ChildReplica } from '../support/child-replica.js';
import {
  connectLink,
  expireStoredToken,
  storedSecret,
  tokenOf,
} from '../support/connected-link.js';
import { startFaultServer, type FaultServer } from '../support/fault-server.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import {
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/test-database.js';

/** Lease = 2 × timeout + 10 s = 14 s: what B has to wait out after A dies. */
const PROVIDER_TIMEOUT_SECONDS = 2;
const LEASE_SECONDS = PROVIDER_TIMEOUT_SECONDS * 2 + 10;
const ENV = {
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: 'http://127.0.0.1:39993',
  PROVIDER_TIMEOUT_SECONDS: String(PROVIDER_TIMEOUT_SECONDS),
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
};

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

// Two processes on one database: PostgreSQL only (embedded PGlite is one process by construction);
// CI runs the suite on both back ends, so this runs in its PostgreSQL pass.
(TEST_DATABASE_URL ? describe : describe.skip)(
  'a replica killed (SIGKILL) in the middle of a refresh',
  () => {
    let database: TestDatabase;
    /** The survivor, in process. */
    let b: TestApp;
    /** The victim: `node dist/main.js`, so that it can really be killed. */
    let a: ChildReplica | undefined;
    let provider: TestProvider;
    let faults: FaultServer;

    beforeAll(async () => {
      database = await createTestDatabase();
      b = await startTestApp({ database, env: ENV });
      provider = await startTestProvider({
        redirectUri: b.config.redirectUrl,
        accessTokenTtlSeconds: 300,
      });
      faults = await startFaultServer();
      a = await startChildReplica({ database, adminKey: b.adminKey, env: ENV });
    }, 60_000);
    afterAll(async () => {
      await a?.kill('SIGKILL');
      await b?.closeApp();
      await database?.dispose();
      await provider?.close();
      await faults?.close();
    });

    const storedRefreshToken = (linkId: string) => storedSecret(b, LINK_REFRESH_TOKEN, linkId);

    it('leaves the link to another replica once the lease runs out, with the refresh token intact', async () => {
      const providerTokenEndpoint = `${provider.issuer}/token`;
      faults.respondWith({ proxyTo: providerTokenEndpoint });
      const { id } = await connectLink(b, provider, { tokenEndpoint: faults.tokenEndpoint });
      const originalRefreshToken = await storedRefreshToken(id);
      const grantsBefore = provider.grantCounts().refresh_token ?? 0;

      // A's refresh will sit in the proxy for 3 s, longer than it will live.
      faults.respondWith({ proxyTo: providerTokenEndpoint, delayMs: 3_000 });
      await expireStoredToken(b, id);
      const proxyRequestsBefore = faults.requests;
      const onA = fetch(`${a!.url}/v1/links/${id}/token?minValidity=60`, {
        headers: bearer(b.adminKey),
      }).then(
        (response) => response.status,
        () => 'no answer' as const,
      );
      expect(await waitFor(() => faults.requests === proxyRequestsBefore + 1, 5_000)).toBe(true);
      const exit = await a!.kill('SIGKILL');
      const killedAt = performance.now();
      expect(exit.signal).toBe('SIGKILL');
      expect(await onA).toBe('no answer');
      // From now on the provider answers at once; A's request, still in the proxy, is dropped.
      faults.respondWith({ proxyTo: providerTokenEndpoint });

      // A died holding the lease.
      const [lease]: { holder: string; remaining: number }[] = await b.dataSource.query(
        `SELECT refresh_lease_holder AS holder,
                EXTRACT(EPOCH FROM refresh_lease_until - now())::float AS remaining
           FROM links WHERE id = $1`,
        [id],
      );
      expect(lease.holder).not.toBeNull();
      expect(lease.holder).not.toBe(b.app.get(TokenRefresher).holder);
      expect(lease.remaining).toBeGreaterThan(LEASE_SECONDS - 3);
      expect(lease.remaining).toBeLessThanOrEqual(LEASE_SECONDS);

      // B's callers, right away: they wait for the lease rather than call the provider beside A.
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => tokenOf(b, id, '?minValidity=60')),
      );
      const waitedMs = performance.now() - killedAt;
      console.log(
        `replica A killed holding a ${LEASE_SECONDS} s lease (${lease.remaining.toFixed(1)} s left); B's 10 callers answered ${JSON.stringify(answers.map((answer) => answer.status))} after ${(waitedMs / 1000).toFixed(1)} s`,
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
      expect(new Set(answers.map((answer) => answer.body.accessToken)).size).toBe(1);
      // They were served once the lease expired, not before and not much later.
      expect(waitedMs).toBeGreaterThan(lease.remaining * 1000 - 1_000);
      expect(waitedMs).toBeLessThan(lease.remaining * 1000 + 3_000);

      // One refresh reached the provider: B's, with the original refresh token (a replay of a
      // used one would have revoked the grant and left the link reauthorization_required).
      expect(faults.requests).toBe(proxyRequestsBefore + 2);
      expect(provider.grantCounts().refresh_token).toBe(grantsBefore + 1);
      const link = (await b.http().get(`/v1/links/${id}`).set(bearer(b.adminKey)).expect(200)).body;
      expect(link).toMatchObject({ status: 'connected', lastError: null });
      const rotated = await storedRefreshToken(id);
      expect(rotated).not.toBe(originalRefreshToken);
      // The stored, rotated refresh token is the live one: the grant still works.
      await b.http().post(`/v1/links/${id}/refresh`).set(bearer(b.adminKey)).expect(200);
      expect(provider.grantCounts().refresh_token).toBe(grantsBefore + 2);
    }, 40_000);
  },
);
