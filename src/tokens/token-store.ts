import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { JsonObject } from '../common/json.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { ChangeNotifications } from '../database/change-notifications.js';
import { LINK_ACCESS_TOKEN, LINK_REFRESH_TOKEN } from '../database/encrypted-columns.js';
import { LinkEventsService, SYSTEM_ACTOR } from '../links/link-events.service.js';
import { LinkEntity, type LinkLastError, type LinkStatus } from '../links/link.entity.js';
import type { TokenSet } from '../oauth/oauth-client.js';
import { AppConfig } from '../config/app-config.js';
import { renewByOf, type TokenState } from './token-state.js';

/** A link whose refresh lease this replica holds, with what the provider call needs. */
export interface ClaimedLink {
  link: LinkEntity;
  /** The refresh token envelope as read under the lease: the compare-and-set guard of the write. */
  refreshTokenEnvelope: string | null;
}

/** The raw columns the token path reads; one query, no ORM hydration on the hot path. */
interface TokenRow {
  id: string;
  status: LinkStatus;
  grant_type: TokenState['grantType'];
  access_token_encrypted: string | null;
  token_type: string | null;
  access_token_expires_at: Date | null;
  last_refreshed_at: Date | null;
  granted_scopes: string[] | null;
  scopes: string[];
  refresh_token_present: boolean;
  refresh_not_before: Date | null;
  last_error: LinkLastError | null;
}

const TOKEN_COLUMNS = `id, status, grant_type, access_token_encrypted, token_type, access_token_expires_at,
  last_refreshed_at, granted_scopes, scopes, refresh_token_present, refresh_not_before, last_error`;

/**
 * Every read and write of a link's token state (SPEC §7). Writes are single statements or short
 * transactions: nothing here ever waits on a provider while holding a connection.
 */
