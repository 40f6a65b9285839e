import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { ScheduledPass } from '../common/scheduled-pass.js';
import { LinkEventsService, SYSTEM_ACTOR } from './link-events.service.js';
import {
  dueNoticeDaysAhead,
  NOTICE_DAYS_AHEAD,
  watchedExpiries,
  type ForecastInput,
} from './link-forecast.js';

/** Thresholds are days apart, so a look every 10 minutes is punctual enough. */
const CHECK_INTERVAL_MS = 10 * 60 * 1000;
/** Notices of expiries this long past are forgotten; they can never be due again. */
const NOTICE_RETENTION_DAYS = 30;

interface ForecastRow {
  id: string;
  status: ForecastInput['status'];
  refresh_token_present: boolean;
  refresh_token_expires_at: Date | null;
  client_secret_expires_at: Date | null;
  has_next_client_secret: boolean;
  next_client_secret_expires_at: Date | null;
}

/**
 * Announces `expiring` events 14, 3 and 1 days before a link's refresh token or client secret
 * expires (SPEC §13); the webhook module turns them into `link.expiring`. Every replica runs it:
 * a notice is claimed by inserting its key (link, subject, expiry, threshold) in the transaction
 * that records the event, so concurrent replicas send it once (the second insert waits for the
 * first to commit, then does nothing), and a new expiry (a new secret) gets notices of its own.
 */
@Injectable()
export class LinkExpiryNotices implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LinkExpiryNotices.name);
  private readonly pass: ScheduledPass<number>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: LinkEventsService,
    scheduler: SchedulerRegistry,
  ) {
    this.pass = new ScheduledPass(scheduler, {
      intervalName: 'link-expiry-notices',
      pass: () => this.announceDue(new Date()),
      logger: this.logger,
      onFailure: {
        level: 'warn',
        message: 'Announcing expiring links failed; retrying later',
        result: 0,
      },
    });
  }

  onApplicationBootstrap(): void {
    this.pass.start(CHECK_INTERVAL_MS);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.pass.stop();
  }

  /** Sends every notice due at `now`; resolves with how many this replica sent. A pass in progress is joined. */
  runOnce(now: Date = new Date()): Promise<number> {
    return this.pass.run(() => this.announceDue(now));
  }

  private async announceDue(now: Date): Promise<number> {
    const horizon = new Date(now.getTime() + NOTICE_DAYS_AHEAD[0] * 24 * 60 * 60 * 1000);
    const rows: ForecastRow[] = await this.dataSource.query(
      `SELECT id, status, refresh_token_present, refresh_token_expires_at, client_secret_expires_at,
              has_next_client_secret, next_client_secret_expires_at
         FROM links
        WHERE deleted_at IS NULL
          AND ((refresh_token_expires_at > $1 AND refresh_token_expires_at <= $2)
            OR (client_secret_expires_at > $1 AND client_secret_expires_at <= $2)
            OR (next_client_secret_expires_at > $1 AND next_client_secret_expires_at <= $2))`,
      [now, horizon],
    );
    let sent = 0;
    for (const row of rows) {
      const link: ForecastInput = {
        id: row.id,
        status: row.status,
        refreshTokenPresent: row.refresh_token_present,
        refreshTokenExpiresAt: row.refresh_token_expires_at,
        clientSecretExpiresAt: row.client_secret_expires_at,
        hasNextClientSecret: row.has_next_client_secret,
        nextClientSecretExpiresAt: row.next_client_secret_expires_at,
      };
      for (const expiry of watchedExpiries(link)) {
        const daysAhead = dueNoticeDaysAhead(expiry.expiresAt, now);
        if (daysAhead === null) continue;
        const claimed = await this.dataSource.transaction(async (manager) => {
          const inserted: unknown[] = await manager.query(
            `INSERT INTO link_expiry_notices (link_id, subject, expires_at, days_ahead)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING link_id`,
            [link.id, expiry.subject, expiry.expiresAt, daysAhead],
          );
          if (inserted.length === 0) return false;
          await this.events.record(
            link.id,
            'expiring',
            SYSTEM_ACTOR,
            {
              subject: expiry.subject,
              reason: expiry.reason,
              expiresAt: expiry.expiresAt.toISOString(),
              daysAhead,
              actor: expiry.actor,
              action: expiry.action,
            },
            manager,
          );
          return true;
        });
        if (claimed) sent++;
      }
    }
    await this.dataSource.query(
      `DELETE FROM link_expiry_notices WHERE expires_at < $1::timestamptz - make_interval(days => $2)`,
      [now, NOTICE_RETENTION_DAYS],
    );
    if (sent > 0) this.logger.log(`Announced ${sent} expiring link notice(s)`);
    return sent;
  }
}
