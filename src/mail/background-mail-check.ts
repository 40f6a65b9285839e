import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ScheduledPass } from '../common/scheduled-pass.js';
import { AppConfig } from '../config/app-config.js';
import { SYSTEM_ACTOR } from '../links/link-events.service.js';
import { MailCheckService } from './mail-check.service.js';
import { MailCheckStore } from './mail-check-store.js';

/** Links one replica checks at once; each check holds a few sockets for up to 15 s. */
const BATCH_SIZE = 4;

/**
 * MAIL_CHECK_INTERVAL_SECONDS (0 = off): every replica claims due links (SKIP LOCKED, the due
 * time pushed forward as it claims) and checks them, so replicas split the work.
 */
@Injectable()
export class BackgroundMailCheck implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BackgroundMailCheck.name);
  private readonly pass: ScheduledPass;

  constructor(
    scheduler: SchedulerRegistry,
    private readonly mailCheck: MailCheckService,
    private readonly store: MailCheckStore,
    private readonly config: AppConfig,
  ) {
    this.pass = new ScheduledPass(scheduler, {
      intervalName: 'background-mail-check',
      pass: () => this.checkDueLinks(),
      logger: this.logger,
      onFailure: { level: 'error', message: 'Background mail check failed', result: undefined },
    });
  }

  onApplicationBootstrap(): void {
    const interval = this.config.mailCheckIntervalSeconds;
    if (interval === 0) return;
    // Look ten times per interval (at most once a minute), so a due link waits little.
    this.pass.start(Math.min(60, Math.max(1, Math.floor(interval / 10))) * 1000);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass over every due link; a pass still running makes the next tick a no-op. */
  runOnce(): Promise<void> {
    return this.pass.run();
  }

  private async checkDueLinks(): Promise<void> {
    const interval = this.config.mailCheckIntervalSeconds;
    while (!this.pass.stopping && interval > 0) {
      const due = await this.store.claimDue(interval, BATCH_SIZE);
      if (due.length === 0) return;
      await Promise.all(
        due.map((linkId) =>
          this.mailCheck.check(linkId, SYSTEM_ACTOR).catch((error: unknown) =>
            // A link that cannot get a token says so on its own (status, lastError, webhooks).
            this.logger.warn(
              `Mail check of link ${linkId} failed: ${error instanceof Error ? error.message : String(error)}`,
            ),
          ),
        ),
      );
    }
  }
}
