import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { IsNull, Repository, type EntityManager } from 'typeorm';
import { AppError } from '../common/app-error.js';
import { decodeCursor, toPage } from '../common/cursor.js';
import { ChangeNotifications } from '../database/change-notifications.js';
import { changedFields, SECRET_BOUND_FIELDS } from './link-configuration.js';
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
    private readonly credentials: LinkCredentialColumns,
    private readonly configurator: LinkConfigurator,
    private readonly revocation: LinkRevocation,
    private readonly notifications: ChangeNotifications,
    private readonly endpointPolicy: LinkEndpointPolicy,
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
    const {
      name,
      clientSecret,
      clientSecretExpiresAt,
      nextClientSecret,
      nextClientSecretExpiresAt,
      privateKey,
      serviceAccountKey,
      subject,
      mail,
      ...configurationPatch
    } = patch;
    if (mail) await this.endpointPolicy.checkMail(mail);
    const accountKeyChange = resolveServiceAccountKeyChange(
      configurationPatch.grantType ?? current.grantType,
      { serviceAccountKey, subject },
      current.hasServiceAccountKey,
    );
    const merged = mergeLinkPatch(current, configurationPatch);
    merged.input = withServiceAccountDefaults(
      merged.input,
      accountKeyChange,
      configurationPatch.clientId !== undefined,
    );
    const stored = await this.configurator.configure(merged.input, {
      link: current,
      keepsDiscovery: merged.keepsDiscovery,
    });
    const keyChange = resolvePrivateKeyChange(
      stored.tokenEndpointAuthMethod,
      { privateKey, clientSecret },
      current.certificate !== null,
    );
    const nextSubject =
      stored.grantType === 'jwt_bearer'
        ? subject === undefined
          ? current.subject
          : subject
        : null;
    const plan = planLinkUpdate(current, stored, clientSecret, {
      privateKey: keyChange.kind === 'set',
      serviceAccountKey: accountKeyChange.kind === 'set',
      subject: current.grantType === 'jwt_bearer' && nextSubject !== current.subject,
    });
    const keyColumns = {
      ...(await this.credentials.privateKey(id, keyChange)),
      ...this.credentials.serviceAccountKey(id, accountKeyChange),
      ...(nextSubject !== current.subject && { subject: nextSubject }),
    };

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
      // A new secret without its expiry has an unknown one: the old secret's date no longer holds.
      if (clientSecretExpiresAt !== undefined || clientSecret !== undefined)
        changes.clientSecretExpiresAt = expiryDate(clientSecretExpiresAt);
      // A next secret goes where the current one goes: one sent elsewhere is dropped unless given again.
      const redirected = changedFields(SECRET_BOUND_FIELDS, current, stored).length > 0;
      if (nextClientSecret !== undefined || redirected)
        Object.assign(
          changes,
          this.credentials.nextClientSecret(
            id,
            nextClientSecret ?? null,
            nextClientSecretExpiresAt,
          ),
        );
      else if (nextClientSecretExpiresAt !== undefined)
        changes.nextClientSecretExpiresAt = expiryDate(nextClientSecretExpiresAt);
      if (mail !== undefined) changes.mail = mail === null ? null : { ...mail };
      if (clientSecret !== undefined)
        Object.assign(changes, this.credentials.clientSecret(id, clientSecret));
      Object.assign(changes, keyColumns);
      // SPEC §15: a key-authenticated link keeps no client secret it would never send.
      if (stored.tokenEndpointAuthMethod === 'private_key_jwt' && current.hasClientSecret)
        Object.assign(changes, this.credentials.clientSecret(id, null));
      const voidsGrant = plan.voidingChanges.length > 0;
      if (voidsGrant) {
        Object.assign(changes, voidedGrant(), { configVersion: current.configVersion + 1 });
      } else if (plan.status !== current.status) {
        // The new secret is the fix for invalid_client (e.g. an expired Microsoft secret): retry.
        Object.assign(changes, { lastError: null, refreshNotBefore: null, refreshFailures: 0 });
      }
      await manager.update(LinkEntity, { id }, changes);
      const updatedFields = Object.keys(withoutUndefined(patch)).map((field) =>
        ['clientSecret', 'nextClientSecret', 'privateKey', 'serviceAccountKey'].includes(field)
          ? `${field} (write-only)`
          : field,
      );
      if (keyChange.kind === 'set' && keyChange.generated)
        updatedFields.push('privateKey (generated)');
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

/** The columns that hold a grant, emptied. */
export function voidedGrant(): Partial<LinkEntity> {
  return {
    accessTokenEncrypted: null,
    refreshTokenEncrypted: null,
    refreshTokenPresent: false,
    refreshTokenExpiresAt: null,
    accessTokenExpiresAt: null,
    tokenType: null,
    grantedScopes: null,
    lastError: null,
    account: null,
  };
}
