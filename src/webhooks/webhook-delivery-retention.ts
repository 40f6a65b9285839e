import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';

const INTERVAL_NAME = 'webhook-delivery-retention';
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Small deletes keep each transaction (and the locks it takes) short on a large table. */
const BATCH_SIZE = 5_000;

/**
 * Purges the delivery log like the audit trail it mirrors: finished deliveries (delivered, given
 * up, cancelled) older than EVENT_RETENTION_DAYS, hourly on every replica (idempotent deletes
 * need no coordination). A pending delivery is never purged: it is still to be sent.
 */
@Injectable()
export class WebhookDeliveryRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryRetention.name);
  private running: Promise<number> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly scheduler: SchedulerRegistry,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.eventRetentionDays === 0) return;
    const timer = setInterval(() => void this.purgeExpired(), PURGE_INTERVAL_MS);
    this.scheduler.addInterval(INTERVAL_NAME, timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME))
      this.scheduler.deleteInterval(INTERVAL_NAME);
    await this.running;
  }

  /** Deletes every expired finished delivery; resolves with how many. A running pass is joined. */
  purgeExpired(): Promise<number> {
    this.running ??= this.deleteInBatches()
      .catch((error: unknown) => {
        this.logger.warn(
          { err: error },
          'Purging old webhook deliveries failed; retrying next hour',
        );
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async deleteInBatches(): Promise<number> {
    if (this.config.eventRetentionDays === 0) return 0;
    let deleted = 0;
    for (;;) {
      const [, count]: [unknown, number] = await this.dataSource.query(
        `DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries
            WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1)
            LIMIT $2)`,
        [this.config.eventRetentionDays, BATCH_SIZE],
      );
      deleted += count;
      if (count < BATCH_SIZE) break;
    }
    if (deleted > 0)
      this.logger.log(
        `Purged ${deleted} webhook delivery record(s) older than ${this.config.eventRetentionDays} days`,
      );
    return deleted;
  }
}
