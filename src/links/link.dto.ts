import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { isSaslUser, MAX_SASL_USER_LENGTH } from '../common/sasl-user.js';
import {
  MAIL_PROTOCOLS,
  MAIL_SECURITY,
  type MailCheck,
  type MailProtocol,
  type MailSecurity,
  type MailSettings,
} from './link-mail-settings.js';
import type { JsonObject } from '../common/json.js';
import { PageQueryDto } from '../common/pagination.dto.js';
import {
  MICROSOFT_CLOUDS,
  PROVIDER_IDS,
  SCOPE_PRESET_IDS,
  type MicrosoftCloud,
  type ProviderId,
  type ScopePresetId,
} from '../providers/provider-preset.js';
import {
  GRANT_TYPES,
  LINK_STATUSES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type GrantType,
  type LinkAccount,
  type LinkEntity,
  type LinkLastError,
  type LinkStatus,
} from './link.entity.js';
import { nextRisk, type NextRisk } from './link-forecast.js';
import { LINK_EVENT_TYPES, type LinkEventEntity, type LinkEventType } from './link-event.entity.js';

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const nullable = (_dto: object, value: unknown): boolean => value !== null;

/**
 * The fields of a link (SPEC §5): POST requires name, provider and clientId. PATCH takes any of
 * them (UpdateLinkDto). The other way round, with `declare` to make fields required, the
 * inherited @IsOptional() still skipped them when absent: `{}` passed validation and was a 500.
 */
/** A host name or address: letters, digits, dots, hyphens, colons (IPv6); no scheme, no port. */
const MAIL_HOST = /^[A-Za-z0-9.:-]{1,253}$/;

export class MailServerDto {
  @ApiProperty({ example: 'imap.example.com', maxLength: 253 })
  @IsString()
  @Matches(MAIL_HOST, { message: 'host must be a host name or IP address' })
  host: string;

  @ApiProperty({ minimum: 1, maximum: 65535, example: 993 })
  @IsInt()
  @Min(1)
  @Max(65535)
  port: number;

  @ApiProperty({
    enum: MAIL_SECURITY,
    description:
      'tls: TLS from the start; starttls: upgraded; none: only with ALLOW_INSECURE_ENDPOINTS',
  })
  @IsIn(MAIL_SECURITY)
  security: MailSecurity;
}

/** SPEC §12: the servers the mail check logs into. */
export class MailSettingsDto {
  @ApiPropertyOptional({
    maxLength: MAX_SASL_USER_LENGTH,
    description: "The mailbox login; default: the account's e-mail (else username)",
  })
  @IsOptional()
  @IsString()
  @ValidateBy({
    name: 'isSaslUser',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isSaslUser(value),
      defaultMessage: () =>
        `user must be 1-${MAX_SASL_USER_LENGTH} characters without whitespace or control characters`,
    },
  })
  user?: string;

  @ApiPropertyOptional({ type: MailServerDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MailServerDto)
  imap?: MailServerDto;

  @ApiPropertyOptional({ type: MailServerDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MailServerDto)
  pop3?: MailServerDto;

  @ApiPropertyOptional({ type: MailServerDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MailServerDto)
  smtp?: MailServerDto;
}

export class MailCheckResultDto {
  @ApiProperty({ enum: MAIL_PROTOCOLS }) protocol: MailProtocol;
  @ApiProperty() ok: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'XOAUTH2' }) mechanism: string | null;
  @ApiProperty() latencyMs: number;
  @ApiProperty({ description: "The server's answer verbatim (its refusal when ok is false)" })
  serverResponse: string;
}

export class MailCheckDto {
  @ApiProperty({ format: 'date-time' }) checkedAt: string;
  @ApiProperty({ type: [MailCheckResultDto] }) results: MailCheckResultDto[];
}

