import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';

const INTERVAL_NAME = 'link-event-retention';
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Small deletes keep each transaction (and the locks it takes) short on a large table. */
const BATCH_SIZE = 5_000;

/**
 * Purges link events older than EVENT_RETENTION_DAYS (SPEC §11), hourly on every replica: the
 * deletes are idempotent, so replicas need no coordination, and a batch another replica deleted
 * first simply finds nothing.
 */
@Injectable()
export class LinkEventRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LinkEventRetention.name);
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

  /** Deletes every expired event; resolves with how many. A pass still running is joined. */
  purgeExpired(): Promise<number> {
    this.running ??= this.deleteInBatches()
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'Purging old link events failed; retrying next hour');
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
        `DELETE FROM link_events WHERE id IN (
           SELECT id FROM link_events WHERE at < now() - make_interval(days => $1) LIMIT $2)`,
        [this.config.eventRetentionDays, BATCH_SIZE],
      );
      deleted += count;
      if (count < BATCH_SIZE) break;
    }
    if (deleted > 0)
      this.logger.log(
        `Purged ${deleted} link event(s) older than ${this.config.eventRetentionDays} days`,
      );
    return deleted;
  }
}
