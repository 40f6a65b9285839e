import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEVICE_AUTHORIZATION_DEVICE_CODE } from '../../src/database/encrypted-columns.js';
import { DevicePolling } from '../../src/oauth/device-polling.js';
import { createCustomLink, linkOf, storedSecret, tokenOf } from '../support/connected-link.js';
import {
  approveDeviceAuthorization,
  startTestProvider,
  type TestProvider,
} from '../support/oidc-provider.js';
import {
  BACKEND,
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

interface DeviceRow {
  id: string;
  outcome: string | null;
  finished: boolean;
  interval_seconds: number;
  polls: number;
  has_device_code: boolean;
  /** seconds from the database's now() to next_poll_at */
  next_poll_in: number;
}

describe(`device authorization flow (RFC 8628) against a real OpenID provider (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;
  let polling: DevicePolling;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ALLOW_INSECURE_ENDPOINTS: 'true',
        PUBLIC_BASE_URL: 'http://127.0.0.1:39999',
        // Only the test's runOnce() polls, so every poll below is one the test caused.
        DEVICE_POLL_CHECK_SECONDS: '3600',
      },
    });
    provider = await startTestProvider({ redirectUri: t.config.redirectUrl, deviceFlow: true });
    polling = t.app.get(DevicePolling);
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  /** A custom link found through discovery, whose document names the device endpoint. */
  const createDeviceLink = () =>
    createCustomLink(t, provider, {
      issuer: provider.issuer,
      authorizationEndpoint: undefined,
      tokenEndpoint: undefined,
    });

  const startDevice = (linkId: string) =>
    t
      .http()
      .post(`/v1/links/${linkId}/authorize`)
      .set(bearer(t.adminKey))
      .send({ method: 'device' });

  async function deviceRows(linkId: string): Promise<DeviceRow[]> {
    return t.dataSource.query(
      `SELECT id, outcome, finished_at IS NOT NULL AS finished, interval_seconds, polls,
              device_code_encrypted IS NOT NULL AS has_device_code,
              EXTRACT(EPOCH FROM next_poll_at - now())::float AS next_poll_in
         FROM device_authorizations WHERE link_id = $1 ORDER BY created_at`,
      [linkId],
    );
  }
  const openRow = async (linkId: string): Promise<DeviceRow> =>
    (await deviceRows(linkId)).find((row) => !row.finished)!;
  /** As if the interval had passed: the open device authorization is due now. */
  const makeDue = (linkId: string) =>
    t.dataSource.query(
      `UPDATE device_authorizations SET next_poll_at = now() WHERE link_id = $1 AND finished_at IS NULL`,
      [linkId],
    );
  const events = async (linkId: string) =>
    (await t.http().get(`/v1/links/${linkId}/events`).set(bearer(t.adminKey)).expect(200)).body
      .items as { type: string; detail: Record<string, unknown> }[];
  const devicePolls = () =>
    provider.grantCounts()['urn:ietf:params:oauth:grant-type:device_code'] ?? 0;

  it('shows the user code, polls in the background at the interval and connects once approved', async () => {
    const link = await createDeviceLink();
    const started = await startDevice(link.id).expect(201);
    expect(Object.keys(started.body).sort()).toEqual([
      'expiresAt',
      'interval',
      'userCode',
      'verificationUri',
      'verificationUriComplete',
    ]);
    expect(started.body.verificationUri).toBe(`${provider.issuer}/device`);
    expect(started.body.verificationUriComplete).toContain(
      `user_code=${started.body.userCode as string}`,
    );
    // oidc-provider names no interval: RFC 8628's default of 5 s applies.
    expect(started.body.interval).toBe(5);
    expect(Date.parse(started.body.expiresAt) - Date.now()).toBeGreaterThan(9 * 60 * 1000);
    expect((await linkOf(t, link.id)).status).toBe('pending_authorization');

    // The device code is stored encrypted, never in the answer.
    const [row] = await deviceRows(link.id);
    const deviceCode = await storedSecret(t, DEVICE_AUTHORIZATION_DEVICE_CODE, row.id);
    expect(deviceCode.length).toBeGreaterThan(20);
    expect(JSON.stringify(started.body)).not.toContain(deviceCode);
    const [raw] = await t.dataSource.query(
      'SELECT device_code_encrypted FROM device_authorizations WHERE id = $1',
      [row.id],
    );
    expect(raw.device_code_encrypted).not.toContain(deviceCode);

    // Not due yet: nothing is asked.
    const before = devicePolls();
    await polling.runOnce();
    expect(devicePolls()).toBe(before);

    // Due, not yet approved: authorization_pending, asked again after the interval.
    await makeDue(link.id);
    await polling.runOnce();
    expect(devicePolls()).toBe(before + 1);
    const pending = await openRow(link.id);
    expect(pending).toMatchObject({ polls: 1, interval_seconds: 5, has_device_code: true });
    expect(pending.next_poll_in).toBeGreaterThan(4);
    expect(pending.next_poll_in).toBeLessThanOrEqual(5.5);

    expect(
      await approveDeviceAuthorization(started.body.verificationUriComplete as string),
    ).toMatch(/Success/);
    await makeDue(link.id);
    await polling.runOnce();

    const connected = await linkOf(t, link.id);
    expect(connected.status).toBe('connected');
    expect(connected.refreshTokenPresent ?? connected.hasRefreshToken).toBeTruthy();
    const [finished] = await deviceRows(link.id);
    expect(finished).toMatchObject({
      outcome: 'connected',
      finished: true,
      has_device_code: false,
    });
    const token = await tokenOf(t, link.id).expect(200);
    expect(typeof token.body.accessToken).toBe('string');
    const types = (await events(link.id)).map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining(['authorization_started', 'authorized', 'status_changed']),
    );
    const startedEvent = (await events(link.id)).find((e) => e.type === 'authorization_started')!;
    expect(startedEvent.detail).toMatchObject({ method: 'device', interval: 5 });
    expect(t.logs.text).not.toContain(deviceCode);
  });

  it('ends denied when the user cancels at the provider, and the link stays as it was', async () => {
    const link = await createDeviceLink();
    const started = await startDevice(link.id).expect(201);
    await approveDeviceAuthorization(started.body.verificationUriComplete as string, {
      deny: true,
    });
    await makeDue(link.id);
    await polling.runOnce();

    expect((await linkOf(t, link.id)).status).toBe('pending_authorization');
    const [row] = await deviceRows(link.id);
    expect(row).toMatchObject({ outcome: 'denied', finished: true, has_device_code: false });
    const failed = (await events(link.id)).find((e) => e.type === 'authorization_failed');
    expect(failed?.detail).toMatchObject({ method: 'device', error: 'access_denied' });

    // Finished: later passes leave it alone.
    const polls = devicePolls();
    await makeDue(link.id);
    await polling.runOnce();
    expect(devicePolls()).toBe(polls);
  });

  it('ends expired when the code outlives its lifetime, without asking the provider', async () => {
    const link = await createDeviceLink();
    await startDevice(link.id).expect(201);
    await t.dataSource.query(
      `UPDATE device_authorizations SET next_poll_at = now(), expires_at = now() - interval '1 second'
        WHERE link_id = $1`,
      [link.id],
    );
    const polls = devicePolls();
    await polling.runOnce();
    expect(devicePolls()).toBe(polls);
    const [row] = await deviceRows(link.id);
    expect(row).toMatchObject({ outcome: 'expired', finished: true, has_device_code: false });
    const failed = (await events(link.id)).find((e) => e.type === 'authorization_failed');
    expect(failed?.detail).toMatchObject({ method: 'device', error: 'expired_token' });
  });

  it('ends expired when the provider answers expired_token', async () => {
    const link = await createDeviceLink();
    await startDevice(link.id).expect(201);
    provider.injectTokenErrors(['expired_token']);
    await makeDue(link.id);
    await polling.runOnce();
    const [row] = await deviceRows(link.id);
    expect(row).toMatchObject({ outcome: 'expired', finished: true });
    expect((await linkOf(t, link.id)).status).toBe('pending_authorization');
  });

  it('waits 5 s longer for good after slow_down', async () => {
    const link = await createDeviceLink();
    const started = await startDevice(link.id).expect(201);
    provider.injectTokenErrors(['slow_down']);
    await makeDue(link.id);
    await polling.runOnce();
    const slowed = await openRow(link.id);
    expect(slowed).toMatchObject({ polls: 1, interval_seconds: 10 });
    expect(slowed.next_poll_in).toBeGreaterThan(9);
    expect(slowed.next_poll_in).toBeLessThanOrEqual(10.5);

    // Five seconds on (the old interval) it is not due: no poll.
    await t.dataSource.query(
      `UPDATE device_authorizations SET next_poll_at = next_poll_at - interval '5 seconds'
        WHERE link_id = $1`,
      [link.id],
    );
    await polling.runOnce();
    expect((await openRow(link.id)).polls).toBe(1);

    // Once the new interval has passed it polls, and keeps the longer interval.
    await makeDue(link.id);
    await polling.runOnce();
    const pending = await openRow(link.id);
    expect(pending).toMatchObject({ polls: 2, interval_seconds: 10 });
    expect(pending.next_poll_in).toBeGreaterThan(9);

    await approveDeviceAuthorization(started.body.verificationUriComplete as string);
    await makeDue(link.id);
    await polling.runOnce();
    expect((await linkOf(t, link.id)).status).toBe('connected');
  });

  it('supersedes an earlier device authorization of the same link', async () => {
    const link = await createDeviceLink();
    await startDevice(link.id).expect(201);
    await startDevice(link.id).expect(201);
    const rows = await deviceRows(link.id);
    expect(rows.map((row) => row.outcome)).toEqual(['superseded', null]);
    expect(rows[0].has_device_code).toBe(false);
  });

  it('refuses the device flow where the provider has none, and unknown methods', async () => {
    const plain = await createCustomLink(t, provider);
    const refused = await startDevice(plain.id).expect(409);
    expect(refused.body.detail).toMatch(/device authorization endpoint/);
    const bad = await t
      .http()
      .post(`/v1/links/${plain.id}/authorize`)
      .set(bearer(t.adminKey))
      .send({ method: 'telepathy' })
      .expect(400);
    expect(bad.body.code).toBe('validation_failed');
    for (const body of ['null', '{"method":"device","extra":1}', '["device"]']) {
      const refusedBody = await t
        .http()
        .post(`/v1/links/${plain.id}/authorize`)
        .set(bearer(t.adminKey))
        .set('content-type', 'application/json')
        .send(body)
        .expect(400);
      expect(refusedBody.body.code).toBe('validation_failed');
    }
    const [{ count }] = await t.dataSource.query(
      'SELECT count(*)::int AS count FROM device_authorizations WHERE link_id = $1',
      [plain.id],
    );
    expect(count).toBe(0);
  });

  it('lets only admins start a device authorization', async () => {
    const link = await createDeviceLink();
    const consumer = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'mail-handler', role: 'consumer', linkIds: [link.id] })
      .expect(201);
    await t
      .http()
      .post(`/v1/links/${link.id}/authorize`)
      .set(bearer(consumer.body.key as string))
      .send({ method: 'device' })
      .expect(403);
    await t.http().post(`/v1/links/${link.id}/authorize`).send({ method: 'device' }).expect(401);
    expect(await deviceRows(link.id)).toEqual([]);
  });

  it('forgets the device codes of a deleted link', async () => {
    const link = await createDeviceLink();
    await startDevice(link.id).expect(201);
    await t.http().delete(`/v1/links/${link.id}`).set(bearer(t.adminKey)).expect(204);
    expect(await deviceRows(link.id)).toEqual([]);
  });
});

// Replicas share a real PostgreSQL; the embedded database is one process by construction.
(TEST_DATABASE_URL ? describe : describe.skip)(
  'device polling on two replicas of one PostgreSQL',
  () => {
    const env = {
      ALLOW_INSECURE_ENDPOINTS: 'true',
      PUBLIC_BASE_URL: 'http://127.0.0.1:39998',
      DEVICE_POLL_CHECK_SECONDS: '3600',
    };
    let database: TestDatabase;
    let replicas: TestApp[];
    let provider: TestProvider;

    beforeAll(async () => {
      database = await createTestDatabase();
      const first = await startTestApp({ database, env });
      replicas = [
        first,
        await startTestApp({ database, env: { ...env, ADMIN_API_KEY: first.adminKey } }),
      ];
      provider = await startTestProvider({
        redirectUri: first.config.redirectUrl,
        deviceFlow: true,
      });
    });
    afterAll(async () => {
      for (const replica of replicas ?? []) await replica.closeApp();
      await database?.dispose();
      await provider?.close();
    });

    it('asks the provider once per due device code, whichever replica polls', async () => {
      const [first] = replicas;
      const links = [];
      for (let i = 0; i < 4; i += 1) {
        const link = await createCustomLink(first, provider, {
          issuer: provider.issuer,
          authorizationEndpoint: undefined,
          tokenEndpoint: undefined,
        });
        await first
          .http()
          .post(`/v1/links/${link.id}/authorize`)
          .set(bearer(first.adminKey))
          .send({ method: 'device' })
          .expect(201);
        links.push(link.id);
      }
      for (let round = 1; round <= 3; round += 1) {
        await first.dataSource.query(
          'UPDATE device_authorizations SET next_poll_at = now() WHERE finished_at IS NULL',
        );
        const before = provider.grantCounts()['urn:ietf:params:oauth:grant-type:device_code'] ?? 0;
        await Promise.all(replicas.map((replica) => replica.app.get(DevicePolling).runOnce()));
        const after = provider.grantCounts()['urn:ietf:params:oauth:grant-type:device_code'] ?? 0;
        expect(after - before).toBe(links.length);
        const rows: { polls: number }[] = await first.dataSource.query(
          'SELECT polls FROM device_authorizations',
        );
        expect(rows.map((row) => row.polls)).toEqual(links.map(() => round));
      }
    });
  },
);
