import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { IsNull, Repository, type EntityManager } from 'typeorm';
import { AppError } from '../common/app-error.js';
import { decodeCursor, toPage } from '../common/cursor.js';
import { ChangeNotifications } from '../database/change-notifications.js';
import { describeCertificate, type CertificateView } from '../providers/client-key.js';
import {
  resolvePrivateKeyChange,
  resolveServiceAccountKeyChange,
  withServiceAccountDefaults,
} from './link-credentials.js';
import { LinkConfigurator } from './link-configurator.js';
import { expiryDate, LinkCredentialColumns } from './link-credential-columns.js';
import { LinkEndpointPolicy } from './link-endpoint-policy.js';
import type { CreateLinkDto, ListLinksQueryDto, UpdateLinkDto } from './link.dto.js';
import { LinkEntity } from './link.entity.js';
import { LinkEventsService } from './link-events.service.js';
import { LINK_SECRET_COLUMNS } from './link-oauth-settings.js';
import { LinkRevocation } from './link-revocation.js';
import { LinkUpdater, voidedGrant } from './link-updater.js';
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
    private readonly credentials: LinkCredentialColumns,
    private readonly configurator: LinkConfigurator,
    private readonly revocation: LinkRevocation,
    private readonly notifications: ChangeNotifications,
    private readonly endpointPolicy: LinkEndpointPolicy,
    private readonly updater: LinkUpdater,
  ) {}

  async create(input: CreateLinkDto, actor: string): Promise<LinkEntity> {
    const {
      clientSecretExpiresAt,
      nextClientSecret,
      nextClientSecretExpiresAt,
      serviceAccountKey: _key,
      subject,
      privateKey: _privateKey,
      mail,
      ...configurationInput
    } = input;
    if (mail) await this.endpointPolicy.checkMail(mail);
    const grantType = input.grantType ?? 'authorization_code';
    const accountKeyChange = resolveServiceAccountKeyChange(grantType, input, false);
    const withDefaults = withServiceAccountDefaults(
      { ...configurationInput, grantType },
      accountKeyChange,
      input.clientId !== undefined,
    );
    if (withDefaults.clientId === undefined) {
      throw AppError.validation([
        {
          field: 'clientId',
          message: 'clientId is required (or a serviceAccountKey with client_email)',
        },
      ]);
    }
    const stored = await this.configurator.configure({
      ...withDefaults,
      clientId: withDefaults.clientId,
    });
    const keyChange = resolvePrivateKeyChange(stored.tokenEndpointAuthMethod, input, false);
    const id = randomUUID();
    const keyColumns = {
      ...(await this.credentials.privateKey(id, keyChange)),
      ...this.credentials.serviceAccountKey(id, accountKeyChange),
      subject: grantType === 'jwt_bearer' ? (subject ?? null) : null,
    };
    await this.links.manager.transaction(async (manager) => {
      await manager.insert(LinkEntity, {
        id,
        name: input.name,
        ...stored,
        ...this.credentials.clientSecret(id, input.clientSecret ?? null),
        clientSecretExpiresAt: expiryDate(clientSecretExpiresAt),
        ...this.credentials.nextClientSecret(
          id,
          nextClientSecret ?? null,
          nextClientSecretExpiresAt,
        ),
        ...keyColumns,
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
    const { changes, plan, voidsGrant, auditedFields } = await this.updater.prepare(current, patch);
    await this.links.manager.transaction(async (manager) => {
      const locked = await manager.findOne(LinkEntity, {
        where: { id, deletedAt: IsNull() },
        lock: { mode: 'pessimistic_write' },
      });
      if (!locked) throw LinkErrors.notFound();
      if (locked.configVersion !== current.configVersion) throw LinkErrors.changedConcurrently();
      await manager.update(LinkEntity, { id }, changes);
      await this.events.record(
        id,
        'updated',
        actor,
        { fields: auditedFields, voidsGrant },
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
          nextClientSecretEncrypted: null,
          hasNextClientSecret: false,
          privateKeyEncrypted: null,
          serviceAccountKeyEncrypted: null,
          hasServiceAccountKey: false,
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

  /**
   * SPEC §15: what to register at the provider for a private_key_jwt link.
   * @throws not_found; conflict when the link has no key
   */
  async certificate(id: string): Promise<CertificateView> {
    const link = await this.get(id);
    if (link.certificate === null) throw LinkErrors.noCertificate();
    return describeCertificate(link.certificate);
  }
}
