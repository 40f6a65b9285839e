import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { MetricsService } from '../metrics/metrics.service.js';
import { writeWhileDatabaseReturns } from './durable-write.js';
import type { TokenState } from './token-state.js';

/** How long pending writes may take to land at shutdown. */
const SHUTDOWN_GRACE_MS = 15_000;

/**
 * Tokens a provider issued while the database was unreachable, by link: kept in memory and written
 * as soon as it returns (SPEC §11, durable rotation). While one is pending, this replica starts no
 * other refresh of that link, which would send the refresh token the provider has just replaced.
 */
@Injectable()
export class PendingTokenWrites implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PendingTokenWrites.name);
  private readonly pending = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(private readonly metrics: MetricsService) {}

  has(linkId: string): boolean {
    return this.pending.has(linkId);
  }

  /**
   * Retries `save` until the database takes it. The refresh lease, taken before the provider call,
   * outlasts short outages; should another replica have taken it over meanwhile, the write still
   * lands as long as the stored refresh token is the one this refresh used (compare-and-set in
   * TokenWriter.saveRefreshed).
   */
  keep(linkId: string, save: () => Promise<TokenState | undefined>, trigger: string): void {
    this.logger.warn(
      `The database is unreachable: keeping the new tokens of link ${linkId} in memory until it is back`,
    );
    const written = writeWhileDatabaseReturns(save, { shouldStop: () => this.stopping })
      .then((saved) => {
        if (saved) {
          this.metrics.refreshes.inc({ trigger, result: 'success' });
          this.logger.log(`Stored the new tokens of link ${linkId} once the database was back`);
        } else {
          this.logger.warn(
            `Link ${linkId} was deleted or re-authorized before its new tokens could be stored`,
          );
        }
      })
      .catch((error: unknown) =>
        this.logger.error({ err: error }, `Could not store the new tokens of link ${linkId}`),
      )
      .finally(() => this.pending.delete(linkId));
    this.pending.set(linkId, written);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.pending.size > 0) {
      this.logger.log(`Waiting for the new tokens of ${this.pending.size} link(s) to be stored`);
      await Promise.race([Promise.all(this.pending.values()), sleep(SHUTDOWN_GRACE_MS)]);
    }
    this.stopping = true;
    for (const linkId of this.pending.keys()) {
      this.logger.error(
        `Shutting down with the new tokens of link ${linkId} unwritten (the database is unreachable): if its provider rotates refresh tokens, the link will need authorizing again`,
      );
    }
  }
}
