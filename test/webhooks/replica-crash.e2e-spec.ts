import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { startChildReplica, type ChildReplica } from '../support/child-replica.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import {
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/test-database.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const ENV = { ALLOW_INSECURE_ENDPOINTS: 'true' };

/** `outlink_webhook_deliveries_total{result="delivered"}` of one replica. */
async function deliveredBy(replica: Pick<TestApp, 'http' | 'adminKey'>): Promise<number> {
  const text = (await replica.http().get('/metrics').set(bearer(replica.adminKey)).expect(200))
    .text;
  return Number(
    /^outlink_webhook_deliveries_total\{result="delivered"\} (\d+)/m.exec(text)?.[1] ?? 0,
  );
}

// Two processes on one database: PostgreSQL only (embedded PGlite is one process by construction);
// CI runs the suite on both back ends, so this runs in its PostgreSQL pass.
(TEST_DATABASE_URL ? describe : describe.skip)('webhook delivery by several replicas', () => {
  let database: TestDatabase;
  /** The survivor, in process; it polls only when a test says so. */
  let b: TestApp;
  /** `node dist/main.js`, polling every second, so that it can really be killed. */
  let a: ChildReplica | undefined;
  let receiver: WebhookReceiver;
  let webhook: { id: string; secret: string };

  beforeAll(async () => {
    database = await createTestDatabase();
    b = await startTestApp({
      database,
      env: { ...ENV, WEBHOOK_POLL_INTERVAL_SECONDS: '3600' },
    });
    receiver = await WebhookReceiver.start();
    webhook = (
      await b
        .http()
        .post('/v1/webhooks')
        .set(bearer(b.adminKey))
        .send({ url: receiver.url, events: ['*'] })
        .expect(201)
    ).body;
    a = await startChildReplica({
      database,
      adminKey: b.adminKey,
      env: { ...ENV, WEBHOOK_POLL_INTERVAL_SECONDS: '1' },
    });
  }, 60_000);
  afterAll(async () => {
    await a?.kill('SIGKILL');
    await b?.closeApp();
    await database?.dispose();
    await receiver?.close();
  });

  const deliveryRow = async (id: string) =>
    (
      await b.dataSource.query(
        `SELECT status, attempts, lease_holder, lease_until > now() AS leased
           FROM webhook_deliveries WHERE id = $1`,
        [id],
      )
    )[0];

  it('splits due deliveries between replicas (SKIP LOCKED) and sends none twice', async () => {
    const count = 64;
    receiver.respondWith({ status: 200, delayMs: 250 });
    // 64 rows as the outbox writes them, all due at once, for both replicas to find.
    await b.dataSource.query(
      `INSERT INTO webhook_deliveries
              (id, webhook_id, event_type, link_id, payload, status, attempts, next_attempt_at, created_at)
       SELECT gen_random_uuid(), $1, 'webhook.test', NULL, '{"type":"webhook.test"}', 'pending', 0, now(), now()
         FROM generate_series(1, $2)`,
      [webhook.id, count],
    );
    await b.app.get(WebhookDispatcher).runOnce();
    await receiver.waitForRequests(count);
    const ids = receiver.requests.map((request) => request.headers['webhook-id']);
    expect(new Set(ids).size).toBe(count);
    expect(receiver.verified(webhook.secret)).toHaveLength(count);

    // A counts a delivery once it has recorded it, a moment after the receiver answered.
    let [byA, byB] = [0, 0];
    const deadline = Date.now() + 10_000;
    while (byA + byB < count && Date.now() < deadline) {
      [byA, byB] = [await deliveredBy(a!), await deliveredBy(b)];
      if (byA + byB < count) await sleep(50);
    }
    console.log(`${count} due deliveries: replica A sent ${byA}, replica B ${byB}`);
    expect(byA + byB).toBe(count);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  }, 60_000);

  it('loses nothing when a replica is SIGKILLed in the middle of a delivery', async () => {
    const before = receiver.requests.length;
    receiver.respondWith('hold');
    // A link deleted through A: A's commit wakes A, which starts sending and never hears back.
    const link = await a!
      .http()
      .post('/v1/links')
      .set(bearer(b.adminKey))
      .send({
        name: 'Doomed',
        provider: 'google',
        clientId: 'c',
        clientSecret: 's',
        scopePreset: 'imap',
      })
      .expect(201);
    await a!.http().delete(`/v1/links/${link.body.id}`).set(bearer(b.adminKey)).expect(204);
    await receiver.waitForRequests(before + 1);
    const first = receiver.requests[before];
    const deliveryId = String(first.headers['webhook-id']);
    expect(await deliveryRow(deliveryId)).toMatchObject({
      status: 'pending',
      attempts: 1,
      leased: true,
    });
    expect((await deliveryRow(deliveryId)).lease_holder).not.toBe(
      b.app.get(WebhookDispatcher).holder,
    );

    expect((await a!.kill('SIGKILL')).signal).toBe('SIGKILL');
    receiver.releaseHeld(); // to a dead connection
    receiver.respondWith({ status: 200 });

    // While A's lease lasts, B leaves the delivery alone.
    await b.app.get(WebhookDispatcher).runOnce();
    expect(receiver.requests).toHaveLength(before + 1);

    // The 30 s lease runs out (moved, not waited for); B sends it again, with the same id.
    await b.dataSource.query(
      `UPDATE webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = $1`,
      [deliveryId],
    );
    await b.app.get(WebhookDispatcher).runOnce();
    await receiver.waitForRequests(before + 2);
    const second = receiver.requests[before + 1];
    expect(second.headers['webhook-id']).toBe(deliveryId);
    expect(second.body).toBe(first.body);
    const [, verified] = receiver.verified(webhook.secret).slice(before);
    expect(verified).toMatchObject({
      id: deliveryId,
      type: 'link.deleted',
      data: { linkId: link.body.id, linkName: 'Doomed' },
    });
    expect(await deliveryRow(deliveryId)).toMatchObject({
      status: 'delivered',
      attempts: 2,
      lease_holder: null,
    });
  }, 60_000);
});
