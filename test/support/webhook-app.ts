import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { startTestProvider, type TestProvider } from './oidc-provider.js';
import { bearer, startTestApp, type TestApp } from './test-app.js';
import { WebhookReceiver, type VerifiedWebhook } from './webhook-receiver.js';

/** A test app with a real provider, a receiver on loopback and a webhook to it for every event. */
export interface WebhookApp {
  t: TestApp;
  provider: TestProvider;
  receiver: WebhookReceiver;
  /** The `events: ["*"]` webhook to `receiver`, with its secret. */
  webhook: { id: string; secret: string };
  /** Every message the receiver got about the link, verified, in the order events happened. */
  messagesAbout(linkId: string): VerifiedWebhook[];
  /** Resolves once the receiver has accepted (200) `count` messages about the link. */
  waitForMessagesAbout(linkId: string, count: number): Promise<void>;
  /** GET /v1/webhooks/{id}/deliveries (the main webhook's by default), up to 200. */
  deliveries(webhookId?: string): Promise<Record<string, unknown>[]>;
  /** Runs the dispatcher (a pass in progress is joined and looks once more): all due is handled. */
  settle(): Promise<void>;
  /** Lets time pass for the outbox: every pending delivery falls due and is attempted. */
  retryPendingNow(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookApp(env: Record<string, string> = {}): Promise<WebhookApp> {
  const t = await startTestApp({
    env: {
      ALLOW_INSECURE_ENDPOINTS: 'true',
      PUBLIC_BASE_URL: 'http://127.0.0.1:39981',
      REFRESH_CHECK_INTERVAL_SECONDS: '3600',
      MIN_REFRESH_INTERVAL_SECONDS: '0',
      // Deliveries go out because their commit woke the dispatcher, or because a test calls it.
      WEBHOOK_POLL_INTERVAL_SECONDS: '3600',
      ...env,
    },
  });
  const provider = await startTestProvider({ redirectUri: t.config.redirectUrl });
  const receiver = await WebhookReceiver.start();
  const admin = bearer(t.adminKey);
  const webhook = (
    await t
      .http()
      .post('/v1/webhooks')
      .set(admin)
      .send({ url: receiver.url, events: ['*'], description: 'all link events' })
      .expect(201)
  ).body as { id: string; secret: string };
  const dispatcher = t.app.get(WebhookDispatcher);

  return {
    t,
    provider,
    receiver,
    webhook,
    messagesAbout: (linkId) =>
      receiver
        .verified(webhook.secret)
        .filter((message) => message.data.linkId === linkId)
        .sort((a, b) => a.timestamp.localeCompare(b.timestamp)),
    waitForMessagesAbout: (linkId, count) =>
      receiver.waitUntil(
        (requests) =>
          requests.filter(
            (request) => request.body.includes(linkId) && request.answeredWith === 200,
          ).length >= count,
        `${count} message(s) about link ${linkId}`,
      ),
    deliveries: async (webhookId = webhook.id) =>
      (await t.http().get(`/v1/webhooks/${webhookId}/deliveries?limit=200`).set(admin).expect(200))
        .body.items as Record<string, unknown>[],
    settle: () => dispatcher.runOnce(),
    retryPendingNow: async () => {
      await t.dataSource.query(
        `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'`,
      );
      await dispatcher.runOnce();
    },
    close: async () => {
      await t.close();
      await provider.close();
      await receiver.close();
    },
  };
}
