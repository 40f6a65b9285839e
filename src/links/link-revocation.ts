import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { LINK_REFRESH_TOKEN } from '../database/encrypted-columns.js';
import { ProviderClient } from '../providers/provider-client.js';
import { ProviderCallError } from '../providers/provider-error.js';
import { LinkEntity } from './link.entity.js';
import { oauthSettingsFor } from './link-oauth-settings.js';

/** The outcome recorded as a `revoked` event; never carries the token. */
export type RevocationOutcome = { revoked: true } | { revoked: false; reason: string };

/** RFC 7009 revocation of a link's refresh token when it is deleted (SPEC §5), best effort. */
@Injectable()
export class LinkRevocation {
  private readonly logger = new Logger(LinkRevocation.name);

  constructor(
    @InjectRepository(LinkEntity) private readonly links: Repository<LinkEntity>,
    private readonly keyRing: KeyRing,
    private readonly oauth: ProviderClient,
  ) {}

  /** Undefined when there was nothing to revoke or nowhere to revoke it. */
  async revokeBestEffort(link: LinkEntity): Promise<RevocationOutcome | undefined> {
    if (!link.revocationEndpoint || !link.refreshTokenPresent) return undefined;
    const secrets = await this.links.findOne({
      where: { id: link.id },
      select: {
        id: true,
        clientSecretEncrypted: true,
        refreshTokenEncrypted: true,
        privateKeyEncrypted: true,
        serviceAccountKeyEncrypted: true,
      },
    });
    if (!secrets?.refreshTokenEncrypted) return undefined;
    try {
      const refreshToken = this.keyRing.decrypt(
        secrets.refreshTokenEncrypted,
        encryptionContext(LINK_REFRESH_TOKEN, link.id),
      );
      await this.oauth.revoke(
        oauthSettingsFor({ ...link, ...secrets }, this.keyRing),
        refreshToken,
        'refresh_token',
      );
      return { revoked: true };
    } catch (error) {
      const reason = error instanceof ProviderCallError ? error.message : 'unexpected error';
      this.logger.warn(`Revoking the refresh token of link ${link.id} failed: ${reason}`);
      return { revoked: false, reason };
    }
  }
}
