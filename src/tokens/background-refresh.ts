import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ScheduledPass } from '../common/scheduled-pass.js';
import { AppConfig } from '../config/app-config.js';
import { TokenRefresher } from './token-refresher.js';

/**
 * Says when to renew tokens before anyone asks (SPEC §7): every REFRESH_CHECK_INTERVAL_SECONDS
 * each replica has the refresher claim and renew batches of due links (SKIP LOCKED plus the
 * refresh lease, so replicas split the work and never take the same link) until none is due.
 */
@Injectable()
export class BackgroundRefresh implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BackgroundRefresh.name);
  private readonly pass: ScheduledPass;

  constructor(
    scheduler: SchedulerRegistry,
    private readonly refresher: TokenRefresher,
    private readonly config: AppConfig,
  ) {
    this.pass = new ScheduledPass(scheduler, {
      intervalName: 'background-refresh',
      pass: () => this.refreshDueLinks(),
      logger: this.logger,
      onFailure: { level: 'error', message: 'Background refresh pass failed', result: undefined },
    });
  }

  onApplicationBootstrap(): void {
    this.pass.start(this.config.refreshCheckIntervalSeconds * 1000);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass over every due link; a pass still running makes the next tick a no-op. */
  runOnce(): Promise<void> {
    return this.pass.run();
  }

  private async refreshDueLinks(): Promise<void> {
    let refreshed = 0;
    while (!this.pass.stopping) {
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
