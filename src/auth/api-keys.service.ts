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
import type { ApiKeyPrincipal } from './api-key-principal.js';
import { apiKeyHint, generateApiKey, hashApiKey, hashesEqual } from './api-key-secret.js';
import type { CreateApiKeyDto } from './api-key.dto.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { ApiKeyErrors } from './auth.errors.js';

const BOOTSTRAP_KEY_NAME = 'bootstrap admin (ADMIN_API_KEY)';
export const USAGE_FLUSH_INTERVAL_MS = 2_000;

@Injectable()
export class ApiKeysService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeysService.name);
  /** lastUsedAt is batched (SPEC §10) so that authenticating costs no write per request. */
  private pendingUsage = new Map<string, Date>();

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly apiKeys: Repository<ApiKeyEntity>,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.adminApiKey !== undefined)
      await this.installEnvironmentKey(this.config.adminApiKey);
  }

  async onApplicationShutdown(): Promise<void> {
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
        .execute();
      if (removed.affected) this.logger.log('The previous ADMIN_API_KEY no longer works');
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
    if (input.role === 'admin' && input.linkIds != null) throw ApiKeyErrors.linkIdsForAdmin();
    const key = generateApiKey();
    const entity = this.apiKeys.create({
      id: randomUUID(),
      name: input.name,
      role: input.role,
      linkIds: input.role === 'admin' ? null : (input.linkIds ?? null),
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

  async delete(id: string): Promise<void> {
    const entity = await this.apiKeys.findOneBy({ id });
    if (!entity) throw ApiKeyErrors.notFound();
    if (entity.fromEnvironment) throw ApiKeyErrors.environmentKeyIsPermanent();
    await this.apiKeys.delete({ id });
    this.pendingUsage.delete(id);
  }

  /** The principal for a presented key, or undefined when no such key exists. */
  async authenticate(presentedKey: string): Promise<ApiKeyPrincipal | undefined> {
    const presentedHash = hashApiKey(presentedKey);
    const entity = await this.apiKeys.findOne({
      where: { keyHash: presentedHash },
      select: { id: true, role: true, linkIds: true, keyHash: true },
    });
    // The index lookup finds the row; the final check is constant-time all the same (SPEC §8).
    if (!entity || !hashesEqual(entity.keyHash, presentedHash)) return undefined;
    this.pendingUsage.set(entity.id, new Date());
    return { id: entity.id, role: entity.role, linkIds: entity.linkIds };
  }

  @Interval('flush-api-key-usage', USAGE_FLUSH_INTERVAL_MS)
  async flushUsage(): Promise<void> {
    if (this.pendingUsage.size === 0) return;
    const batch = this.pendingUsage;
    this.pendingUsage = new Map();
    await this.apiKeys.query(
      `UPDATE api_keys SET last_used_at = usage.used_at
         FROM unnest($1::uuid[], $2::timestamptz[]) AS usage(id, used_at)
        WHERE api_keys.id = usage.id
          AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < usage.used_at)`,
      [[...batch.keys()], [...batch.values()].map((usedAt) => usedAt.toISOString())],
    );
  }
}
