import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { ChangeNotifications } from '../database/change-notifications.js';
import { ApiKeyCache } from './api-key-cache.js';
import type { ApiKeyPrincipal } from './api-key-principal.js';
import { apiKeyHint, generateApiKey, hashApiKey, hashesEqual } from './api-key-secret.js';
import type { CreateApiKeyDto } from './api-key.dto.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { ApiKeyErrors } from './auth.errors.js';
import { linkGrantErrors } from './link-grant.js';
import { AppError } from '../common/app-error.js';

const BOOTSTRAP_KEY_NAME = 'bootstrap admin (ADMIN_API_KEY)';
export const USAGE_FLUSH_INTERVAL_MS = 2_000;

@Injectable()
export class ApiKeysService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeysService.name);
  /**
   * lastUsedAt is batched (SPEC §10) so that authenticating costs no write per request:
   * key id -> when it was last used (epoch ms), written to last_used_at by flushUsage.
   */
  private pendingUsage = new Map<string, number>();
  private readonly cache: ApiKeyCache;

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly apiKeys: Repository<ApiKeyEntity>,
    private readonly config: AppConfig,
    private readonly changes: ChangeNotifications,
  ) {
    this.cache = new ApiKeyCache(changes);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.adminApiKey !== undefined)
      await this.installEnvironmentKey(this.config.adminApiKey);
  }

  async onApplicationShutdown(): Promise<void> {
    this.cache.close();
    await this.flushUsage().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'Could not record API key usage at shutdown'),
    );
  }

  /**
   * Makes the environment key mirror ADMIN_API_KEY: a changed value replaces the old key and an
   * unset one (possible only in production with DATABASE_URL) removes it, so changing the
   * variable always revokes the previous value. Idempotent across replicas.
   */
  private async installEnvironmentKey(key: string | undefined): Promise<void> {
    const keyHash = key === undefined ? undefined : hashApiKey(key);
    await this.apiKeys.manager.transaction(async (manager) => {
      const removed = await manager
        .createQueryBuilder()
        .delete()
        .from(ApiKeyEntity)
        .where('from_environment AND key_hash IS DISTINCT FROM :keyHash', {
          keyHash: keyHash ?? null,
        })
        .returning('id')
        .execute();
      const removedIds = (removed.raw as { id: string }[]).map((row) => row.id);
      // Replicas still running with the old value may have it cached.
      for (const id of removedIds) await this.changes.publish({ kind: 'api_key', id }, manager);
      if (removedIds.length > 0) this.logger.log('The previous ADMIN_API_KEY no longer works');
      if (key === undefined || keyHash === undefined) return;
      await manager
        .createQueryBuilder()
        .insert()
        .into(ApiKeyEntity)
        .values({
          id: randomUUID(),
          name: BOOTSTRAP_KEY_NAME,
          role: 'admin',
          linkIds: null,
          keyHash,
          keyHint: apiKeyHint(key),
          fromEnvironment: true,
        })
        .orIgnore()
        .execute();
    });
  }

  async create(input: CreateApiKeyDto): Promise<{ entity: ApiKeyEntity; key: string }> {
    const grantErrors = linkGrantErrors(input);
    if (grantErrors.length > 0) throw AppError.validation(grantErrors);
    const key = generateApiKey();
    const entity = this.apiKeys.create({
      id: randomUUID(),
      name: input.name,
      role: input.role,
      // NULL is "every link": admin keys, and consumer keys created with allLinks: true.
      linkIds: input.role === 'admin' || input.allLinks === true ? null : (input.linkIds ?? null),
      keyHash: hashApiKey(key),
      keyHint: apiKeyHint(key),
      fromEnvironment: false,
      lastUsedAt: null,
    });
    await this.apiKeys.insert(entity);
    return { entity: await this.apiKeys.findOneByOrFail({ id: entity.id }), key };
  }

  list(): Promise<ApiKeyEntity[]> {
    return this.apiKeys.find({ order: { createdAt: 'DESC', id: 'ASC' } });
  }

  /** SPEC §3: once this returns, every replica refuses the key within 1 second. */
  async delete(id: string): Promise<void> {
    await this.apiKeys.manager.transaction(async (manager) => {
      const entity = await manager.findOne(ApiKeyEntity, {
        where: { id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!entity) throw ApiKeyErrors.notFound();
      if (entity.fromEnvironment) throw ApiKeyErrors.environmentKeyIsPermanent();
      await manager.delete(ApiKeyEntity, { id });
      // Other replicas hear of it on commit, and drop their cached copy of the key.
      await this.changes.publish({ kind: 'api_key', id }, manager);
    });
    this.pendingUsage.delete(id);
  }

  /**
   * The principal for a presented key (given as its hash: presentedKeyHash), or undefined when
   * no such key exists. A cached key is answered at once, not through a promise: this runs on
   * every request of the hot path (SPEC §7), where each promise costs (issue 10); only a cache
   * miss waits for the database.
   */
  authenticate(presentedHash: string): ApiKeyPrincipal | Promise<ApiKeyPrincipal | undefined> {
    // A Map lookup is not constant-time, but it compares hashes, which tell an attacker nothing
    // about any key.
    const cached = this.cache.get(presentedHash);
    if (cached !== undefined) {
      this.pendingUsage.set(cached.id, Date.now());
      return cached;
    }
    return this.authenticateFromDatabase(presentedHash);
  }

  private async authenticateFromDatabase(
    presentedHash: string,
  ): Promise<ApiKeyPrincipal | undefined> {
    const fill = this.cache.startFill();
    const entity = await this.apiKeys.findOne({
      where: { keyHash: presentedHash },
      select: { id: true, role: true, linkIds: true, keyHash: true },
    });
    // The index lookup finds the row; the final check is constant-time all the same (SPEC §8).
    if (!entity || !hashesEqual(entity.keyHash, presentedHash)) return undefined;
    const principal: ApiKeyPrincipal = {
      id: entity.id,
      role: entity.role,
      linkIds: entity.linkIds,
    };
    this.cache.set(presentedHash, principal, fill);
    this.pendingUsage.set(entity.id, Date.now());
    return principal;
  }

  @Interval('flush-api-key-usage', USAGE_FLUSH_INTERVAL_MS)
  async flushUsage(): Promise<void> {
    if (this.pendingUsage.size === 0) return;
    const batch = this.pendingUsage;
    this.pendingUsage = new Map();
    try {
      await this.apiKeys.query(
        `UPDATE api_keys SET last_used_at = usage.used_at
           FROM unnest($1::uuid[], $2::timestamptz[]) AS usage(id, used_at)
          WHERE api_keys.id = usage.id
            AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < usage.used_at)`,
        [[...batch.keys()], [...batch.values()].map((usedAt) => new Date(usedAt).toISOString())],
      );
    } catch (error) {
      // Keep the batch for the next flush (e.g. the database is restarting); newer uses win.
      for (const [id, usedAt] of batch)
        if (!this.pendingUsage.has(id)) this.pendingUsage.set(id, usedAt);
      throw error;
    }
  }
}
