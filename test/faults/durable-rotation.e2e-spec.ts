import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { LINK_REFRESH_TOKEN } from '../../src/database/encrypted-columns.js';
import {
  connectLink,
  expireStoredToken,
  linkOf,
  storedSecret,
  tokenOf,
} from '../support/connected-link.js';
import { startFaultServer, type FaultServer } from '../support/fault-server.js';
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
  PUBLIC_BASE_URL: 'http://127.0.0.1:39992',
  PROVIDER_TIMEOUT_SECONDS: '2',
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
};
/** How long the database stays away after the provider has been asked for new tokens. */
const OUTAGE_MS = 2_000;

/** A database a test may take away and bring back. */
interface Outage {
  database: TestDatabase;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

async function privatePostgres(): Promise<Outage> {
  // A suite that cannot run fails rather than skipping quietly.
  const unavailable = privateClusterUnavailable();
  if (unavailable) throw new Error(`cannot start a private PostgreSQL: ${unavailable}`);
  const cluster: PrivateCluster = await startPrivateCluster();
  const database = await createTestDatabase({ adminUrl: cluster.url });
  return {
    database,
    stop: () => cluster.stop(),
    start: () => cluster.start(),
    dispose: async () => {
      await database.dispose().catch(() => undefined);
      await cluster.dispose();
    },
  };
}

async function embeddedPglite(): Promise<Outage> {
  const database = await createTestDatabase({ embedded: true });
  return {
    database,
    stop: () => database.stop(),
    start: () => database.restart(),
    dispose: () => database.dispose(),
  };
}

// SPEC §11 "Durable rotation". Regression: the provider issued rt-3 while the database was down,
// the write failed, the caller got 503, the next refresh sent rt-2 and the provider revoked the grant.
describe.each([
  ['a private PostgreSQL', privatePostgres],
  ['embedded PGlite', embeddedPglite],
])('a rotated refresh token survives an outage of %s during the provider call', (_name, open) => {
  let outage: Outage;
  let t: TestApp;
  let provider: TestProvider;
  let faults: FaultServer;

  beforeAll(async () => {
    outage = await open();
    t = await startTestApp({ database: outage.database, env: ENV });
    provider = await startTestProvider({ redirectUri: t.config.redirectUrl });
    faults = await startFaultServer();
    faults.respondWith({ proxyTo: `${provider.issuer}/token` });
  }, 60_000);
  afterAll(async () => {
    await t?.closeApp();
    await provider?.close();
    await faults?.close();
    await outage?.dispose();
  });

  it('keeps the new tokens in memory, writes them once the database is back, and never replays the old refresh token', async () => {
    const { id } = await connectLink(t, provider, { tokenEndpoint: faults.tokenEndpoint });
    const firstRefreshToken = await storedSecret(t, LINK_REFRESH_TOKEN, id);
    await expireStoredToken(t, id);

    let databaseStopped = false;
    faults.respondWith({
      proxyTo: `${provider.issuer}/token`,
      // The refresh request has reached the provider's door: the database goes away now, so the
      // provider's answer (a rotated refresh token) arrives while nothing can be written.
      beforeForward: async () => {
        await outage.stop();
        databaseStopped = true;
      },
    });
    const duringOutage = tokenOf(t, id, '?minValidity=0').then((response) => response);
    while (!databaseStopped) await sleep(10);
    faults.respondWith({ proxyTo: `${provider.issuer}/token` });
    await sleep(OUTAGE_MS);
    await outage.start();

    // The caller is not kept waiting for the database: a 503 to retry, saying the tokens are kept.
    const answered = await duringOutage;
    expect(answered.status).toBe(503);
    expect(answered.body.code).toBe('service_unavailable');
    expect(answered.headers['retry-after']).toBe('2');

    // Once the database is back, the next request is served the new token, with no new refresh.
    const deadline = performance.now() + 20_000;
    let served = await tokenOf(t, id, '?minValidity=0');
    while (served.status !== 200 && performance.now() < deadline) {
      await sleep(100);
      served = await tokenOf(t, id, '?minValidity=0');
    }
    expect({ status: served.status, body: served.body }).toMatchObject({ status: 200 });
    expect(provider.grantCounts().refresh_token).toBe(1);
    const storedAfterOutage = await storedSecret(t, LINK_REFRESH_TOKEN, id);
    expect(storedAfterOutage).not.toBe(firstRefreshToken);

    // The grant is alive: a forced refresh uses the rotated token and the provider accepts it.
    await t.http().post(`/v1/links/${id}/refresh`).set(bearer(t.adminKey)).expect(200);
    expect((await linkOf(t, id)).status).toBe('connected');
    const presented = faults.presentedRefreshTokens;
    expect(presented).toEqual([firstRefreshToken, storedAfterOutage]);
    expect(new Set(presented).size).toBe(presented.length); // 0 replays
    // The on-demand refresh counts as a success once its write landed (the forced one is manual).
    const metrics = await t.http().get('/metrics').set(bearer(t.adminKey)).expect(200);
    expect(metrics.text).toMatch(
      /outlink_refreshes_total\{trigger="on_demand",result="success"\} 1\n/,
    );
  }, 60_000);
});
