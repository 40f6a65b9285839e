import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { ChangeNotifications } from '../database/change-notifications.js';
import { LINK_NEXT_CLIENT_SECRET } from '../database/encrypted-columns.js';
import { LinkCredentialColumns } from './link-credential-columns.js';
import { LinkEntity } from './link.entity.js';
import { LinkEventsService } from './link-events.service.js';
import { LinkErrors } from './links.errors.js';

/** Overlapping client secrets (SPEC §13): the next secret becomes the current one. */
@Injectable()
export class LinkClientSecrets {
  constructor(
    @InjectRepository(LinkEntity) private readonly links: Repository<LinkEntity>,
    private readonly keyRing: KeyRing,
    private readonly credentials: LinkCredentialColumns,
    private readonly events: LinkEventsService,
    private readonly notifications: ChangeNotifications,
  ) {}

  /**
   * Makes the next client secret the current one (SPEC §13), with its expiry, and records
   * `client_secret_promoted`. A link in `error` that still holds a refresh token is `connected`
   * again, as with a new clientSecret. With `expectedEnvelope` (automatic promotion after the
   * provider accepted that secret) nothing happens when the next secret changed meanwhile.
   * @returns false when there was nothing (or something else) to promote
   * @throws not_found for an unknown link
   */
  async promote(
    id: string,
    actor: string,
    trigger: 'manual' | 'invalid_client',
    expectedEnvelope?: string,
  ): Promise<boolean> {
    return this.links.manager.transaction(async (manager) => {
      const [locked]: {
        status: LinkEntity['status'];
        refresh_token_present: boolean;
        next_client_secret_encrypted: string | null;
        next_client_secret_expires_at: Date | null;
      }[] = await manager.query(
        `SELECT status, refresh_token_present, next_client_secret_encrypted, next_client_secret_expires_at
           FROM links WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
        [id],
      );
      if (!locked) throw LinkErrors.notFound();
      const envelope = locked.next_client_secret_encrypted;
      if (envelope === null) return false;
      if (expectedEnvelope !== undefined && envelope !== expectedEnvelope) return false;
      // Envelopes are bound to their column: decrypt as the next secret, encrypt as the current one.
      const secret = this.keyRing.decrypt(envelope, encryptionContext(LINK_NEXT_CLIENT_SECRET, id));
      const recovers = locked.status === 'error' && locked.refresh_token_present;
      const changes: Partial<LinkEntity> = {
        ...this.credentials.clientSecret(id, secret),
        clientSecretExpiresAt: locked.next_client_secret_expires_at,
        ...this.credentials.nextClientSecret(id, null, null),
      };
      if (recovers)
        Object.assign(changes, {
          status: 'connected',
          lastError: null,
          refreshNotBefore: null,
          refreshFailures: 0,
        });
      await manager.update(LinkEntity, { id }, changes);
      await this.events.record(id, 'client_secret_promoted', actor, { trigger }, manager);
      if (recovers)
        await this.events.record(
          id,
          'status_changed',
          actor,
          { from: locked.status, to: 'connected', reason: 'next client secret promoted' },
          manager,
        );
      await this.notifications.publish({ kind: 'link', id }, manager);
      return true;
    });
  }
}
