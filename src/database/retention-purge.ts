import {
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { DataSource } from 'typeorm';
import { ScheduledPass } from '../common/scheduled-pass.js';
import type { AppConfig } from '../config/app-config.js';

const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Small deletes keep each transaction (and the locks it takes) short on a large table. */
const BATCH_SIZE = 5_000;

/** What one table's retention purge deletes, and how it names it in the log. */
export interface RetentionTarget {
  /** The scheduler's interval name. */
  intervalName: string;
  /** e.g. "link event(s)", for the log lines. */
  rows: string;
  /**
   * A DELETE of at most `$2` rows older than `$1` days (EVENT_RETENTION_DAYS); it must return the
   * driver's `[rows, count]` pair, as `DELETE ... WHERE id IN (SELECT ... LIMIT $2)` does.
   */
  deleteBatchSql: string;
}

/**
 * Purges rows older than EVENT_RETENTION_DAYS (SPEC §11), hourly on every replica: the deletes
 * are idempotent, so replicas need no coordination, and a batch another replica deleted first
 * simply finds nothing. Each owning module subclasses it for its own table (one writer per table).
 */
export abstract class RetentionPurge implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly pass: ScheduledPass<number>;

  protected constructor(
    private readonly target: RetentionTarget,
    private readonly dataSource: DataSource,
    scheduler: SchedulerRegistry,
    private readonly config: AppConfig,
  ) {
    this.logger = new Logger(new.target.name);
    this.pass = new ScheduledPass(scheduler, {
      intervalName: target.intervalName,
      pass: () => this.deleteInBatches(),
      logger: this.logger,
      onFailure: {
        level: 'warn',
        message: `Purging old ${target.rows} failed; retrying next hour`,
        result: 0,
      },
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.eventRetentionDays === 0) return;
    this.pass.start(PURGE_INTERVAL_MS);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.pass.stop();
  }

  /** Deletes every expired row; resolves with how many. A pass still running is joined. */
  purgeExpired(): Promise<number> {
    return this.pass.run();
  }

  private async deleteInBatches(): Promise<number> {
    const days = this.config.eventRetentionDays;
    if (days === 0) return 0;
    let deleted = 0;
    for (;;) {
      const [, count]: [unknown, number] = await this.dataSource.query(this.target.deleteBatchSql, [
        days,
        BATCH_SIZE,
      ]);
      deleted += count;
      if (count < BATCH_SIZE) break;
    }
    if (deleted > 0)
      this.logger.log(`Purged ${deleted} ${this.target.rows} older than ${days} days`);
    return deleted;
  }
}