@Injectable()
export class TokenStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
    private readonly events: LinkEventsService,
    private readonly notifications: ChangeNotifications,
    private readonly config: AppConfig,
  ) {}

  /** The link's token state, or undefined for an unknown or deleted link. */
  async load(linkId: string): Promise<TokenState | undefined> {
    const rows: TokenRow[] = await this.dataSource.query(
      `SELECT ${TOKEN_COLUMNS} FROM links WHERE id = $1 AND deleted_at IS NULL`,
      [linkId],
    );
    return rows[0] && this.toState(rows[0]);
  }

  /**
   * Takes the link's refresh lease if nobody holds it (SPEC §7 design rule). Returns undefined
   * when another refresher holds it, and throws nothing for a missing link: `exists` says so.
   */
  async claim(
    linkId: string,
    holder: string,
    leaseSeconds: number,
  ): Promise<ClaimedLink | { exists: boolean }> {
    const claimed = await this.claimWhere('id = $3', [linkId], holder, leaseSeconds);
    if (claimed[0]) return claimed[0];
    const rows: unknown[] = await this.dataSource.query(
      'SELECT 1 FROM links WHERE id = $1 AND deleted_at IS NULL',
      [linkId],
    );
    return { exists: rows.length > 0 };
  }

  /**
   * Claims up to `limit` links due for a background refresh, skipping rows other replicas are
   * claiming right now (SKIP LOCKED) or hold a lease on. Due: connected, renewable, and expiring
   * within the lead (or within half its lifetime, for tokens shorter than the lead; the assumed
   * lifetime for tokens without an expiry), or with a refresh token unused for 7 days (providers
   * expire idle refresh tokens).
   */
  async claimDue(
    holder: string,
    leaseSeconds: number,
    leadSeconds: number,
    limit: number,
  ): Promise<ClaimedLink[]> {
    return this.claimWhere(
      `id IN (
        SELECT id FROM links
         WHERE deleted_at IS NULL AND status = 'connected'
           AND (refresh_token_present OR grant_type = 'client_credentials')
           AND (refresh_lease_until IS NULL OR refresh_lease_until < now())
           AND (refresh_not_before IS NULL OR refresh_not_before <= now())
           AND (
             (access_token_expires_at IS NOT NULL AND access_token_expires_at < now() + LEAST(
               make_interval(secs => $3),
               (access_token_expires_at - COALESCE(last_refreshed_at, created_at)) / 2))
             OR (access_token_expires_at IS NULL AND $5::integer > 0
                 AND access_token_encrypted IS NOT NULL
                 AND last_refreshed_at + make_interval(secs => $5::integer) < now() + LEAST(
                   make_interval(secs => $3), make_interval(secs => $5::integer) / 2))
             OR (refresh_token_present AND last_refreshed_at < now() - interval '7 days'))
         ORDER BY access_token_expires_at NULLS LAST
         LIMIT $4
         FOR UPDATE SKIP LOCKED)`,
      [leadSeconds, limit, this.config.assumedTokenLifetimeSeconds],
      holder,
      leaseSeconds,
    );
  }

  private async claimWhere(
    where: string,
    parameters: unknown[],
    holder: string,
    leaseSeconds: number,
  ): Promise<ClaimedLink[]> {
    // TypeORM answers an UPDATE with [rows, rowCount].
    const [rows]: [Record<string, unknown>[], number] = await this.dataSource.query(
      `UPDATE links SET refresh_lease_until = now() + make_interval(secs => $1), refresh_lease_holder = $2
        WHERE ${where} AND deleted_at IS NULL
          AND (refresh_lease_until IS NULL OR refresh_lease_until < now())
        RETURNING *`,
      [leaseSeconds, holder, ...parameters],
    );
    return rows.map((row) => {
      const link = this.dataSource.getRepository(LinkEntity).create(
        this.dataSource
          .getRepository(LinkEntity)
          .metadata.columns.reduce<Partial<LinkEntity>>((entity, column) => {
            (entity as Record<string, unknown>)[column.propertyName] = row[column.databaseName];
            return entity;
          }, {}),
      );
      return { link, refreshTokenEnvelope: link.refreshTokenEncrypted };
    });
  }

  /** Gives the lease back without changing anything else (e.g. nothing was due after all). */
  async release(linkId: string, holder: string): Promise<void> {
    await this.dataSource.query(
      'UPDATE links SET refresh_lease_until = NULL, refresh_lease_holder = NULL WHERE id = $1 AND refresh_lease_holder = $2',
      [linkId, holder],
    );
  }

  /**
   * Stores fresh tokens and releases the lease in one transaction, so a rotated refresh token is
   * committed before any caller sees the new access token (SPEC §7). Without a new refresh token
   * the old one stays. Should the lease have been lost (it outlives the provider timeout, so only
   * a stalled process loses it), the write still goes through as long as nobody replaced the
   * refresh token meanwhile: a rotated refresh token is never dropped.
   */
  async saveRefreshed(
    claimed: ClaimedLink,
    tokens: TokenSet,
    holder: string,
    actor: string,
    trigger: string,
  ): Promise<TokenState | undefined> {
    const { link } = claimed;
    const now = new Date();
    const expiresAt =
      tokens.expiresIn === null ? null : new Date(now.getTime() + tokens.expiresIn * 1000);
    const newRefreshToken = tokens.refreshToken
      ? this.keyRing.encrypt(tokens.refreshToken, encryptionContext(LINK_REFRESH_TOKEN, link.id))
      : null;
    const grantedScopes = tokens.scope ? tokens.scope.split(' ').filter(Boolean) : null;
    return this.dataSource.transaction(async (manager) => {
      const parameters = [
        link.id,
        this.keyRing.encrypt(tokens.accessToken, encryptionContext(LINK_ACCESS_TOKEN, link.id)),
        tokens.tokenType,
        expiresAt,
        newRefreshToken,
        grantedScopes,
      ];
      const assignments = `access_token_encrypted = $2, token_type = $3, access_token_expires_at = $4,
        refresh_token_encrypted = COALESCE($5, refresh_token_encrypted),
        refresh_token_present = COALESCE($5, refresh_token_encrypted) IS NOT NULL,
        granted_scopes = COALESCE($6::text[], granted_scopes, scopes),
        last_refreshed_at = now(), status = 'connected', last_error = NULL,
        refresh_failures = 0, refresh_not_before = NULL,
        refresh_lease_until = NULL, refresh_lease_holder = NULL, updated_at = now()`;
      let rows: [TokenRow[], number] = await manager.query(
        `UPDATE links SET ${assignments} WHERE id = $1 AND deleted_at IS NULL AND refresh_lease_holder = $7 RETURNING ${TOKEN_COLUMNS}`,
        [...parameters, holder],
      );
      if (rows[1] === 0) {
        rows = await manager.query(
          `UPDATE links SET ${assignments}
            WHERE id = $1 AND deleted_at IS NULL AND refresh_token_encrypted IS NOT DISTINCT FROM $7
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
          accessTokenExpiresAt: expiresAt?.toISOString() ?? null,
          refreshTokenRotated: newRefreshToken !== null,
        },
        manager,
      );
      if (link.status !== 'connected') {
        await this.events.record(
          link.id,
          'status_changed',
          SYSTEM_ACTOR,
          { from: link.status, to: 'connected', reason: 'token obtained' },
          manager,
        );
      }
      await this.notifications.publish({ kind: 'link', id: link.id }, manager);
      return this.toState(row);
    });
  }

  /**
   * Records a failed refresh and releases the lease: a new status (reauthorization_required,
   * error) or, for transient failures, the backoff before the next attempt. Tokens stay.
   */
  async saveFailure(
    claimed: ClaimedLink,
    holder: string,
    failure: {
      status: LinkStatus;
      lastError: LinkLastError;
      notBefore: Date | null;
      failures: number;
      detail: JsonObject;
    },
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
      if (failure.status !== link.status) {
        await this.events.record(
          link.id,
          'status_changed',
          SYSTEM_ACTOR,
          { from: link.status, to: failure.status, reason: failure.lastError.code },
          manager,
        );
      }
      await this.notifications.publish({ kind: 'link', id: link.id }, manager);
    });
  }

  /** The token state of a link loaded with its secrets (a claimed row). */
  stateOf(link: LinkEntity): TokenState {
    return this.toState({
      id: link.id,
      status: link.status,
      grant_type: link.grantType,
      access_token_encrypted: link.accessTokenEncrypted,
      token_type: link.tokenType,
      access_token_expires_at: link.accessTokenExpiresAt,
      last_refreshed_at: link.lastRefreshedAt,
      granted_scopes: link.grantedScopes,
      scopes: link.scopes,
      refresh_token_present: link.refreshTokenPresent,
      refresh_not_before: link.refreshNotBefore,
      last_error: link.lastError,
    });
  }

  private toState(row: TokenRow): TokenState {
    const expiresAt = row.access_token_expires_at ? new Date(row.access_token_expires_at) : null;
    const obtainedAt = row.last_refreshed_at ? new Date(row.last_refreshed_at) : null;
    return {
      linkId: row.id,
      status: row.status,
      grantType: row.grant_type,
      accessToken: row.access_token_encrypted
        ? this.keyRing.decrypt(
            row.access_token_encrypted,
            encryptionContext(LINK_ACCESS_TOKEN, row.id),
          )
        : null,
      tokenType: row.token_type,
      expiresAt,
      renewBy: renewByOf(expiresAt, obtainedAt, this.config.assumedTokenLifetimeSeconds),
      obtainedAt,
      scopes: row.granted_scopes ?? row.scopes,
      refreshTokenPresent: row.refresh_token_present,
      refreshNotBefore: row.refresh_not_before ? new Date(row.refresh_not_before) : null,
      lastError: row.last_error,
    };
  }
}
