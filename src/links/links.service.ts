import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { IsNull, Repository, type EntityManager } from 'typeorm';
import { decodeCursor, toPage } from '../common/cursor.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { ChangeNotifications } from '../database/change-notifications.js';
import { LINK_CLIENT_SECRET } from '../database/encrypted-columns.js';
import { LinkConfigurator } from './link-configurator.js';
import { LinkEndpointPolicy } from './link-endpoint-policy.js';
import type { CreateLinkDto, ListLinksQueryDto, UpdateLinkDto } from './link.dto.js';
import { LinkEntity } from './link.entity.js';
import { LinkEventsService } from './link-events.service.js';
import { LINK_SECRET_COLUMNS } from './link-oauth-settings.js';
import { mergeLinkPatch, planLinkUpdate, withoutUndefined } from './link-patch.js';
import { LinkRevocation } from './link-revocation.js';
import { LinkErrors } from './links.errors.js';

/** Forgets what a module keeps about a link that is being deleted, inside that transaction. */
export type LinkDeletionHook = (linkId: string, manager: EntityManager) => Promise<void>;

/** Links CRUD (SPEC §5). Token state is written by the OAuth flow and the token refresher. */
@Injectable()
export class LinksService {
  private readonly deletionHooks: LinkDeletionHook[] = [];

  constructor(
    @InjectRepository(LinkEntity) private readonly links: Repository<LinkEntity>,
    private readonly events: LinkEventsService,
    private readonly keyRing: KeyRing,
    private readonly configurator: LinkConfigurator,
    private readonly revocation: LinkRevocation,
    private readonly notifications: ChangeNotifications,
    private readonly endpointPolicy: LinkEndpointPolicy,
  ) {}

  async create(createInput: CreateLinkDto, actor: string): Promise<LinkEntity> {
    const { mail, ...input } = createInput;
    if (mail) await this.endpointPolicy.checkMail(mail);
    const stored = await this.configurator.configure({
      ...input,
      grantType: input.grantType ?? 'authorization_code',
    });
    const id = randomUUID();
    await this.links.manager.transaction(async (manager) => {
      await manager.insert(LinkEntity, {
        id,
        name: input.name,
        ...stored,
        ...this.clientSecretColumns(id, input.clientSecret ?? null),
        mail: mail ? { ...mail } : null,
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
    const { name, clientSecret, mail, ...configurationPatch } = patch;
    if (mail) await this.endpointPolicy.checkMail(mail);
    const merged = mergeLinkPatch(current, configurationPatch);
    const stored = await this.configurator.configure(merged.input, {
      link: current,
      keepsDiscovery: merged.keepsDiscovery,
    });
    const plan = planLinkUpdate(current, stored, clientSecret);

    await this.links.manager.transaction(async (manager) => {
      const locked = await manager.findOne(LinkEntity, {
        where: { id, deletedAt: IsNull() },
        lock: { mode: 'pessimistic_write' },
      });
      if (!locked) throw LinkErrors.notFound();
      if (locked.configVersion !== current.configVersion) throw LinkErrors.changedConcurrently();
      const changes: Partial<LinkEntity> = { ...stored };
      // Only a change is written: a refresh may have moved the status since `current` was read.
      if (plan.status !== current.status) changes.status = plan.status;
      if (name !== undefined) changes.name = name;
      if (mail !== undefined) changes.mail = mail === null ? null : { ...mail };
      if (clientSecret !== undefined)
        Object.assign(changes, this.clientSecretColumns(id, clientSecret));
      const voidsGrant = plan.voidingChanges.length > 0;
      if (voidsGrant) {
        Object.assign(changes, voidedGrant(), { configVersion: current.configVersion + 1 });
      } else if (plan.status !== current.status) {
        // The new secret is the fix for invalid_client (e.g. an expired Microsoft secret): retry.
        Object.assign(changes, { lastError: null, refreshNotBefore: null, refreshFailures: 0 });
      }
      await manager.update(LinkEntity, { id }, changes);
      const updatedFields = Object.keys(withoutUndefined(patch)).map((field) =>
        field === 'clientSecret' ? 'clientSecret (write-only)' : field,
      );
      await this.events.record(
        id,
        'updated',
        actor,
        { fields: updatedFields, voidsGrant },
        manager,
      );
      if (plan.statusReason !== null) {
        await this.events.record(
          id,
          'status_changed',
          actor,
          { from: current.status, to: plan.status, reason: plan.statusReason },
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

  /** The secret columns for a new client secret (null: none, a public client). */
  private clientSecretColumns(id: string, secret: string | null): Partial<LinkEntity> {
    return {
      clientSecretEncrypted:
        secret === null
          ? null
          : this.keyRing.encrypt(secret, encryptionContext(LINK_CLIENT_SECRET, id)),
      hasClientSecret: secret !== null,
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
    account: null,
  };
}
