import { Injectable } from '@nestjs/common';
import { changedFields, SECRET_BOUND_FIELDS } from './link-configuration.js';
import { LinkConfigurator, type StoredConfiguration } from './link-configurator.js';
import { expiryDate, LinkCredentialColumns } from './link-credential-columns.js';
import {
  resolvePrivateKeyChange,
  resolveServiceAccountKeyChange,
  withServiceAccountDefaults,
} from './link-credentials.js';
import { LinkEndpointPolicy } from './link-endpoint-policy.js';
import {
  auditedPatchFields,
  mergeLinkPatch,
  planLinkUpdate,
  type LinkUpdatePlan,
} from './link-patch.js';
import type { UpdateLinkDto } from './link.dto.js';
import type { LinkEntity } from './link.entity.js';

/** A PATCH resolved against the stored link, ready to be written in one transaction. */
export interface PreparedLinkUpdate {
  /** The columns to write: only what changes, credentials encrypted. */
  changes: Partial<LinkEntity>;
  plan: LinkUpdatePlan;
  /** The grant goes: tokens dropped, authorization needed again (SPEC §5). */
  voidsGrant: boolean;
  /** The patch's fields for the audit trail; secrets are named, never shown. */
  auditedFields: string[];
}

/**
 * Turns a PATCH into the link's new columns (SPEC §5, §11, §13, §15): the merge and its
 * configuration (preset, discovery, endpoint policy), the credential changes, and what the update
 * does to the grant. Writes nothing: LinksService writes the result under the row lock.
 */
@Injectable()
export class LinkUpdater {
  constructor(
    private readonly credentials: LinkCredentialColumns,
    private readonly configurator: LinkConfigurator,
    private readonly endpointPolicy: LinkEndpointPolicy,
  ) {}

  /** @throws AppError validation_failed, endpoint_not_allowed, client_secret_required */
  async prepare(current: LinkEntity, patch: UpdateLinkDto): Promise<PreparedLinkUpdate> {
    const { id } = current;
    const {
      name: _name,
      clientSecret,
      clientSecretExpiresAt: _clientSecretExpiresAt,
      nextClientSecret: _nextClientSecret,
      nextClientSecretExpiresAt: _nextClientSecretExpiresAt,
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
    const changes = { ...this.columns(current, patch, stored, plan), ...keyColumns };
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
    const generatedKey = keyChange.kind === 'set' && keyChange.generated;
    return { changes, plan, voidsGrant, auditedFields: auditedPatchFields(patch, generatedKey) };
  }

  /** The configuration, status, name, mail and secret columns the patch changes. */
  private columns(
    current: LinkEntity,
    patch: UpdateLinkDto,
    stored: StoredConfiguration,
    plan: LinkUpdatePlan,
  ): Partial<LinkEntity> {
    const { id } = current;
    const { clientSecret, clientSecretExpiresAt, nextClientSecret, nextClientSecretExpiresAt } =
      patch;
    const changes: Partial<LinkEntity> = { ...stored };
    // Only a change is written: a refresh may have moved the status since `current` was read.
    if (plan.status !== current.status) changes.status = plan.status;
    if (patch.name !== undefined) changes.name = patch.name;
    // A new secret without its expiry has an unknown one: the old secret's date no longer holds.
    if (clientSecretExpiresAt !== undefined || clientSecret !== undefined)
      changes.clientSecretExpiresAt = expiryDate(clientSecretExpiresAt);
    // A next secret goes where the current one goes: one sent elsewhere is dropped unless given again.
    const redirected = changedFields(SECRET_BOUND_FIELDS, current, stored).length > 0;
    if (nextClientSecret !== undefined || redirected)
      Object.assign(
        changes,
        this.credentials.nextClientSecret(id, nextClientSecret ?? null, nextClientSecretExpiresAt),
      );
    else if (nextClientSecretExpiresAt !== undefined)
      changes.nextClientSecretExpiresAt = expiryDate(nextClientSecretExpiresAt);
    if (patch.mail !== undefined) changes.mail = patch.mail === null ? null : { ...patch.mail };
    if (clientSecret !== undefined)
      Object.assign(changes, this.credentials.clientSecret(id, clientSecret));
    return changes;
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
