import type { JsonObject } from '../common/json.js';
import type { MailCheck, MailSettings } from './link-mail-settings.js';
import { Check, Column, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const LINK_STATUSES = [
  'pending_authorization',
  'connected',
  'reauthorization_required',
  'error',
] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];
export const GRANT_TYPES = [
  'authorization_code',
  'client_credentials',
  // SPEC §15: RFC 7523 §2.1 assertion grant (e.g. a Google service account)
  'jwt_bearer',
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  // SPEC §15: RFC 7523 client assertions signed with the link's private key
  'private_key_jwt',
] as const;

export interface LinkLastError {
  code: string;
  message: string;
  at: string;
  /** Why, who must act and what to do (SPEC §13); absent on errors stored before it existed. */
  reason?: string;
  actor?: 'outlink_admin' | 'provider_admin' | 'account_owner';
  action?: string;
}

/**
 * Who consented to the link's grant (SPEC §12), from the ID token or the userinfo endpoint.
 * `subject` is the provider's stable id; the others are null when the provider did not say.
 */
export interface LinkAccount {
  subject: string;
  email: string | null;
  username: string | null;
}

/**
 * An outgoing link. Columns ending in `_encrypted` hold key-ring envelopes bound to this row and
 * column (see database/encrypted-columns.ts); they are never selected unless asked for.
 */