export class CreateLinkDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Support mailbox' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({ enum: PROVIDER_IDS })
  @IsIn(PROVIDER_IDS)
  provider: ProviderId;

  @ApiPropertyOptional({ enum: GRANT_TYPES, default: 'authorization_code' })
  @IsOptional()
  @IsIn(GRANT_TYPES)
  grantType?: GrantType;

  @ApiProperty({
    minLength: 1,
    maxLength: 1000,
    description: "jwt_bearer: optional, defaults to the service account key's client_email",
  })
  // SPEC §15: a jwt_bearer link may take its client id from the service account key.
  @ValidateIf((dto: CreateLinkDto) => dto.grantType !== 'jwt_bearer' || dto.clientId !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  clientId: string;

  @ApiPropertyOptional({
    type: String,
    writeOnly: true,
    maxLength: 4096,
    nullable: true,
    description: 'Write-only; null removes it.',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  clientSecret?: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'When the client secret expires (Entra shows it next to the secret); announced as link.expiring 14, 3 and 1 days ahead. null: unknown.',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @IsISO8601({ strict: true })
  clientSecretExpiresAt?: string | null;

  @ApiPropertyOptional({
    type: String,
    writeOnly: true,
    maxLength: 4096,
    nullable: true,
    description:
      'Write-only. The secret that replaces clientSecret (SPEC §13): while both exist, a refresh the provider refuses with invalid_client is retried once with this one, which is then promoted. null removes it.',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  nextClientSecret?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  @IsOptional()
  @ValidateIf(nullable)
  @IsISO8601({ strict: true })
  nextClientSecretExpiresAt?: string | null;

  @ApiPropertyOptional({ type: [String], example: ['https://mail.google.com/'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  @Matches(SCOPE_TOKEN, {
    each: true,
    message: 'each scope must be a non-empty string without spaces or quotes',
  })
  scopes?: string[];

  @ApiPropertyOptional({
    enum: SCOPE_PRESET_IDS,
    description: "Instead of scopes: the preset's scopes for imap, pop3 or smtp.",
  })
  @IsOptional()
  @IsIn(SCOPE_PRESET_IDS)
  scopePreset?: ScopePresetId;

  @ApiPropertyOptional({ type: String, format: 'uri', nullable: true })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MaxLength(2000)
  authorizationEndpoint?: string | null;

  @ApiPropertyOptional({ type: String, format: 'uri', nullable: true })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MaxLength(2000)
  tokenEndpoint?: string | null;

  @ApiPropertyOptional({ type: String, format: 'uri', nullable: true })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MaxLength(2000)
  revocationEndpoint?: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'uri',
    nullable: true,
    description: 'custom: discover the endpoints from this issuer',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MaxLength(2000)
  issuer?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'microsoft: organizations (default), common, consumers, or a tenant id/domain',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MaxLength(255)
  tenant?: string | null;

  @ApiPropertyOptional({
    enum: MICROSOFT_CLOUDS,
    nullable: true,
    description: 'microsoft: global (default) or usgov',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @IsIn(MICROSOFT_CLOUDS)
  cloud?: MicrosoftCloud | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { prompt: 'consent' },
    description: 'Extra authorization request parameters; override the preset ones.',
  })
  @IsOptional()
  @IsObject()
  authorizationParams?: Record<string, string>;

  @ApiPropertyOptional({ enum: TOKEN_ENDPOINT_AUTH_METHODS, default: 'client_secret_basic' })
  @IsOptional()
  @IsIn(TOKEN_ENDPOINT_AUTH_METHODS)
  tokenEndpointAuthMethod?: (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

  @ApiPropertyOptional({ default: true, description: 'Send a PKCE S256 challenge' })
  @IsOptional()
  @IsBoolean()
  pkce?: boolean;

  // SPEC §15 private_key_jwt
  @ApiPropertyOptional({
    type: String,
    writeOnly: true,
    maxLength: 16384,
    nullable: true,
    description:
      'private_key_jwt: the signing key, unencrypted PEM (RSA >= 2048 bits, EC P-256 or P-384). ' +
      'Write-only. Omitted on a new link or null: Outlink generates an RSA 2048 key. ' +
      'GET /v1/links/{id}/certificate shows what to register at the provider.',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MinLength(1)
  @MaxLength(16384)
  privateKey?: string | null;
  @ApiPropertyOptional({
    type: MailSettingsDto,
    nullable: true,
    description: 'Mail servers for POST /mail-check (SPEC §12); null removes them',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => MailSettingsDto)
  mail?: MailSettingsDto | null;

  // SPEC §15 jwt_bearer
  @ApiPropertyOptional({
    oneOf: [
      { type: 'object', additionalProperties: true },
      { type: 'string', maxLength: 16384 },
    ],
    writeOnly: true,
    nullable: true,
    description:
      'jwt_bearer: the service account key file (Google JSON: private_key, client_email, ' +
      'private_key_id, token_uri), as an object or its text. Write-only.',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @ValidateBy({
    name: 'isServiceAccountKey',
    validator: {
      validate: (value: unknown) =>
        (typeof value === 'string' && value.length > 0 && value.length <= 16384) ||
        (typeof value === 'object' && value !== null && !Array.isArray(value)),
      defaultMessage: () =>
        'serviceAccountKey must be the JSON key file as an object or its text (at most 16384 characters)',
    },
  })
  serviceAccountKey?: Record<string, unknown> | string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 320,
    description:
      'jwt_bearer: the user to act as (sub), e.g. the mailbox (Google domain-wide delegation)',
  })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MaxLength(320)
  subject?: string | null;
}

/** PATCH: any field of a link; changing client id, endpoints or scopes voids the grant. */
export class UpdateLinkDto extends PartialType(CreateLinkDto) {}

export class LinkLastErrorDto {
  @ApiProperty({ example: 'invalid_grant' })
  code: string;

  @ApiProperty()
  message: string;

  @ApiProperty({ format: 'date-time' })
  at: string;

  @ApiPropertyOptional({
    example: 'refresh_token_inactive',
    description:
      'Why (SPEC §13): e.g. refresh_token_inactive, client_secret_expired, password_changed, mfa_required, consent_missing, token_expired_or_revoked, provider_unavailable; unknown when not recognised',
  })
  reason?: string;

  @ApiPropertyOptional({
    enum: ['outlink_admin', 'provider_admin', 'account_owner'],
    description: 'Who must act',
  })
  actor?: 'outlink_admin' | 'provider_admin' | 'account_owner';

  @ApiPropertyOptional({ description: 'What to do, and where (one sentence)' })
  action?: string;
}

export class NextRiskDto {
  @ApiProperty({ enum: ['refresh_token_expires', 'client_secret_expires'] }) reason: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: 'Whole days left; negative once past' }) daysLeft: number;
  @ApiProperty({ enum: ['outlink_admin', 'provider_admin'] }) actor: string;
  @ApiProperty() action: string;
}

/** Who consented to the link's grant (SPEC §12). */
export class LinkAccountDto {
  @ApiProperty({ description: "The provider's stable id of the account (`sub`)" })
  subject: string;

  @ApiProperty({ type: String, nullable: true, example: 'support@example.com' })
  email: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: '`preferred_username` (or `upn`) of the ID token',
  })
  username: string | null;
}

export class LinkResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: PROVIDER_IDS }) provider: string;
  @ApiProperty({ enum: GRANT_TYPES }) grantType: GrantType;
  @ApiProperty() clientId: string;
  @ApiProperty() hasClientSecret: boolean;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ type: String, nullable: true }) authorizationEndpoint: string | null;
  @ApiProperty({ type: String, nullable: true }) tokenEndpoint: string | null;
  @ApiProperty({ type: String, nullable: true }) revocationEndpoint: string | null;
  @ApiProperty({ type: String, nullable: true }) issuer: string | null;
  @ApiProperty({ type: String, nullable: true }) tenant: string | null;
  @ApiProperty({ type: String, nullable: true }) cloud: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  authorizationParams: Record<string, string>;
  @ApiProperty({ enum: TOKEN_ENDPOINT_AUTH_METHODS }) tokenEndpointAuthMethod: string;
  @ApiProperty() pkce: boolean;
  @ApiProperty({ description: 'Register this URL at the provider' }) redirectUrl: string;
  @ApiProperty({ enum: LINK_STATUSES }) status: LinkStatus;
  @ApiProperty({ type: [String], nullable: true }) grantedScopes: string[] | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) accessTokenExpiresAt:
    string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastRefreshedAt:
    string | null;
  @ApiProperty() refreshTokenPresent: boolean;
  @ApiProperty({ type: LinkLastErrorDto, nullable: true }) lastError: LinkLastError | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "From the provider's refresh_token_expires_in, when it sends one",
  })
  refreshTokenExpiresAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  clientSecretExpiresAt: string | null;
  @ApiProperty() hasNextClientSecret: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  nextClientSecretExpiresAt: string | null;
  @ApiProperty({
    type: NextRiskDto,
    nullable: true,
    description: 'The soonest known expiry that will break the link; null when none is known',
  })
  nextRisk: NextRisk | null;
  @ApiProperty({ description: 'private_key_jwt: a key is stored (see GET .../certificate)' })
  hasPrivateKey: boolean;
  @ApiProperty({
    type: LinkAccountDto,
    nullable: true,
    description:
      "Who consented, from the ID token (SPEC §12); null before consent or when the provider did not say (add the 'openid' scope, and 'email' for the address)",
  })
  account: LinkAccount | null;
  @ApiProperty({ type: MailSettingsDto, nullable: true }) mail: MailSettings | null;
  @ApiProperty({ type: MailCheckDto, nullable: true, description: 'The last mail check' })
  mailCheck: MailCheck | null;
  @ApiProperty({ description: 'jwt_bearer: a service account key is stored' })
  hasServiceAccountKey: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'jwt_bearer: the user acted as' })
  subject: string | null;

  /** Never a secret or a token: only what the admin may see (SPEC §5). */
  static from(link: LinkEntity, redirectUrl: string, now: Date = new Date()): LinkResponseDto {
    return {
      id: link.id,
      name: link.name,
      provider: link.provider,
      grantType: link.grantType,
      clientId: link.clientId,
      hasClientSecret: link.hasClientSecret,
      scopes: link.scopes,
      authorizationEndpoint: link.authorizationEndpoint,
      tokenEndpoint: link.tokenEndpoint,
      revocationEndpoint: link.revocationEndpoint,
      issuer: link.issuer,
      tenant: link.tenant,
      cloud: link.cloud,
      authorizationParams: link.authorizationParams,
      tokenEndpointAuthMethod: link.tokenEndpointAuthMethod,
      pkce: link.pkce,
      redirectUrl,
      status: link.status,
      grantedScopes: link.grantedScopes,
      accessTokenExpiresAt: link.accessTokenExpiresAt?.toISOString() ?? null,
      lastRefreshedAt: link.lastRefreshedAt?.toISOString() ?? null,
      refreshTokenPresent: link.refreshTokenPresent,
      lastError: link.lastError,
      createdAt: link.createdAt.toISOString(),
      updatedAt: link.updatedAt.toISOString(),
      refreshTokenExpiresAt: link.refreshTokenExpiresAt?.toISOString() ?? null,
      clientSecretExpiresAt: link.clientSecretExpiresAt?.toISOString() ?? null,
      hasNextClientSecret: link.hasNextClientSecret,
      nextClientSecretExpiresAt: link.nextClientSecretExpiresAt?.toISOString() ?? null,
      nextRisk: nextRisk(link, now),
      hasPrivateKey: link.certificate != null,
      account: link.account,
      mail: link.mail,
      mailCheck: link.mailCheck,
      hasServiceAccountKey: link.hasServiceAccountKey,
      subject: link.subject,
    };
  }
}

