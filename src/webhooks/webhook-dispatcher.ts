import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config.js';
import { DecryptionError } from '../crypto/key-ring.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { nextDeliveryAttempt } from './webhook-backoff.js';
import { WebhookDeliveryStore, type ClaimedDelivery } from './webhook-delivery-store.js';
import { WebhookOutbox } from './webhook-outbox.js';
import { WebhookSender, type AttemptOutcome } from './webhook-sender.js';

const INTERVAL_NAME = 'webhook-delivery';
/** Deliveries one replica sends at once; a batch is claimed only as large as that. */
export const DELIVERY_CONCURRENCY = 8;

export type DeliveryResult = 'delivered' | 'failed' | 'gave_up' | 'disabled';

/**
 * Delivers the outbox (SPEC §13) on every replica, no leader: every WEBHOOK_POLL_INTERVAL_SECONDS,
 * and at once when a transaction of this replica has added rows. Each pass claims due deliveries
 * in batches until none is due; the store's lease keeps two replicas off the same row.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  /** This replica's lease holder id. */
  readonly holder = randomUUID();
  private readonly results: Counter<'result'>;
  private running: Promise<void> | undefined;
  private runAgain = false;
  private stopping = false;

  constructor(
    private readonly store: WebhookDeliveryStore,
    private readonly sender: WebhookSender,
    private readonly outbox: WebhookOutbox,
    private readonly scheduler: SchedulerRegistry,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.results = new Counter({
      name: 'outlink_webhook_deliveries_total',
      help: 'Webhook delivery attempts by result (delivered, failed: will retry, gave_up: after 24 h, disabled: 410 Gone)',
      labelNames: ['result'] as const,
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.outbox.onWake(() => void this.runOnce());
    // Registered here rather than with @Interval because the period comes from the config.
    const timer = setInterval(
      () => void this.runOnce(),
      this.config.webhookPollIntervalSeconds * 1000,
    );
    this.scheduler.addInterval(INTERVAL_NAME, timer);
    // Deliveries left due by a previous run (or by another replica that stopped) go out now.
    void this.runOnce();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.scheduler.doesExist('interval', INTERVAL_NAME))
      this.scheduler.deleteInterval(INTERVAL_NAME);
    // Attempts in flight end within their 10 s timeout; their results are recorded.
    await this.running;
  }

  /**
   * Delivers everything due. A call while a pass runs joins it and makes it look once more when
   * it ends, so rows committed during a pass are not left for the next poll.
   */
  runOnce(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.running) {
      this.runAgain = true;
      return this.running;
    }
    this.running = this.passes()
      .catch((error: unknown) => this.logger.error({ err: error }, 'Webhook delivery pass failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async passes(): Promise<void> {
    do {
      this.runAgain = false;
      for (;;) {
        if (this.stopping) return;
        const claimed = await this.store.claimDue(this.holder, DELIVERY_CONCURRENCY);
        if (claimed.length === 0) break;
        await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
      }
    } while (this.runAgain);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const outcome = await this.send(delivery);
    let result: DeliveryResult;
    switch (outcome.kind) {
      case 'delivered':
        await this.store.recordDelivered(delivery.id, this.holder, {
          statusCode: outcome.statusCode,
          error: null,
        });
        result = 'delivered';
        break;
      case 'gone':
        if (
          await this.store.disableWebhook(delivery, { statusCode: outcome.statusCode, error: null })
        )
          this.logger.warn(
            `Webhook ${delivery.webhookId} answered 410 Gone: disabled, nothing more is sent to it`,
          );
        result = 'disabled';
        break;
      case 'failed': {
        const attempt = { statusCode: outcome.statusCode, error: outcome.error };
        const next = nextDeliveryAttempt(
          delivery.attempts,
          delivery.createdAt,
          new Date(),
          outcome.retryAfterSeconds,
        );
        if (next === null) {
          await this.store.recordGaveUp(delivery.id, this.holder, attempt);
          this.logger.warn(
            `Gave up webhook delivery ${delivery.id} (${delivery.eventType}) to webhook ${delivery.webhookId} after ${delivery.attempts} attempts in 24 h: ${outcome.error}`,
          );
          result = 'gave_up';
        } else {
          await this.store.recordRetry(delivery.id, this.holder, attempt, next);
          result = 'failed';
        }
        break;
      }
    }
    this.results.inc({ result });
  }

  private async send(delivery: ClaimedDelivery): Promise<AttemptOutcome> {
    let secret: string;
    try {
      secret = this.store.secretOf(delivery);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      return {
        kind: 'failed',
        statusCode: null,
        error:
          "The webhook's secret cannot be decrypted with ENCRYPTION_KEYS (was its key removed?).",
        retryAfterSeconds: null,
      };
    }
    return this.sender.send({ ...delivery, secret });
  }
}
