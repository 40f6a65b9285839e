import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { KeyRing } from '../crypto/key-ring.js';
import { LinkEntity } from '../links/link.entity.js';
import type { TokenState } from './token-state.js';
import { TOKEN_COLUMNS, tokenStateOf, type TokenRow } from './token-row.js';

/** A link whose refresh lease this replica holds, with what the provider call needs. */
export interface ClaimedLink {
  link: LinkEntity;
  /** The token state as claimed, decrypted once. */
  state: TokenState;
  /** The refresh token envelope as read under the lease: the compare-and-set guard of the write. */
  refreshTokenEnvelope: string | null;
}

/**
 * Reads of a link's token state and its refresh lease (SPEC §7). Every statement is short: nothing
 * here waits on a provider while holding a connection. TokenWriter stores what providers answer.
 */
@Injectable()
export class TokenStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
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
   * Takes the link's refresh lease if nobody holds it (SPEC §7 design rule). Throws nothing for a
   * missing link or a held lease: `exists` tells them apart.
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
    // A materialized CTE: as `WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`,
    // PostgreSQL may run the subquery again per row and claim every due link, whatever the limit.
    const [rows]: [Record<string, unknown>[], number] = await this.dataSource.query(
      `WITH due AS MATERIALIZED (
         SELECT id FROM links
          WHERE deleted_at IS NULL AND status = 'connected'
            AND (refresh_token_present OR grant_type IN ('client_credentials', 'jwt_bearer'))
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
          FOR UPDATE SKIP LOCKED)
       UPDATE links SET refresh_lease_until = now() + make_interval(secs => $1), refresh_lease_holder = $2
         FROM due WHERE links.id = due.id
       RETURNING links.*`,
      [leaseSeconds, holder, leadSeconds, limit, this.config.assumedTokenLifetimeSeconds],
    );
    return this.toClaims(rows);
  }

  /** Gives the lease back without changing anything else (e.g. nothing was due after all). */
  async release(linkId: string, holder: string): Promise<void> {
    await this.dataSource.query(
      'UPDATE links SET refresh_lease_until = NULL, refresh_lease_holder = NULL WHERE id = $1 AND refresh_lease_holder = $2',
      [linkId, holder],
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
    return this.toClaims(rows);
  }

  /** Claimed rows (every column, secrets included) as links with their decrypted token state. */
  private toClaims(rows: Record<string, unknown>[]): ClaimedLink[] {
    const repository = this.dataSource.getRepository(LinkEntity);
    return rows.map((row) => {
      const link = repository.create(
        repository.metadata.columns.reduce<Partial<LinkEntity>>((entity, column) => {
          (entity as Record<string, unknown>)[column.propertyName] = row[column.databaseName];
          return entity;
        }, {}),
      );
      return {
        link,
        state: this.toState(row as unknown as TokenRow),
        refreshTokenEnvelope: link.refreshTokenEncrypted,
      };
    });
  }

  private toState(row: TokenRow): TokenState {
    return tokenStateOf(row, this.keyRing, this.config.assumedTokenLifetimeSeconds);
  }
}