@Entity('links')
@Index('ix_links_created_at_id', ['createdAt', 'id'])
@Index('ix_links_status_access_token_expires_at', ['status', 'accessTokenExpiresAt'])
@Check(
  'chk_links_status',
  `"status" IN ('pending_authorization', 'connected', 'reauthorization_required', 'error')`,
)
export class LinkEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_links' })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  provider: string;

  @Column({ name: 'grant_type', type: 'varchar', length: 32 })
  grantType: GrantType;

  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @Column({ name: 'client_secret_encrypted', type: 'text', nullable: true, select: false })
  clientSecretEncrypted: string | null;

  @Column({ name: 'has_client_secret', type: 'boolean', default: false })
  hasClientSecret: boolean;

  @Column({ type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'authorization_endpoint', type: 'text', nullable: true })
  authorizationEndpoint: string | null;

  @Column({ name: 'token_endpoint', type: 'text', nullable: true })
  tokenEndpoint: string | null;

  @Column({ name: 'revocation_endpoint', type: 'text', nullable: true })
  revocationEndpoint: string | null;

  @Column({ type: 'text', nullable: true })
  issuer: string | null;

  /** The discovery document's useful subset, kept so the link works while discovery is down. */
  @Column({ name: 'discovered_metadata', type: 'jsonb', nullable: true })
  discoveredMetadata: JsonObject | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  tenant: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  cloud: string | null;

  @Column({ name: 'authorization_params', type: 'jsonb', default: {} })
  authorizationParams: Record<string, string>;

  @Column({ name: 'token_endpoint_auth_method', type: 'varchar', length: 32 })
  tokenEndpointAuthMethod: (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

  @Column({ type: 'boolean', default: true })
  pkce: boolean;

  @Column({ type: 'varchar', length: 32 })
  status: LinkStatus;

  /** Bumped by every change that invalidates a grant, so an authorization started before it fails. */
  @Column({ name: 'config_version', type: 'integer', default: 1 })
  configVersion: number;

  @Column({ name: 'granted_scopes', type: 'text', array: true, nullable: true })
  grantedScopes: string[] | null;

  @Column({ name: 'access_token_encrypted', type: 'text', nullable: true, select: false })
  accessTokenEncrypted: string | null;

  @Column({ name: 'token_type', type: 'varchar', length: 32, nullable: true })
  tokenType: string | null;

  @Column({ name: 'access_token_expires_at', type: 'timestamptz', nullable: true })
  accessTokenExpiresAt: Date | null;

  @Column({ name: 'refresh_token_encrypted', type: 'text', nullable: true, select: false })
  refreshTokenEncrypted: string | null;

  @Column({ name: 'refresh_token_present', type: 'boolean', default: false })
  refreshTokenPresent: boolean;

  @Column({ name: 'last_refreshed_at', type: 'timestamptz', nullable: true })
  lastRefreshedAt: Date | null;

  @Column({ name: 'last_error', type: 'jsonb', nullable: true })
  lastError: LinkLastError | null;

  /** While set and in the future, one replica is calling the provider for this link (SPEC §7). */
  @Column({ name: 'refresh_lease_until', type: 'timestamptz', nullable: true })
  refreshLeaseUntil: Date | null;

  /** Which refresher holds the lease, so only it can write the result or release it. */
  @Column({ name: 'refresh_lease_holder', type: 'uuid', nullable: true })
  refreshLeaseHolder: string | null;

  /** Backoff after transient provider failures: the provider is not called before this. */
  @Column({ name: 'refresh_not_before', type: 'timestamptz', nullable: true })
  refreshNotBefore: Date | null;

  @Column({ name: 'refresh_failures', type: 'integer', default: 0 })
  refreshFailures: number;

  /** Set by the service in milliseconds, the precision of the cursors that page through links. */
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** From the provider's `refresh_token_expires_in` (SPEC §13); written by TokenWriter. */
  @Column({ name: 'refresh_token_expires_at', type: 'timestamptz', nullable: true })
  refreshTokenExpiresAt: Date | null;

  /** Set by the admin (Entra shows it next to the secret), for the forecast (SPEC §13). */
  @Column({ name: 'client_secret_expires_at', type: 'timestamptz', nullable: true })
  clientSecretExpiresAt: Date | null;

  /** The secret that replaces the current one (SPEC §13): tried on invalid_client, then promoted. */
  @Column({ name: 'next_client_secret_encrypted', type: 'text', nullable: true, select: false })
  nextClientSecretEncrypted: string | null;

  @Column({ name: 'has_next_client_secret', type: 'boolean', default: false })
  hasNextClientSecret: boolean;

  @Column({ name: 'next_client_secret_expires_at', type: 'timestamptz', nullable: true })
  nextClientSecretExpiresAt: Date | null;
  /** Who consented (SPEC §12); written with the grant by TokenWriter. */
  @Column({ type: 'jsonb', nullable: true })
  account: LinkAccount | null;

  /** Mail servers the mail check logs into (SPEC §12); written by links/. */
  @Column({ type: 'jsonb', nullable: true })
  mail: MailSettings | null;

  /** The last mail check; written by mail/ only. */
  @Column({ name: 'mail_check', type: 'jsonb', nullable: true })
  mailCheck: MailCheck | null;

  /** When the background mail check is due again (MAIL_CHECK_INTERVAL_SECONDS); mail/ claims it. */
  @Column({ name: 'mail_check_due_at', type: 'timestamptz', nullable: true })
  mailCheckDueAt: Date | null;

  /** Soft delete: the row keeps the audit trail's anchor, every secret is wiped. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  // SPEC §15 private_key_jwt: the signing key (PKCS#8 PEM, encrypted) and its public certificate.
  @Column({ name: 'private_key_encrypted', type: 'text', nullable: true, select: false })
  privateKeyEncrypted: string | null;

  /** PEM; kept so that the thumbprint registered at the provider stays the same. */
  @Column({ type: 'text', nullable: true })
  certificate: string | null;

  // SPEC §15 jwt_bearer: the service account key (JSON, encrypted) and the account to act as.
  @Column({ name: 'service_account_key_encrypted', type: 'text', nullable: true, select: false })
  serviceAccountKeyEncrypted: string | null;

  @Column({ name: 'has_service_account_key', type: 'boolean', default: false })
  hasServiceAccountKey: boolean;

  @Column({ type: 'varchar', length: 320, nullable: true })
  subject: string | null;
}
