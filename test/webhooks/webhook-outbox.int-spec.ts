import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WEBHOOK_SECRET } from '../../src/database/encrypted-columns.js';
import { LinkEventsService } from '../../src/links/link-events.service.js';
import { WebhookDeliveryRetention } from '../../src/webhooks/webhook-delivery-retention.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { rotateKeysAndReadBack } from '../support/connected-link.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/** What the outbox keeps (SPEC §13): rows written with their event, purged, re-encrypted. */
describe(`the webhook outbox (${BACKEND})`, () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    // A poll an hour apart: every delivery here is sent because its commit woke the dispatcher.
    t = await startTestApp({
      env: { ALLOW_INSECURE_ENDPOINTS: 'true', WEBHOOK_POLL_INTERVAL_SECONDS: '3600' },
    });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const admin = () => bearer(t.adminKey);
  const create = (body: object) => t.http().post('/v1/webhooks').set(admin()).send(body);
  const deliveriesOf = async (id: string, query = '') =>
    (await t.http().get(`/v1/webhooks/${id}/deliveries${query}`).set(admin()).expect(200)).body;

  it('writes one outbox row per subscribed webhook, in the transaction of the event', async () => {
    const { id: webhookId } = (
      await create({ url: receiver.url, events: ['link.error'] }).expect(201)
    ).body;
    const { id: notSubscribed } = (
      await create({ url: receiver.url, events: ['link.deleted', 'link.recovered'] }).expect(201)
    ).body;
    const subscribed: string[] = (
      await t.dataSource.query(
        `SELECT id FROM webhooks WHERE status = 'active' AND events && ARRAY['link.error', '*']`,
      )
    ).map((row: { id: string }) => row.id);
    expect(subscribed).toContain(webhookId);
    expect(subscribed).not.toContain(notSubscribed);
    const link = await t
      .http()
      .post('/v1/links')
      .set(admin())
      .send({
        name: 'Support mailbox',
        provider: 'google',
        clientId: 'c',
        clientSecret: 's',
        scopePreset: 'imap',
      })
      .expect(201);
    const linkId = link.body.id as string;
    const events = t.app.get(LinkEventsService);
    const webhooksAnnouncing = async (manager = t.dataSource.manager): Promise<string[]> =>
      (
        await manager.query(
          `SELECT webhook_id FROM webhook_deliveries WHERE link_id = $1 AND event_type = 'link.error'`,
          [linkId],
        )
      )
        .map((row: { webhook_id: string }) => row.webhook_id)
        .sort();
    const statusChange = { from: 'connected', to: 'error', reason: 'invalid_client' };

    await expect(
      t.dataSource.transaction(async (manager) => {
        await events.record(linkId, 'status_changed', 'system', statusChange, manager);
        expect(await webhooksAnnouncing(manager)).toEqual([...subscribed].sort());
        throw new Error('the change fails after its event was recorded');
      }),
    ).rejects.toThrow('the change fails');
    expect(await webhooksAnnouncing()).toEqual([]);

    await t.dataSource.transaction(async (manager) => {
      await events.record(linkId, 'status_changed', 'system', statusChange, manager);
    });
    expect(await webhooksAnnouncing()).toEqual([...subscribed].sort());
    await receiver.waitUntil((requests) =>
      requests.some((request) => request.body.includes(linkId)),
    );
    expect(
      JSON.parse(receiver.requests.find((request) => request.body.includes(linkId))!.body),
    ).toMatchObject({
      type: 'link.error',
      data: { linkId, linkName: 'Support mailbox', previousStatus: 'connected' },
    });
    await t.app.get(WebhookDispatcher).runOnce();
    expect((await deliveriesOf(webhookId)).items).toEqual([
      expect.objectContaining({ eventType: 'link.error', linkId, status: 'delivered' }),
    ]);
    expect((await deliveriesOf(notSubscribed)).items).toEqual([]);
  });

  it('purges finished deliveries older than EVENT_RETENTION_DAYS, never pending ones', async () => {
    const { id } = (await create({ url: receiver.url, events: ['*'] }).expect(201)).body;
    const delivered = (await t.http().post(`/v1/webhooks/${id}/test`).set(admin()).expect(202)).body
      .id;
    await receiver.waitUntil((requests) =>
      requests.some((request) => request.headers['webhook-id'] === delivered),
    );
    await t.app.get(WebhookDispatcher).runOnce();
    receiver.respondWith({ status: 503 });
    let pending: string;
    try {
      pending = (await t.http().post(`/v1/webhooks/${id}/test`).set(admin()).expect(202)).body.id;
      await receiver.waitUntil((requests) =>
        requests.some((request) => request.headers['webhook-id'] === pending),
      );
      await t.app.get(WebhookDispatcher).runOnce();
    } finally {
      receiver.respondWith({ status: 200 });
    }
    const fresh = (await t.http().post(`/v1/webhooks/${id}/test`).set(admin()).expect(202)).body.id;
    await t.app.get(WebhookDispatcher).runOnce();
    await t.dataSource.query(
      `UPDATE webhook_deliveries SET created_at = now() - interval '181 days' WHERE id IN ($1, $2)`,
      [delivered, pending],
    );

    expect(await t.app.get(WebhookDeliveryRetention).purgeExpired()).toBe(1);
    const left = (await deliveriesOf(id)).items.map((item: { id: string }) => item.id).sort();
    expect(left).toEqual([pending, fresh].sort());
  });

  it('keys:rotate re-encrypts webhook secrets, which still sign', async () => {
    const { id, secret } = (await create({ url: receiver.url, events: ['*'] }).expect(201)).body;
    const { results, envelope, ring } = await rotateKeysAndReadBack(t, WEBHOOK_SECRET, id);
    expect(results).toContainEqual({
      column: 'webhooks.secret_encrypted',
      reencrypted: expect.any(Number),
      skipped: 0,
    });
    expect(ring.decrypt(envelope, `webhooks:${id}:secret_encrypted`)).toBe(secret);
  });
});
