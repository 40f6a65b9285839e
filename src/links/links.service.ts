import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { IsNull, Repository, type EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import type { JsonObject } from '../common/json.js';
import { decodeCursor, toPage } from '../common/cursor.js';
import { LINK_CLIENT_SECRET } from '../database/encrypted-columns.js';
import { ProviderDiscovery } from '../providers/provider-discovery.js';
import { ProviderCallError } from '../providers/provider-error.js';
import {
  changedFields,
  GRANT_DEFINING_FIELDS,
  resolveLinkConfiguration,
  SECRET_BOUND_FIELDS,
  type LinkConfiguration,
  type LinkConfigurationInput,
} from './link-configuration.js';
import type { CreateLinkDto, ListLinksQueryDto, UpdateLinkDto } from './link.dto.js';
import { LinkEntity } from './link.entity.js';
import { LinkEventsService } from './link-events.service.js';
import { LinkErrors } from './links.errors.js';
import { LinkRevocation } from './link-revocation.js';
import { ChangeNotifications } from '../database/change-notifications.js';
import { LINK_SECRET_COLUMNS } from './link-oauth-settings.js';
import { LinkEndpointPolicy } from './link-endpoint-policy.js';

/** Forgets what a module keeps about a link that is being deleted, inside that transaction. */
export type LinkDeletionHook = (linkId: string, manager: EntityManager) => Promise<void>;

type StoredConfiguration = Omit<LinkConfiguration, 'needsDiscovery'> & {
  discoveredMetadata: JsonObject | null;
};

/** Links CRUD (SPEC §5). Token state is written by the OAuth flow and the token refresher. */
@Injectable()
export class LinksService {
  private readonly logger = new Logger(LinksService.name);
  private readonly deletionHooks: LinkDeletionHook[] = [];

  constructor(
    @InjectRepository(LinkEntity) private readonly links: Repository<LinkEntity>,
    private readonly events: LinkEventsService,
    private readonly keyRing: KeyRing,
    private readonly config: AppConfig,
    private readonly discovery: ProviderDiscovery,
    private readonly revocation: LinkRevocation,
    private readonly notifications: ChangeNotifications,
    private readonly endpointPolicy: LinkEndpointPolicy,
  ) {}

  async create(input: CreateLinkDto, actor: string): Promise<LinkEntity> {
    const stored = await this.configure({
      ...input,
      grantType: input.grantType ?? 'authorization_code',
    });
    await this.endpointPolicy.check(stored);
    const id = randomUUID();
    const secret = input.clientSecret ?? null;
    await this.links.manager.transaction(async (manager) => {
      await manager.insert(LinkEntity, {
        id,
        name: input.name,
        ...stored,
        clientSecretEncrypted:
          secret === null
            ? null
            : this.keyRing.encrypt(secret, encryptionContext(LINK_CLIENT_SECRET, id)),
        hasClientSecret: secret !== null,
        status: 'pending_authorization',
        configVersion: 1,
        refreshTokenPresent: false,
        createdAt: new Date(),
      });
      await this.events.record(
        id,
        'created',
        actor,
        { name: input.name, provider: stored.provider, grantType: stored.grantType },
        manager,
      );
    });
    return this.get(id);
  }

  async list(
    query: ListLinksQueryDto,
  ): Promise<{ items: LinkEntity[]; nextCursor: string | null }> {
    const builder = this.links
      .createQueryBuilder('link')
      .where('link.deleted_at IS NULL')
      .orderBy('link.created_at', 'DESC')
      .addOrderBy('link.id', 'DESC')
      .take(query.limit + 1);
    if (query.status) builder.andWhere('link.status = :status', { status: query.status });
    if (query.provider) builder.andWhere('link.provider = :provider', { provider: query.provider });
    if (query.cursor !== undefined) {
      const position = decodeCursor(query.cursor);
      builder.andWhere('(link.created_at, link.id) < (:at, :id)', {
        at: position.at,
        id: position.id,
      });
    }
    return toPage(await builder.getMany(), query.limit, (link) => link.createdAt);
  }

  /** @throws not_found for an unknown or deleted link */
  async get(id: string, manager: EntityManager = this.links.manager): Promise<LinkEntity> {
    const link = await manager.findOneBy(LinkEntity, { id, deletedAt: IsNull() });
    if (!link) throw LinkErrors.notFound();
    return link;
  }

  /** The link with its encrypted secret columns, for talking to its provider. */
  async getWithSecrets(id: string): Promise<LinkEntity> {
    const link = await this.links
      .createQueryBuilder('link')
      .addSelect(LINK_SECRET_COLUMNS.map((column) => `link.${column}`))
      .where('link.id = :id AND link.deleted_at IS NULL', { id })
      .getOne();
    if (!link) throw LinkErrors.notFound();
    return link;
  }

  /** For the audit trail, which outlives the link. */
  async getIncludingDeleted(id: string): Promise<LinkEntity> {
    const link = await this.links.findOneBy({ id });
    if (!link) throw LinkErrors.notFound();
    return link;
  }

  async update(id: string, patch: UpdateLinkDto, actor: string): Promise<LinkEntity> {
    const current = await this.get(id);
    const providerChanged = patch.provider !== undefined && patch.provider !== current.provider;
    // A new provider starts from its own preset: the old provider's endpoints and settings go.
    const base: LinkConfigurationInput = providerChanged
      ? {
          provider: patch.provider!,
          grantType: current.grantType,
          clientId: current.clientId,
          scopes: current.scopes,
        }
      : {
          provider: current.provider as LinkConfigurationInput['provider'],
          grantType: current.grantType,
          clientId: current.clientId,
          scopes: current.scopes,
          authorizationEndpoint: current.authorizationEndpoint,
          tokenEndpoint: current.tokenEndpoint,
          revocationEndpoint: current.revocationEndpoint,
          issuer: current.discoveredMetadata ? current.issuer : null, // explicit links derive it
          tenant: current.tenant,
          cloud: current.cloud as LinkConfigurationInput['cloud'],
          authorizationParams: current.authorizationParams,
          tokenEndpointAuthMethod: current.tokenEndpointAuthMethod,
          pkce: current.pkce,
        };
    const { name: _name, clientSecret, ...configurationPatch } = patch;
    const merged: LinkConfigurationInput = { ...base, ...stripUndefined(configurationPatch) };
    if (patch.scopePreset !== undefined && patch.scopes === undefined) delete merged.scopes;
    const usedDiscovery = current.discoveredMetadata !== null && !providerChanged;
    const givesEndpoints =
      patch.authorizationEndpoint !== undefined || patch.tokenEndpoint !== undefined;
    if (usedDiscovery && givesEndpoints && patch.issuer === undefined) merged.issuer = null; // now explicit
    if (merged.issuer) {
      // In discovery mode the stored endpoints came from the document, not from the admin.
      if (patch.authorizationEndpoint === undefined) merged.authorizationEndpoint = null;
      if (patch.tokenEndpoint === undefined) merged.tokenEndpoint = null;
    }
    const keepsDiscovery = usedDiscovery && !!merged.issuer && merged.issuer === current.issuer;
    const stored = keepsDiscovery
      ? this.keepDiscovered(current, resolveLinkConfiguration(merged, this.options()))
      : await this.configure(merged, current);
    await this.endpointPolicy.check(stored, current);

    const redirected = changedFields(SECRET_BOUND_FIELDS, current, stored);
    if (redirected.length > 0 && current.hasClientSecret && clientSecret === undefined)
      throw LinkErrors.clientSecretRequired(redirected);
    const voidingChanges = changedFields(GRANT_DEFINING_FIELDS, current, stored);
    const voidsGrant = voidingChanges.length > 0;

    await this.links.manager.transaction(async (manager) => {
      const locked = await manager.findOne(LinkEntity, {
        where: { id, deletedAt: IsNull() },
        lock: { mode: 'pessimistic_write' },
      });
      if (!locked) throw LinkErrors.notFound();
      if (locked.configVersion !== current.configVersion) throw LinkErrors.changedConcurrently();
      const changes: Partial<LinkEntity> = { ...stored };
      if (patch.name !== undefined) changes.name = patch.name;
      if (clientSecret !== undefined) {
        changes.clientSecretEncrypted =
          clientSecret === null
            ? null
            : this.keyRing.encrypt(clientSecret, encryptionContext(LINK_CLIENT_SECRET, id));
        changes.hasClientSecret = clientSecret !== null;
      }
      if (voidsGrant) {
        Object.assign(changes, voidedGrant(), {
          configVersion: current.configVersion + 1,
          status: 'pending_authorization',
        });
      } else if (clientSecret && current.status === 'error' && current.refreshTokenPresent) {
        // A new secret is the fix for invalid_client (e.g. an expired Microsoft secret): retry.
        Object.assign(changes, {
          status: 'connected',
          lastError: null,
          refreshNotBefore: null,
          refreshFailures: 0,
        });
      }
      await manager.update(LinkEntity, { id }, changes);
      const updatedFields = Object.keys(stripUndefined(patch)).map((field) =>
        field === 'clientSecret' ? 'clientSecret (write-only)' : field,
      );
      await this.events.record(
        id,
        'updated',
        actor,
        { fields: updatedFields, voidsGrant },
        manager,
      );
      const newStatus = changes.status ?? current.status;
      if (newStatus !== current.status) {
        await this.events.record(
          id,
          'status_changed',
          actor,
          {
            from: current.status,
            to: newStatus,
            reason: voidsGrant ? `changed ${voidingChanges.join(', ')}` : 'new client secret',
          },
          manager,
        );
      }
      await this.notifications.publish({ kind: 'link', id }, manager);
    });
    return this.get(id);
  }

  /**
   * Lets a module that keeps rows about links (oauth: pending authorizations) forget a deleted
   * link's rows in the deleting transaction, so that each table keeps one writer.
   */
  onDelete(hook: LinkDeletionHook): void {
    this.deletionHooks.push(hook);
  }

  /** Revokes the refresh token at the provider (best effort), then forgets every secret. */
  async delete(id: string, actor: string): Promise<void> {
    const link = await this.get(id);
    const revocation = await this.revocation.revokeBestEffort(link);
    await this.links.manager.transaction(async (manager) => {
      const result = await manager.update(
        LinkEntity,
        { id, deletedAt: IsNull() },
        {
          ...voidedGrant(),
          clientSecretEncrypted: null,
          hasClientSecret: false,
          deletedAt: new Date(),
        },
      );
      if (!result.affected) throw LinkErrors.notFound();
      for (const forget of this.deletionHooks) await forget(id, manager);
      if (revocation) await this.events.record(id, 'revoked', actor, { ...revocation }, manager);
      await this.events.record(id, 'deleted', actor, { name: link.name }, manager);
      await this.notifications.publish({ kind: 'link', id }, manager);
    });
  }

  private options(): { allowInsecureEndpoints: boolean } {
    return { allowInsecureEndpoints: this.config.allowInsecureEndpoints };
  }

  /** Resolves the preset and, for a custom link with an issuer, fetches its discovery document. */
  private async configure(
    input: LinkConfigurationInput,
    current?: LinkEntity,
  ): Promise<StoredConfiguration> {
    const { needsDiscovery, ...configuration } = resolveLinkConfiguration(input, this.options());
    if (!needsDiscovery) return { ...configuration, discoveredMetadata: null };
    // Before discovery connects anywhere; the caller checks the discovered endpoints.
    await this.endpointPolicy.check(
      { ...configuration, authorizationEndpoint: null, tokenEndpoint: null },
      current,
    );
    let discovered;
    try {
      discovered = await this.discovery.discover(configuration.issuer!);
    } catch (error) {
      const reason = error instanceof ProviderCallError ? error.message : 'unexpected error';
      this.logger.warn(`Discovery of ${configuration.issuer} failed: ${reason}`);
      throw LinkErrors.discoveryFailed(reason);
    }
    // The discovered endpoints must pass the same rules as typed ones (https unless allowed).
    const checked = resolveLinkConfiguration(
      {
        ...input,
        issuer: null,
        authorizationEndpoint: discovered.authorizationEndpoint,
        tokenEndpoint: discovered.tokenEndpoint,
        revocationEndpoint: configuration.revocationEndpoint ?? discovered.revocationEndpoint,
      },
      this.options(),
    );
    const { needsDiscovery: _ignored, ...resolved } = checked;
    return {
      ...resolved,
      issuer: discovered.issuer,
      discoveredMetadata: discovered.metadata as JsonObject,
    };
  }

  private keepDiscovered(current: LinkEntity, resolved: LinkConfiguration): StoredConfiguration {
    const { needsDiscovery: _ignored, ...configuration } = resolved;
    return {
      ...configuration,
      authorizationEndpoint: current.authorizationEndpoint,
      tokenEndpoint: current.tokenEndpoint,
      revocationEndpoint: configuration.revocationEndpoint ?? current.revocationEndpoint,
      issuer: current.issuer,
      discoveredMetadata: current.discoveredMetadata,
    };
  }
}

/** The columns that hold a grant, emptied. */
export function voidedGrant(): Partial<LinkEntity> {
  return {
    accessTokenEncrypted: null,
    refreshTokenEncrypted: null,
    refreshTokenPresent: false,
    accessTokenExpiresAt: null,
    tokenType: null,
    grantedScopes: null,
    lastError: null,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}
