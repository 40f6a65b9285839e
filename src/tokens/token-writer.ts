import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { JsonObject } from '../common/json.js';
import { AppConfig } from '../config/app-config.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { ChangeNotifications } from '../database/change-notifications.js';
import { LINK_ACCESS_TOKEN, LINK_REFRESH_TOKEN } from '../database/encrypted-columns.js';
import { LinkEventsService, SYSTEM_ACTOR } from '../links/link-events.service.js';
import type { LinkAccount, LinkLastError, LinkStatus } from '../links/link.entity.js';
import type { TokenSet } from '../providers/provider-client.types.js';
import type { TokenState } from './token-state.js';
import { TOKEN_COLUMNS, tokenStateOf, type TokenRow } from './token-row.js';
import type { ClaimedLink } from './token-store.js';

/** What a provider issued, ready for the token columns: encrypted, expiry and scopes worked out. */
interface StorableTokens {
  accessTokenEncrypted: string;
  tokenType: string;
  expiresAt: Date | null;
  /** null: none issued (after a refresh: keep the stored one). */
  refreshTokenEncrypted: string | null;
  /** null: the provider did not say (the requested scopes stand). */
  grantedScopes: string[] | null;
  /** From `refresh_token_expires_in`; null when the provider did not say. */
  refreshTokenExpiresAt: Date | null;
}

export type GrantOutcome = 'saved' | 'link_gone' | 'link_changed';

export interface RefreshFailureRecord {
  status: LinkStatus;
  lastError: LinkLastError;
  notBefore: Date | null;
  failures: number;
  detail: JsonObject;
}

/**
 * The only code that encrypts and stores a link's tokens (SPEC §6, §7, §11): a new grant from the
 * callback, a refresh, or a failed refresh. Each write is one short transaction that also records
 * its events and tells every replica's cache.
 */
