import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ScheduledPass } from '../common/scheduled-pass.js';
import { AppConfig } from '../config/app-config.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { DEVICE_AUTHORIZATION_DEVICE_CODE } from '../database/encrypted-columns.js';
import { LinkEventsService } from '../links/link-events.service.js';
import { oauthSettingsFor } from '../links/link-oauth-settings.js';
import { LinksService } from '../links/links.service.js';
import { ProviderClient } from '../providers/provider-client.js';
import type { TokenSet } from '../providers/provider-client.types.js';
import { ProviderCallError } from '../providers/provider-error.js';
import { TokenWriter } from '../tokens/token-writer.js';
import type { DeviceAuthorizationOutcome } from './device-authorization.entity.js';
import { nextDevicePollStep, type DevicePollAnswer } from './device-poll-rules.js';
import { grantLastError } from './granted-tokens.js';

/** Device authorizations one replica polls per pass, at once. */
const POLL_BATCH = 10;

interface ClaimedDeviceAuthorization {
  id: string;
  linkId: string;
  deviceCodeEncrypted: string;
  linkConfigVersion: number;
  startedBy: string;
  intervalSeconds: number;
  expiresAt: Date;
}

/**
 * Polls the token endpoint for started device authorizations (RFC 8628 §3.4, SPEC §15). Each pass
 * claims the due ones under a lease (SKIP LOCKED), so one replica asks for each device code, at
 * the interval the provider set; the result is stored through the TokenWriter and the
 * authorization is finished or rescheduled by the pure rules of device-poll-rules.ts.
 *
 * The clock is injectable (`now`): the schedule it writes is compared with the database's time,
 * so tests move `next_poll_at` instead of waiting.
 */
