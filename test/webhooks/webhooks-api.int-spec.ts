import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WEBHOOK_SECRET } from '../../src/database/encrypted-columns.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { storedSecret } from '../support/connected-link.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe(`webhooks API (${BACKEND})`, () => {
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
  const count = async (table: string): Promise<number> =>
    (await t.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;
  const deliveriesOf = async (id: string, query = '') =>
    (await t.http().get(`/v1/webhooks/${id}/deliveries${query}`).set(admin()).expect(200)).body;

  it('creates a webhook whose Standard Webhooks secret is shown once and stored encrypted', async () => {
    const created = await create({
      url: receiver.url,
      events: ['link.reauthorization_required', 'link.error'],
      description: 'on-call relay',
    }).expect(201);
    const { secret, ...webhook } = created.body;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(webhook).toEqual({
      id: expect.any(String),
      url: receiver.url,
      events: ['link.reauthorization_required', 'link.error'],
      description: 'on-call relay',
      status: 'active',
      disabledAt: null,
      disabledReason: null,
      createdAt: expect.stringMatching(/Z$/),
    });

    const listed = await t.http().get('/v1/webhooks').set(admin()).expect(200);
    expect(listed.body.items).toContainEqual(webhook);
    const fetched = await t.http().get(`/v1/webhooks/${webhook.id}`).set(admin()).expect(200);
    expect(fetched.body).toEqual(webhook);
    expect(JSON.stringify([listed.body, fetched.body])).not.toContain(secret.slice(6));

    const [row] = await t.dataSource.query('SELECT secret_encrypted FROM webhooks WHERE id = $1', [
      webhook.id,
    ]);
    expect(row.secret_encrypted).toMatch(/^enc:v1:/);
    expect(row.secret_encrypted).not.toContain(secret.slice(6));
    expect(await storedSecret(t, WEBHOOK_SECRET, webhook.id)).toBe(secret);
  });

  it.each([
    ['no url', { events: ['*'] }, 'url'],
    ['a relative url', { url: '/hook', events: ['*'] }, 'url'],
    ['an ftp url', { url: 'ftp://alerts.example.com/', events: ['*'] }, 'url'],
    ['credentials in the url', { url: 'https://u:p@alerts.example.com/', events: ['*'] }, 'url'],
    ['no events', { url: 'https://alerts.example.com/' }, 'events'],
    ['empty events', { url: 'https://alerts.example.com/', events: [] }, 'events'],
    [
      'an unknown event',
      { url: 'https://alerts.example.com/', events: ['link.created'] },
      'events',
    ],
    [
      'webhook.test as a subscription',
      { url: 'https://a.example/', events: ['webhook.test'] },
      'events',
    ],
    [
      '"*" with others',
      { url: 'https://alerts.example.com/', events: ['*', 'link.error'] },
      'events',
    ],
    [
      'a repeated event',
      { url: 'https://a.example/', events: ['link.error', 'link.error'] },
      'events',
    ],
    ['an unknown field', { url: 'https://a.example/', events: ['*'], secret: 'mine' }, 'secret'],
    [
      'a long description',
      { url: 'https://a.example/', events: ['*'], description: 'x'.repeat(501) },
      'description',
    ],
  ])('refuses %s with a 400 naming the field, creating nothing', async (_, body, field) => {
    const before = await count('webhooks');
    const response = await create(body).expect(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    expect(await count('webhooks')).toBe(before);
  });

  it('sends webhook.test through the outbox at once, signed, with the delivery id as webhook-id', async () => {
    const { id, secret } = (
      await create({ url: receiver.url, events: ['link.deleted'] }).expect(201)
    ).body;
    const before = receiver.requests.length;
    const queued = await t.http().post(`/v1/webhooks/${id}/test`).set(admin()).expect(202);
    expect(queued.body).toMatchObject({
      webhookId: id,
      eventType: 'webhook.test',
      linkId: null,
      payload: { type: 'webhook.test', data: { webhookId: id } },
    });
    await receiver.waitForRequests(before + 1);
    const [message] = receiver.verified(secret).slice(before);
    expect(message).toEqual({
      id: queued.body.id,
      type: 'webhook.test',
      timestamp: queued.body.payload.timestamp,
      data: { webhookId: id, message: expect.any(String) },
    });
    expect(receiver.requests[before].headers['content-type']).toBe('application/json');

    await t.app.get(WebhookDispatcher).runOnce();
    const log = await deliveriesOf(id);
    expect(log.items).toEqual([
      expect.objectContaining({
        id: queued.body.id,
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: expect.stringMatching(/Z$/),
      }),
    ]);
    expect(JSON.stringify(log)).not.toContain(secret.slice(6));
  });

  it('pages the delivery log, newest first', async () => {
    const { id } = (await create({ url: receiver.url, events: ['*'] }).expect(201)).body;
    const queued: string[] = [];
    for (let i = 0; i < 3; i++)
      queued.push(
        (await t.http().post(`/v1/webhooks/${id}/test`).set(admin()).expect(202)).body.id,
      );
    const first = await deliveriesOf(id, '?limit=2');
    expect(first.items.map((item: { id: string }) => item.id)).toEqual([queued[2], queued[1]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await deliveriesOf(id, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((item: { id: string }) => item.id)).toEqual([queued[0]]);
    expect(second.nextCursor).toBeNull();
    await t.http().get(`/v1/webhooks/${id}/deliveries?cursor=nonsense`).set(admin()).expect(400);
  });

  it('answers 404 for unknown webhooks on every route', async () => {
    await t.http().get(`/v1/webhooks/${UNKNOWN_ID}`).set(admin()).expect(404);
    await t.http().delete(`/v1/webhooks/${UNKNOWN_ID}`).set(admin()).expect(404);
    await t.http().post(`/v1/webhooks/${UNKNOWN_ID}/test`).set(admin()).expect(404);
    await t.http().get(`/v1/webhooks/${UNKNOWN_ID}/deliveries`).set(admin()).expect(404);
    await t.http().get('/v1/webhooks/not-a-uuid').set(admin()).expect(400);
  });

  it('deletes a webhook with its log: what it was still to be sent never is', async () => {
    const { id } = (await create({ url: receiver.url, events: ['*'] }).expect(201)).body;
    const dispatcher = t.app.get(WebhookDispatcher);
    const before = receiver.requests.length;
    receiver.respondWith({ status: 503 });
    try {
      await t.http().post(`/v1/webhooks/${id}/test`).set(admin()).expect(202);
      await receiver.waitForRequests(before + 1);
      await dispatcher.runOnce();
      expect((await deliveriesOf(id)).items).toEqual([
        expect.objectContaining({ status: 'pending', attempts: 1, lastStatusCode: 503 }),
      ]);

      await t.http().delete(`/v1/webhooks/${id}`).set(admin()).expect(204);
      await t.http().get(`/v1/webhooks/${id}`).set(admin()).expect(404);
      await t.http().get(`/v1/webhooks/${id}/deliveries`).set(admin()).expect(404);
      await t.http().post(`/v1/webhooks/${id}/test`).set(admin()).expect(404);
      await t.http().delete(`/v1/webhooks/${id}`).set(admin()).expect(404);
      expect(
        await t.dataSource.query('SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1', [id]),
      ).toEqual([]);
      // Time passes: whatever else is pending falls due, and nothing goes to the deleted webhook.
      await t.dataSource.query(
        `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'`,
      );
      await dispatcher.runOnce();
      expect(receiver.requests).toHaveLength(before + 1);
    } finally {
      receiver.respondWith({ status: 200 });
    }
  });
});

describe(`webhooks and the outbound policy at create (${BACKEND})`, () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW: '' } });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const create = (url: string) =>
    t
      .http()
      .post('/v1/webhooks')
      .set(bearer(t.adminKey))
      .send({ url, events: ['*'] });
  const secure = (url: string): string => url.replace(/^http:/, 'https:');

  it.each([
    ['the loopback receiver', () => secure(receiver.url)],
    ['localhost', () => secure(receiver.url.replace('127.0.0.1', 'localhost'))],
    ['a private address', () => 'https://10.0.0.1/hook'],
    ['the cloud metadata address', () => 'https://169.254.169.254/latest/meta-data'],
    ['a unique-local address', () => 'https://[fd00::1]/hook'],
  ])('refuses %s with endpoint_not_allowed, creating nothing', async (_, url) => {
    const response = await create(url()).expect(400);
    expect(response.body).toMatchObject({
      code: 'endpoint_not_allowed',
      errors: [{ field: 'url', message: expect.stringContaining('OUTBOUND_ALLOW') }],
    });
    expect(await t.dataSource.query('SELECT 1 FROM webhooks')).toEqual([]);
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses plain http without ALLOW_INSECURE_ENDPOINTS', async () => {
    const response = await create('http://alerts.example.com/hook').expect(400);
    expect(response.body.errors).toEqual([
      { field: 'url', message: expect.stringContaining('ALLOW_INSECURE_ENDPOINTS') },
    ]);
  });
});