/** SPEC §15: what to register at the provider for a private_key_jwt link; never the key. */
export class LinkCertificateResponseDto {
  @ApiProperty({ description: 'The self-signed X.509 certificate (PEM): upload it to Entra' })
  pem: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The public key as a JWK (kid, alg, use, x5c, x5t#S256), for a JWKS',
  })
  jwk: Record<string, unknown>;

  @ApiProperty({ description: 'x5t#S256: base64url SHA-256 thumbprint of the certificate' })
  x5tS256: string;
}

export class LinkListResponseDto {
  @ApiProperty({ type: [LinkResponseDto] }) items: LinkResponseDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class ListLinksQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: LINK_STATUSES })
  @IsOptional()
  @IsIn(LINK_STATUSES)
  status?: LinkStatus;

  @ApiPropertyOptional({ enum: PROVIDER_IDS })
  @IsOptional()
  @IsIn(PROVIDER_IDS)
  provider?: ProviderId;
}

export class LinkEventResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: LINK_EVENT_TYPES }) type: LinkEventType;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: 'The API key id that caused it, or "system"' }) actor: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) detail: JsonObject;

  static from(event: LinkEventEntity): LinkEventResponseDto {
    return {
      id: event.id,
      type: event.type,
      at: event.at.toISOString(),
      actor: event.actor,
      detail: event.detail,
    };
  }
}

export class LinkEventListResponseDto {
  @ApiProperty({ type: [LinkEventResponseDto] }) items: LinkEventResponseDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
