import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config.js';
import { TokenRefresher } from './token-refresher.js';

const INTERVAL_NAME = 'background-refresh';

/**
 * Says when to renew tokens before anyone asks (SPEC §7): every REFRESH_CHECK_INTERVAL_SECONDS
 * each replica has the refresher claim and renew batches of due links (SKIP LOCKED plus the
 * refresh lease, so replicas split the work and never take the same link) until none is due.
 */
@Injectable()
export class BackgroundRefresh implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BackgroundRefresh.name);
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly scheduler: SchedulerRegistry,
    private readonly refresher: TokenRefresher,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Registered here rather than with @Interval because the period comes from the config.
    const timer = setInterval(
      () => void this.runOnce(),
      this.config.refreshCheckIntervalSeconds * 1000,
    );
    this.scheduler.addInterval(INTERVAL_NAME, timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.scheduler.doesExist('interval', INTERVAL_NAME))
      this.scheduler.deleteInterval(INTERVAL_NAME);
    await this.running;
  }

  /** One pass over every due link; a pass still running makes the next tick a no-op. */
  runOnce(): Promise<void> {
    this.running ??= this.refreshDueLinks()
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'Background refresh pass failed'),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async refreshDueLinks(): Promise<void> {
    let refreshed = 0;
    while (!this.stopping) {
      // Claim no more than can be refreshed at once: a claimed link waiting in a queue could
      // outlive its lease and be claimed again by another replica.
      const claimed = await this.refresher.refreshDue(
        this.config.refreshLeadSeconds,
        this.config.refreshConcurrency,
      );
      if (claimed === 0) break;
      refreshed += claimed;
    }
    if (refreshed > 0) this.logger.log(`Background refresh renewed or tried ${refreshed} link(s)`);
  }
}
