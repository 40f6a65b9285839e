import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { connectLink, createCustomLink, tokenOf } from '../support/connected-link.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp } from '../support/test-app.js';
import { startWebhookApp, type WebhookApp } from '../support/webhook-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Issue 12 points 4-5: receivers that are down, failing, gone or out of the outbound policy.
 * Time is driven by moving `next_attempt_at` and `created_at`, never by sleeping out a backoff.
 */
describe(`webhook deliveries that fail (${BACKEND})`, () => {
  let w: WebhookApp;

  beforeAll(async () => {
    w = await startWebhookApp();
  });
  afterAll(async () => {
    await w?.close();
  });

  const admin = () => bearer(w.t.adminKey);

  it('a receiver that is down for a while (503, then closed) gets every event once it is back', async () => {
    const { receiver } = w;
    // Retry-After keeps each failed delivery from falling due again before the test says so.
    receiver.respondWith({ status: 503, headers: { 'retry-after': '3600' } });
    const { id } = await connectLink(w.t, w.provider);
    await w.provider.revokeAllGrants();
    await tokenOf(w.t, id).expect(409);
    await w.t.http().delete(`/v1/links/${id}`).set(admin()).expect(204);
    const aboutLink = () => receiver.requests.filter((request) => request.body.includes(id));
    const deliveriesAboutLink = async () =>
      (await w.deliveries()).filter((delivery) => delivery.linkId === id);
    await receiver.waitUntil(() => aboutLink().length >= 3, 'three refused attempts');
    await w.settle();
    const pending = await deliveriesAboutLink();
    expect(pending).toHaveLength(3);
    for (const delivery of pending)
      expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503 });

    await receiver.closePort();
    await w.retryPendingNow();
    for (const delivery of await deliveriesAboutLink())
      expect(delivery).toMatchObject({
        status: 'pending',
        attempts: 2,
        lastStatusCode: null,
        lastError: expect.stringContaining('could not be reached'),
      });

    await receiver.openPort();
    receiver.respondWith({ status: 200 });
    await w.retryPendingNow();
    expect(w.messagesAbout(id).map((message) => message.type)).toEqual(
      expect.arrayContaining(['link.connected', 'link.reauthorization_required', 'link.deleted']),
    );
    const finished = await deliveriesAboutLink();
    for (const delivery of finished)
      expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200 });
    // Each attempt of a delivery carried the same id and the same body.
    for (const delivery of finished) {
      const attempts = aboutLink().filter(
        (request) => request.headers['webhook-id'] === delivery.id,
      );
      expect(attempts.map((request) => request.answeredWith)).toEqual([503, 200]);
      expect(new Set(attempts.map((request) => request.body)).size).toBe(1);
    }
  });

  it('gives a delivery up after 24 hours of failures', async () => {
    w.receiver.respondWith({ status: 500 });
    try {
      const queued = await w.t
        .http()
        .post(`/v1/webhooks/${w.webhook.id}/test`)
        .set(admin())
        .expect(202);
      await w.receiver.waitUntil((requests) =>
        requests.some((request) => request.headers['webhook-id'] === queued.body.id),
      );
      await w.settle();
      // The event is a day old: the next failure is the last.
      await w.t.dataSource.query(
        `UPDATE webhook_deliveries SET created_at = created_at - interval '24 hours' WHERE id = $1`,
        [queued.body.id],
      );
      await w.retryPendingNow();
      const [delivery] = (await w.deliveries()).filter((item) => item.id === queued.body.id);
      expect(delivery).toMatchObject({
        status: 'failed',
        attempts: 2,
        lastStatusCode: 500,
        nextAttemptAt: null,
      });
    } finally {
      w.receiver.respondWith({ status: 200 });
    }
  });

  it('a receiver that answers 410 Gone stops getting calls: its webhook is disabled', async () => {
    const gone = await WebhookReceiver.start();
    try {
      gone.respondWith({ status: 410 });
      const second = (
        await w.t
          .http()
          .post('/v1/webhooks')
          .set(admin())
          .send({ url: gone.url, events: ['link.deleted'] })
          .expect(201)
      ).body;
      const first = await createCustomLink(w.t, w.provider, { name: 'First' });
      await w.t.http().delete(`/v1/links/${first.id}`).set(admin()).expect(204);
      await gone.waitForRequests(1);
      await w.settle();

      const disabled = await w.t.http().get(`/v1/webhooks/${second.id}`).set(admin()).expect(200);
      expect(disabled.body).toMatchObject({
        status: 'disabled',
        disabledAt: expect.stringMatching(/Z$/),
        disabledReason: expect.stringContaining('410'),
      });
      expect(await w.deliveries(second.id)).toEqual([
        expect.objectContaining({ status: 'cancelled', attempts: 1, lastStatusCode: 410 }),
      ]);

      const later = await createCustomLink(w.t, w.provider, { name: 'Later' });
      await w.t.http().delete(`/v1/links/${later.id}`).set(admin()).expect(204);
      await w.waitForMessagesAbout(later.id, 1); // the other webhook still gets it
      await w.t.http().post(`/v1/webhooks/${second.id}/test`).set(admin()).expect(409);
      await w.retryPendingNow();
      expect(gone.requests).toHaveLength(1);
      expect(await w.deliveries(second.id)).toHaveLength(1);
    } finally {
      await gone.close();
    }
  });

  it('counts delivery attempts by result in outlink_webhook_deliveries_total', async () => {
    const metrics = (await w.t.http().get('/metrics').set(admin()).expect(200)).text;
    const count = (result: string): number =>
      Number(
        new RegExp(`^outlink_webhook_deliveries_total\\{result="${result}"\\} (\\d+)`, 'm').exec(
          metrics,
        )?.[1] ?? 0,
      );
    // 3 events once back, 2 deletions; 3 refused + 3 unreachable + 1 before giving up.
    expect(count('delivered')).toBe(5);
    expect(count('failed')).toBe(7);
    expect(count('gave_up')).toBe(1);
    expect(count('disabled')).toBe(1);
  });
});

describe(`webhooks and the outbound policy at connect time (${BACKEND})`, () => {
  it('refuses to deliver to an address the policy no longer allows, without connecting', async () => {
    const receiver = await WebhookReceiver.start();
    // Saved while OUTBOUND_ALLOW let Outlink reach loopback...
    const before = await startTestApp({ env: { ALLOW_INSECURE_ENDPOINTS: 'true' } });
    const { id } = (
      await before
        .http()
        .post('/v1/webhooks')
        .set(bearer(before.adminKey))
        .send({ url: receiver.url, events: ['*'] })
        .expect(201)
    ).body;
    await before.closeApp();
    // ...and sent after the exception was removed.
    const t = await startTestApp({
      database: before.database,
      env: { ALLOW_INSECURE_ENDPOINTS: 'true', OUTBOUND_ALLOW: '', ADMIN_API_KEY: before.adminKey },
    });
    try {
      const queued = await t
        .http()
        .post(`/v1/webhooks/${id}/test`)
        .set(bearer(t.adminKey))
        .expect(202);
      await t.app.get(WebhookDispatcher).runOnce();
      const log = await t
        .http()
        .get(`/v1/webhooks/${id}/deliveries`)
        .set(bearer(t.adminKey))
        .expect(200);
      expect(log.body.items).toEqual([
        expect.objectContaining({
          id: queued.body.id,
          status: 'pending',
          attempts: 1,
          lastStatusCode: null,
          lastError: expect.stringContaining('outbound policy refuses'),
        }),
      ]);
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await t.closeApp();
      await before.database.dispose();
      await receiver.close();
    }
  });
});