@Injectable()
export class TokenWriter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
    private readonly events: LinkEventsService,
    private readonly notifications: ChangeNotifications,
    private readonly config: AppConfig,
  ) {}

  /**
   * Stores the tokens of a completed authorization, unless the link was deleted or its
   * configuration changed (`configVersion`) after the authorization started.
   */
  async saveGranted(grant: {
    linkId: string;
    configVersion: number;
    tokens: TokenSet;
    /** Set when the grant is usable but flawed (no refresh token): what the admin should fix. */
    lastError: LinkLastError | null;
    /** Who consented (SPEC §12), null when the provider did not say. */
    account: LinkAccount | null;
    actor: string;
  }): Promise<GrantOutcome> {
    const { linkId, tokens } = grant;
    const storable = this.storable(linkId, tokens);
    return this.dataSource.transaction(async (manager) => {
      const [locked]: { status: LinkStatus; config_version: number }[] = await manager.query(
        'SELECT status, config_version FROM links WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
        [linkId],
      );
      if (!locked) return 'link_gone';
      if (locked.config_version !== grant.configVersion) return 'link_changed';
      const [[row]]: [TokenRow[], number] = await manager.query(
        `UPDATE links SET access_token_encrypted = $2, token_type = $3, access_token_expires_at = $4,
                refresh_token_encrypted = $5, refresh_token_present = $5::text IS NOT NULL,
                granted_scopes = COALESCE($6::text[], scopes), last_refreshed_at = now(),
                status = 'connected', last_error = $7, refresh_not_before = NULL,
                refresh_failures = 0, refresh_token_expires_at = $8, account = $9,
                updated_at = now()
          WHERE id = $1 RETURNING ${TOKEN_COLUMNS}`,
        [
          linkId,
          storable.accessTokenEncrypted,
          storable.tokenType,
          storable.expiresAt,
          storable.refreshTokenEncrypted,
          storable.grantedScopes,
          grant.lastError === null ? null : JSON.stringify(grant.lastError),
          storable.refreshTokenExpiresAt,
          grant.account === null ? null : JSON.stringify(grant.account),
        ],
      );
      await this.events.record(
        linkId,
        'authorized',
        grant.actor,
        {
          grantedScopes: row.granted_scopes,
          refreshTokenPresent: row.refresh_token_present,
          accessTokenExpiresAt: storable.expiresAt?.toISOString() ?? null,
        },
        manager,
      );
      await this.recordStatusChange(manager, linkId, locked.status, 'connected', 'authorized');
      await this.notifications.publish({ kind: 'link', id: linkId }, manager);
      return 'saved';
    });
  }

  /**
   * Stores refreshed tokens and releases the lease in one transaction, so a rotated refresh token
   * is committed before any caller sees the new access token (SPEC §7). Without a new refresh
   * token the old one stays. Should the lease have been lost (it outlives the provider timeout, so
   * only a stalled process or a long database outage loses it), the write still goes through as
   * long as nobody replaced the refresh token meanwhile: a rotated refresh token is never dropped.
   * @returns the new state, or undefined when the link was deleted or re-authorized meanwhile
   */
  async saveRefreshed(
    claimed: ClaimedLink,
    tokens: TokenSet,
    holder: string,
    actor: string,
    trigger: string,
  ): Promise<TokenState | undefined> {
    const { link } = claimed;
    const storable = this.storable(link.id, tokens);
    return this.dataSource.transaction(async (manager) => {
      const parameters = [
        link.id,
        storable.accessTokenEncrypted,
        storable.tokenType,
        storable.expiresAt,
        storable.refreshTokenEncrypted,
        storable.grantedScopes,
        storable.refreshTokenExpiresAt,
      ];
      const assignments = `access_token_encrypted = $2, token_type = $3, access_token_expires_at = $4,
        refresh_token_encrypted = COALESCE($5, refresh_token_encrypted),
        refresh_token_present = COALESCE($5, refresh_token_encrypted) IS NOT NULL,
        granted_scopes = COALESCE($6::text[], granted_scopes, scopes),
        refresh_token_expires_at = COALESCE($7::timestamptz,
          CASE WHEN $5::text IS NULL THEN refresh_token_expires_at END),
        last_refreshed_at = now(), status = 'connected', last_error = NULL,
        refresh_failures = 0, refresh_not_before = NULL,
        refresh_lease_until = NULL, refresh_lease_holder = NULL, updated_at = now()`;
      let rows: [TokenRow[], number] = await manager.query(
        `UPDATE links SET ${assignments} WHERE id = $1 AND deleted_at IS NULL AND refresh_lease_holder = $8 RETURNING ${TOKEN_COLUMNS}`,
        [...parameters, holder],
      );
      if (rows[1] === 0) {
        rows = await manager.query(
          `UPDATE links SET ${assignments}
            WHERE id = $1 AND deleted_at IS NULL AND refresh_token_encrypted IS NOT DISTINCT FROM $8
            RETURNING ${TOKEN_COLUMNS}`,
          [...parameters, claimed.refreshTokenEnvelope],
        );
      }
      const row = rows[0][0];
      if (!row) return undefined;
      await this.events.record(
        link.id,
        'refreshed',
        actor,
        {
          trigger,
          accessTokenExpiresAt: storable.expiresAt?.toISOString() ?? null,
          refreshTokenRotated: storable.refreshTokenEncrypted !== null,
        },
        manager,
      );
      await this.recordStatusChange(manager, link.id, link.status, 'connected', 'token obtained');
      await this.notifications.publish({ kind: 'link', id: link.id }, manager);
      return tokenStateOf(row, this.keyRing, this.config.assumedTokenLifetimeSeconds);
    });
  }

  /**
   * Records a failed refresh and releases the lease: a new status (reauthorization_required,
   * error) or, for transient failures, the backoff before the next attempt. Tokens stay.
   */
  async saveFailure(
    claimed: ClaimedLink,
    holder: string,
    failure: RefreshFailureRecord,
    actor: string,
  ): Promise<void> {
    const { link } = claimed;
    await this.dataSource.transaction(async (manager: EntityManager) => {
      await manager.query(
        `UPDATE links SET status = $2, last_error = $3, refresh_not_before = $4, refresh_failures = $5,
                refresh_lease_until = NULL, refresh_lease_holder = NULL, updated_at = now()
          WHERE id = $1 AND deleted_at IS NULL AND (refresh_lease_holder = $6 OR refresh_lease_holder IS NULL)`,
        [
          link.id,
          failure.status,
          JSON.stringify(failure.lastError),
          failure.notBefore,
          failure.failures,
          holder,
        ],
      );
      await this.events.record(link.id, 'refresh_failed', actor, failure.detail, manager);
      await this.recordStatusChange(
        manager,
        link.id,
        link.status,
        failure.status,
        failure.lastError.code,
      );
      await this.notifications.publish({ kind: 'link', id: link.id }, manager);
    });
  }

  /** SPEC §12: a consumer reported the link's current token as refused by a resource server. */
  async recordRejected(linkId: string, actor: string, detail: JsonObject): Promise<void> {
    await this.events.record(linkId, 'token_rejected', actor, detail);
  }

  /** The token columns' values: expiry from now, the granted scopes, both tokens encrypted. */
  private storable(linkId: string, tokens: TokenSet): StorableTokens {
    return {
      accessTokenEncrypted: this.keyRing.encrypt(
        tokens.accessToken,
        encryptionContext(LINK_ACCESS_TOKEN, linkId),
      ),
      tokenType: tokens.tokenType,
      expiresAt: tokens.expiresIn === null ? null : new Date(Date.now() + tokens.expiresIn * 1000),
      refreshTokenEncrypted: tokens.refreshToken
        ? this.keyRing.encrypt(tokens.refreshToken, encryptionContext(LINK_REFRESH_TOKEN, linkId))
        : null,
      grantedScopes: tokens.scope ? tokens.scope.split(' ').filter(Boolean) : null,
      refreshTokenExpiresAt:
        tokens.refreshTokenExpiresIn === null
          ? null
          : new Date(Date.now() + tokens.refreshTokenExpiresIn * 1000),
    };
  }

  private async recordStatusChange(
    manager: EntityManager,
    linkId: string,
    from: LinkStatus,
    to: LinkStatus,
    reason: string,
  ): Promise<void> {
    if (from === to) return;
    await this.events.record(linkId, 'status_changed', SYSTEM_ACTOR, { from, to, reason }, manager);
  }
}