@Injectable()
export class DevicePolling implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DevicePolling.name);
  private readonly pass: ScheduledPass;
  private readonly holder = randomUUID();
  now: () => Date = () => new Date();

  constructor(
    private readonly dataSource: DataSource,
    scheduler: SchedulerRegistry,
    private readonly config: AppConfig,
    private readonly keyRing: KeyRing,
    private readonly links: LinksService,
    private readonly events: LinkEventsService,
    private readonly oauth: ProviderClient,
    private readonly tokens: TokenWriter,
  ) {
    this.pass = new ScheduledPass(scheduler, {
      intervalName: 'device-polling',
      pass: () => this.pollDue(),
      logger: this.logger,
      onFailure: { level: 'error', message: 'Device polling pass failed', result: undefined },
    });
  }

  onApplicationBootstrap(): void {
    this.pass.start(this.config.devicePollCheckSeconds * 1000);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass over every due device authorization; a pass still running makes this a no-op. */
  runOnce(): Promise<void> {
    return this.pass.run();
  }

  private async pollDue(): Promise<void> {
    while (!this.pass.stopping) {
      const claimed = await this.claimDue();
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((authorization) => this.pollOne(authorization)));
    }
  }

  /** Due, unfinished, not leased by a live replica: leased to this one for one provider call. */
  private async claimDue(): Promise<ClaimedDeviceAuthorization[]> {
    const leaseSeconds = this.config.providerTimeoutSeconds + 30;
    const [rows]: [Record<string, unknown>[], number] = await this.dataSource.query(
      `WITH due AS MATERIALIZED (
         SELECT id FROM device_authorizations
          WHERE finished_at IS NULL AND next_poll_at <= now()
            AND (poll_lease_until IS NULL OR poll_lease_until < now())
          ORDER BY next_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE device_authorizations d
          SET poll_lease_until = now() + make_interval(secs => $2), poll_lease_holder = $3,
              polls = polls + 1
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.link_id, d.device_code_encrypted, d.link_config_version, d.started_by,
                 d.interval_seconds, d.expires_at`,
      [POLL_BATCH, leaseSeconds, this.holder],
    );
    return rows.map((row) => ({
      id: row.id as string,
      linkId: row.link_id as string,
      deviceCodeEncrypted: row.device_code_encrypted as string,
      linkConfigVersion: row.link_config_version as number,
      startedBy: row.started_by as string,
      intervalSeconds: row.interval_seconds as number,
      expiresAt: new Date(row.expires_at as string | Date),
    }));
  }

  private async pollOne(claimed: ClaimedDeviceAuthorization): Promise<void> {
    try {
      if (claimed.expiresAt.getTime() <= this.now().getTime()) {
        await this.fail(claimed, 'expired', { error: 'expired_token', description: null });
        return;
      }
      const link = await this.links.getWithSecrets(claimed.linkId).catch(() => null);
      if (link === null) {
        await this.finish(claimed, 'failed');
        return;
      }
      if (link.configVersion !== claimed.linkConfigVersion) {
        await this.finish(claimed, 'link_changed');
        return;
      }
      const deviceCode = this.keyRing.decrypt(
        claimed.deviceCodeEncrypted,
        encryptionContext(DEVICE_AUTHORIZATION_DEVICE_CODE, claimed.id),
      );
      let tokens: TokenSet | null = null;
      let answer: DevicePollAnswer;
      let failure: ProviderCallError | null = null;
      try {
        tokens = await this.oauth.pollDeviceAuthorization(
          oauthSettingsFor(link, this.keyRing),
          deviceCode,
        );
        answer = { kind: 'tokens' };
      } catch (error) {
        if (!(error instanceof ProviderCallError)) throw error;
        failure = error;
        answer = {
          kind: 'error',
          oauthError: error.oauthError,
          transient: error.kind === 'transient',
          retryAfterSeconds: error.retryAfterSeconds,
        };
      }
      const step = nextDevicePollStep(answer, claimed.intervalSeconds, this.now());
      if (step.kind === 'wait') {
        await this.reschedule(claimed, step.intervalSeconds, step.nextPollAt);
      } else if (step.outcome === 'connected' && tokens !== null) {
        await this.connect(claimed, link.provider, tokens);
      } else {
        await this.fail(claimed, step.outcome, {
          error: failure?.oauthError ?? failure?.kind ?? 'unknown',
          description: failure?.description ?? null,
        });
      }
    } catch (error) {
      // The lease runs out and another pass tries again; the device code stays usable.
      this.logger.error({ err: error }, `Polling device authorization ${claimed.id} failed`);
    }
  }

  private async connect(
    claimed: ClaimedDeviceAuthorization,
    provider: string,
    tokens: TokenSet,
  ): Promise<void> {
    const { lastError } = grantLastError(provider, tokens, this.now());
    const saved = await this.tokens.saveGranted({
      linkId: claimed.linkId,
      configVersion: claimed.linkConfigVersion,
      tokens,
      lastError,
      // Account binding (SPEC §12) is not enforced for the device flow yet (README, Known gaps).
      account: tokens.identity,
      actor: claimed.startedBy,
    });
    await this.finish(
      claimed,
      saved === 'saved' ? 'connected' : saved === 'link_changed' ? 'link_changed' : 'failed',
    );
  }

  private async fail(
    claimed: ClaimedDeviceAuthorization,
    outcome: DeviceAuthorizationOutcome,
    detail: { error: string; description: string | null },
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const finished = await this.finish(claimed, outcome, manager);
      if (finished) {
        await this.events.record(
          claimed.linkId,
          'authorization_failed',
          claimed.startedBy,
          { method: 'device', ...detail },
          manager,
        );
      }
    });
  }

  /** Ends the authorization and forgets its device code; false if this replica lost the lease. */
  private async finish(
    claimed: ClaimedDeviceAuthorization,
    outcome: DeviceAuthorizationOutcome,
    manager = this.dataSource.manager,
  ): Promise<boolean> {
    const [, affected]: [unknown, number] = await manager.query(
      `UPDATE device_authorizations
          SET finished_at = now(), outcome = $2, device_code_encrypted = NULL,
              poll_lease_until = NULL, poll_lease_holder = NULL
        WHERE id = $1 AND finished_at IS NULL AND poll_lease_holder = $3`,
      [claimed.id, outcome, this.holder],
    );
    return affected > 0;
  }

  private async reschedule(
    claimed: ClaimedDeviceAuthorization,
    intervalSeconds: number,
    nextPollAt: Date,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE device_authorizations
          SET interval_seconds = $2, next_poll_at = $3, poll_lease_until = NULL,
              poll_lease_holder = NULL
        WHERE id = $1 AND finished_at IS NULL AND poll_lease_holder = $4`,
      [claimed.id, intervalSeconds, nextPollAt, this.holder],
    );
  }
}
