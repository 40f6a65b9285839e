import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { IsNull, LessThan, Repository } from 'typeorm';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { DEVICE_AUTHORIZATION_DEVICE_CODE } from '../database/encrypted-columns.js';
import { LinkEventsService } from '../links/link-events.service.js';
import { oauthSettingsFor } from '../links/link-oauth-settings.js';
import { LinksService } from '../links/links.service.js';
import { ProviderClient } from '../providers/provider-client.js';
import { ProviderCallError } from '../providers/provider-error.js';
import { DeviceAuthorizationEntity } from './device-authorization.entity.js';
import { initialPollInterval } from './device-poll-rules.js';
import { OAuthErrors } from './oauth.errors.js';

/** Finished device authorizations are kept a day for diagnosis, then purged. */
const DEVICE_AUTHORIZATION_RETENTION_MS = 24 * 60 * 60 * 1000;

/** What the admin shows the user: where to go and which code to enter there. */
export interface StartedDeviceAuthorization {
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresAt: Date;
  interval: number;
}

/**
 * Starts the device authorization flow (RFC 8628, SPEC §15) for a link: the provider hands out a
 * device code and a user code, the device code is stored encrypted, and DevicePolling asks the
 * token endpoint until the user approved, denied, or the code expired.
 */
@Injectable()
export class DeviceAuthorizationService implements OnModuleInit {
  constructor(
    @InjectRepository(DeviceAuthorizationEntity)
    private readonly authorizations: Repository<DeviceAuthorizationEntity>,
    private readonly links: LinksService,
    private readonly events: LinkEventsService,
    private readonly keyRing: KeyRing,
    private readonly oauth: ProviderClient,
  ) {}

  onModuleInit(): void {
    // A deleted link's device codes go with it (SPEC §5: nothing secret outlives the link).
    this.links.onDelete(async (linkId, manager) => {
      await manager.delete(DeviceAuthorizationEntity, { linkId });
    });
  }

  async start(linkId: string, actor: string): Promise<StartedDeviceAuthorization> {
    const link = await this.links.getWithSecrets(linkId);
    if (link.grantType !== 'authorization_code') throw OAuthErrors.notAuthorizationCode();
    const settings = oauthSettingsFor(link, this.keyRing);
    if (!settings.server.deviceAuthorizationEndpoint) throw OAuthErrors.noDeviceFlow();

    let started;
    try {
      started = await this.oauth.startDeviceAuthorization(settings, link.scopes);
    } catch (error) {
      if (!(error instanceof ProviderCallError)) throw error;
      await this.events.record(link.id, 'authorization_failed', actor, {
        method: 'device',
        error: error.oauthError ?? error.kind,
        description: error.description,
      });
      throw error.kind === 'transient'
        ? OAuthErrors.providerUnavailable(error.message)
        : OAuthErrors.deviceAuthorizationRefused(error.message);
    }

    const id = randomUUID();
    const now = new Date();
    const interval = initialPollInterval(started.interval);
    const expiresAt = new Date(now.getTime() + started.expiresIn * 1000);
    await this.authorizations.manager.transaction(async (manager) => {
      await manager.delete(DeviceAuthorizationEntity, {
        createdAt: LessThan(new Date(now.getTime() - DEVICE_AUTHORIZATION_RETENTION_MS)),
      });
      // One device authorization per link at a time: the newest is the one the admin shows.
      await manager.update(
        DeviceAuthorizationEntity,
        { linkId, finishedAt: IsNull() },
        { finishedAt: now, outcome: 'superseded', deviceCodeEncrypted: null },
      );
      await manager.insert(DeviceAuthorizationEntity, {
        id,
        linkId,
        deviceCodeEncrypted: this.keyRing.encrypt(
          started.deviceCode,
          encryptionContext(DEVICE_AUTHORIZATION_DEVICE_CODE, id),
        ),
        linkConfigVersion: link.configVersion,
        startedBy: actor,
        intervalSeconds: interval,
        nextPollAt: new Date(now.getTime() + interval * 1000),
        expiresAt,
        pollLeaseUntil: null,
        pollLeaseHolder: null,
        finishedAt: null,
        outcome: null,
      });
      await this.events.record(
        linkId,
        'authorization_started',
        actor,
        { method: 'device', expiresAt: expiresAt.toISOString(), interval },
        manager,
      );
    });
    return {
      userCode: started.userCode,
      verificationUri: started.verificationUri,
      verificationUriComplete: started.verificationUriComplete,
      expiresAt,
      interval,
    };
  }
}
