import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { connectLink, createCustomLink, tokenOf } from '../support/connected-link.js';
import {
  authorizeWithPlainHttp,
  startTestProvider,
  type TestProvider,
} from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { WebhookReceiver, type VerifiedWebhook } from '../support/webhook-receiver.js';

const ENV = {
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: 'http://127.0.0.1:39981',
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
  MIN_REFRESH_INTERVAL_SECONDS: '0',
  // Deliveries below go out because their commit woke the dispatcher, or because a test calls it.
  WEBHOOK_POLL_INTERVAL_SECONDS: '3600',
};

/**
 * Issue 12 point 5: link events reach a real HTTP receiver on loopback, signed as Standard
 * Webhooks and verified with the `standardwebhooks` package, from a real oidc-provider's answers.
 */
describe(`webhooks announce what happens to links (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;
  let receiver: WebhookReceiver;
  let webhook: { id: string; secret: string };

  beforeAll(async () => {
    t = await startTestApp({ env: ENV });
    provider = await startTestProvider({ redirectUri: t.config.redirectUrl });
    receiver = await WebhookReceiver.start();
    webhook = (
      await t
        .http()
        .post('/v1/webhooks')
        .set(bearer(t.adminKey))
        .send({ url: receiver.url, events: ['*'], description: 'all link events' })
        .expect(201)
    ).body;
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
    await receiver?.close();
  });

  const admin = () => bearer(t.adminKey);
  const dispatcher = () => t.app.get(WebhookDispatcher);
  /** Every message about the link, verified, in the order the events happened. */
  const messagesAbout = (linkId: string): VerifiedWebhook[] =>
    receiver
      .verified(webhook.secret)
      .filter((message) => message.data.linkId === linkId)
      .sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  const typesAbout = (linkId: string): string[] =>
    messagesAbout(linkId).map((message) => message.type);
  const waitForTypes = (linkId: string, count: number): Promise<void> =>
    receiver.waitUntil(
      (requests) =>
        requests.filter((request) => request.body.includes(linkId) && request.answeredWith === 200)
          .length >= count,
      `${count} message(s) about link ${linkId}`,
    );
  const deliveries = async (webhookId = webhook.id) =>
    (await t.http().get(`/v1/webhooks/${webhookId}/deliveries?limit=200`).set(admin()).expect(200))
      .body.items as Record<string, unknown>[];
  /** Authorizes the link again, as an admin does after `link.reauthorization_required`. */
  async function reauthorize(linkId: string): Promise<void> {
    const started = await t.http().post(`/v1/links/${linkId}/authorize`).set(admin()).expect(201);
    const redirect = await authorizeWithPlainHttp(started.body.authorizationUrl as string);
    await t
      .http()
      .get(`${redirect.pathname}${redirect.search}`)
      .set('accept', 'application/json')
      .expect(200);
  }
  /** Lets time pass for the outbox: every pending delivery is due now. */
  async function retryPendingNow(): Promise<void> {
    await t.dataSource.query(
      `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'`,
    );
    await dispatcher().runOnce();
  }

  let revokedLinkId: string;

  it('a grant revoked at the provider produces exactly one link.reauthorization_required, signed', async () => {
    const { id } = await connectLink(t, provider);
    revokedLinkId = id;
    await waitForTypes(id, 1);
    expect(typesAbout(id)).toEqual(['link.connected']);

    await provider.revokeAllGrants();
    expect((await tokenOf(t, id).expect(409)).body.code).toBe('reauthorization_required');
    // Asking again calls no provider and changes nothing: no second announcement.
    expect((await tokenOf(t, id).expect(409)).body.code).toBe('reauthorization_required');
    await waitForTypes(id, 2);
    await dispatcher().runOnce();

    const messages = messagesAbout(id);
    expect(messages.map((message) => message.type)).toEqual([
      'link.connected',
      'link.reauthorization_required',
    ]);
    expect(messages[1].data).toEqual({
      linkId: id,
      linkName: 'Helpdesk',
      status: 'reauthorization_required',
      previousStatus: 'connected',
      reason: expect.any(String),
      actor: expect.any(String),
      action: expect.any(String),
    });
    const announced = (await deliveries()).filter(
      (delivery) => delivery.eventType === 'link.reauthorization_required',
    );
    expect(announced).toEqual([
      expect.objectContaining({ id: messages[1].id, status: 'delivered', attempts: 1, linkId: id }),
    ]);
  });

  it('authorizing the link again produces link.recovered', async () => {
    await reauthorize(revokedLinkId);
    await waitForTypes(revokedLinkId, 3);
    const recovered = messagesAbout(revokedLinkId)[2];
    expect(recovered).toMatchObject({
      type: 'link.recovered',
      data: {
        status: 'connected',
        previousStatus: 'reauthorization_required',
        actor: null,
        action: null,
      },
    });
  });

  it('a client the provider refuses produces link.error, and a new secret link.recovered', async () => {
    const { id } = await connectLink(t, provider);
    await t
      .http()
      .patch(`/v1/links/${id}`)
      .set(admin())
      .send({ clientSecret: 'wrong-secret' })
      .expect(200);
    expect((await tokenOf(t, id).expect(409)).body.code).toBe('link_error');
    await t
      .http()
      .patch(`/v1/links/${id}`)
      .set(admin())
      .send({ clientSecret: provider.clientSecret })
      .expect(200);
    await waitForTypes(id, 3);
    const messages = messagesAbout(id);
    expect(messages.map((message) => message.type)).toEqual([
      'link.connected',
      'link.error',
      'link.recovered',
    ]);
    expect(messages[1].data).toMatchObject({ status: 'error', previousStatus: 'connected' });
    expect(messages[2].data).toMatchObject({ status: 'connected', previousStatus: 'error' });
  });

  it('deleting a link produces link.deleted', async () => {
    const { id } = await createCustomLink(t, provider, { name: 'Short-lived' });
    await t.http().delete(`/v1/links/${id}`).set(admin()).expect(204);
    await waitForTypes(id, 1);
    expect(messagesAbout(id)).toEqual([
      expect.objectContaining({
        type: 'link.deleted',
        data: expect.objectContaining({
          linkName: 'Short-lived',
          status: null,
          previousStatus: 'pending_authorization',
        }),
      }),
    ]);
  });

  it('a receiver that is down for a while (503, then closed) gets every event once it is back', async () => {
    receiver.respondWith({ status: 503 });
    const { id } = await connectLink(t, provider);
    await provider.revokeAllGrants();
    await tokenOf(t, id).expect(409);
    await t.http().delete(`/v1/links/${id}`).set(admin()).expect(204);
    const aboutLink = () => receiver.requests.filter((request) => request.body.includes(id));
    await receiver.waitUntil(() => aboutLink().length >= 3, 'three refused attempts');
    await dispatcher().runOnce();
    const pending = (await deliveries()).filter((delivery) => delivery.linkId === id);
    expect(pending).toHaveLength(3);
    for (const delivery of pending)
      expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503 });

    await receiver.closePort();
    await retryPendingNow();
    for (const delivery of (await deliveries()).filter((item) => item.linkId === id))
      expect(delivery).toMatchObject({
        status: 'pending',
        attempts: 2,
        lastStatusCode: null,
        lastError: expect.stringContaining('could not be reached'),
      });

    await receiver.openPort();
    receiver.respondWith({ status: 200 });
    await retryPendingNow();
    expect(typesAbout(id)).toEqual(
      expect.arrayContaining(['link.connected', 'link.reauthorization_required', 'link.deleted']),
    );
    const finished = (await deliveries()).filter((delivery) => delivery.linkId === id);
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
    receiver.respondWith({ status: 500 });
    try {
      const queued = await t
        .http()
        .post(`/v1/webhooks/${webhook.id}/test`)
        .set(admin())
        .expect(202);
      await receiver.waitUntil((requests) =>
        requests.some((request) => request.headers['webhook-id'] === queued.body.id),
      );
      await dispatcher().runOnce();
      // The event is a day old: the next failure is the last.
      await t.dataSource.query(
        `UPDATE webhook_deliveries SET created_at = created_at - interval '24 hours' WHERE id = $1`,
        [queued.body.id],
      );
      await retryPendingNow();
      const [delivery] = (await deliveries()).filter((item) => item.id === queued.body.id);
      expect(delivery).toMatchObject({
        status: 'failed',
        attempts: 2,
        lastStatusCode: 500,
        nextAttemptAt: null,
      });
    } finally {
      receiver.respondWith({ status: 200 });
    }
  });

  it('a receiver that answers 410 Gone stops getting calls: its webhook is disabled', async () => {
    const gone = await WebhookReceiver.start();
    try {
      gone.respondWith({ status: 410 });
      const second = (
        await t
          .http()
          .post('/v1/webhooks')
          .set(admin())
          .send({ url: gone.url, events: ['link.deleted'] })
          .expect(201)
      ).body;
      const first = await createCustomLink(t, provider, { name: 'First' });
      await t.http().delete(`/v1/links/${first.id}`).set(admin()).expect(204);
      await gone.waitForRequests(1);
      await dispatcher().runOnce();

      const disabled = await t.http().get(`/v1/webhooks/${second.id}`).set(admin()).expect(200);
      expect(disabled.body).toMatchObject({
        status: 'disabled',
        disabledAt: expect.stringMatching(/Z$/),
        disabledReason: expect.stringContaining('410'),
      });
      expect(await deliveries(second.id)).toEqual([
        expect.objectContaining({ status: 'cancelled', attempts: 1, lastStatusCode: 410 }),
      ]);

      const later = await createCustomLink(t, provider, { name: 'Later' });
      await t.http().delete(`/v1/links/${later.id}`).set(admin()).expect(204);
      await waitForTypes(later.id, 1); // the other webhook still gets it
      await t.http().post(`/v1/webhooks/${second.id}/test`).set(admin()).expect(409);
      await retryPendingNow();
      expect(gone.requests).toHaveLength(1);
      expect(await deliveries(second.id)).toHaveLength(1);
    } finally {
      await gone.close();
    }
  });

  it('counts deliveries by result in outlink_webhook_deliveries_total', async () => {
    const metrics = (await t.http().get('/metrics').set(admin()).expect(200)).text;
    const count = (result: string): number =>
      Number(
        new RegExp(`^outlink_webhook_deliveries_total\\{result="${result}"\\} (\\d+)`, 'm').exec(
          metrics,
        )?.[1] ?? 0,
      );
    expect(count('delivered')).toBeGreaterThanOrEqual(10);
    expect(count('failed')).toBeGreaterThanOrEqual(7);
    expect(count('gave_up')).toBe(1);
    expect(count('disabled')).toBe(1);
  });

  it('puts no secret in any delivery, payload or log line', async () => {
    const { id } = await connectLink(t, provider);
    const accessToken = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    const everything = [
      JSON.stringify(await deliveries()),
      ...receiver.requests.map((request) => request.body),
      JSON.stringify((await t.http().get('/v1/webhooks').set(admin()).expect(200)).body),
      t.logs.text,
    ].join('\n');
    for (const secret of [
      webhook.secret,
      webhook.secret.slice('whsec_'.length),
      provider.clientSecret,
      accessToken,
    ])
      expect(everything).not.toContain(secret);
    // No header the receiver got names the secret either (only its HMAC).
    expect(JSON.stringify(receiver.requests.map((request) => request.headers))).not.toContain(
      webhook.secret.slice('whsec_'.length),
    );
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
