import { ApiProperty } from '@nestjs/swagger';
import {
  MICROSOFT_CLOUDS,
  MICROSOFT_WELL_KNOWN_TENANTS,
  PROVIDER_IDS,
  PROVIDER_SETTING_DESCRIPTIONS,
  SCOPE_PRESET_IDS,
  type MicrosoftCloud,
  type ProviderId,
  type ProviderPreset,
  type ScopePresetId,
} from './provider-preset.js';

export class PrefilledEndpointsDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'https://accounts.google.com/o/oauth2/v2/auth',
  })
  authorizationEndpoint: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'https://oauth2.googleapis.com/token' })
  tokenEndpoint: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Null when the provider has no RFC 7009 revocation endpoint.',
    example: 'https://oauth2.googleapis.com/revoke',
  })
  revocationEndpoint: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The issuer expected in RFC 9207 `iss` authorization responses.',
    example: 'https://accounts.google.com',
  })
  issuer: string | null;
}

export class ScopePresetsDto {
  @ApiProperty({ type: [String], required: false, example: ['https://mail.google.com/'] })
  imap?: string[];

  @ApiProperty({ type: [String], required: false, example: ['https://mail.google.com/'] })
  pop3?: string[];

  @ApiProperty({ type: [String], required: false, example: ['https://mail.google.com/'] })
  smtp?: string[];
}

export class ScopePresetsByCloudDto {
  @ApiProperty({ type: ScopePresetsDto })
  global: ScopePresetsDto;

  @ApiProperty({ type: ScopePresetsDto })
  usgov: ScopePresetsDto;

  @ApiProperty({ type: ScopePresetsDto })
  china: ScopePresetsDto;
}

export class TenantSettingDto {
  @ApiProperty({ example: 'organizations' })
  default: string;

  @ApiProperty({
    type: [String],
    description:
      'Tenants with a fixed meaning; a tenant ID (GUID) or domain name is also accepted.',
    example: [...MICROSOFT_WELL_KNOWN_TENANTS],
  })
  wellKnownValues: string[];

  @ApiProperty()
  description: string;
}

export class CloudSettingDto {
  @ApiProperty({ enum: MICROSOFT_CLOUDS, example: 'global' })
  default: MicrosoftCloud;

  @ApiProperty({ enum: MICROSOFT_CLOUDS, isArray: true })
  allowedValues: MicrosoftCloud[];

  @ApiProperty()
  description: string;
}

/** The link settings a preset takes; null for a setting it does not use. */
export class ProviderSettingsDto {
  @ApiProperty({ type: TenantSettingDto, nullable: true })
  tenant: TenantSettingDto | null;

  @ApiProperty({ type: CloudSettingDto, nullable: true })
  cloud: CloudSettingDto | null;
}

function scopePresetsDto(presets: Partial<Record<ScopePresetId, string[]>>): ScopePresetsDto {
  const dto: ScopePresetsDto = {};
  for (const id of SCOPE_PRESET_IDS) {
    const scopes = presets[id];
    if (scopes) dto[id] = [...scopes];
  }
  return dto;
}

/** What a preset supports (SPEC §15). */
export class ProviderSupportDto {
  @ApiProperty({ type: [String], example: ['authorization_code', 'client_credentials'] })
  grantTypes: string[];

  @ApiProperty({ type: [String], example: ['client_secret_basic', 'client_secret_post'] })
  tokenEndpointAuthMethods: string[];

  @ApiProperty({
    description:
      'POST /v1/links/{id}/authorize { "method": "device" } (RFC 8628); for custom only when the ' +
      "issuer's discovery document names a device_authorization_endpoint",
  })
  deviceFlow: boolean;

  @ApiProperty({
    description:
      'App-only mail: grantType client_credentials with a scopePreset (imap, pop3, smtp); the ' +
      'token answer then needs user for xoauth2',
  })
  appOnlyMail: boolean;

  @ApiProperty({
    type: ScopePresetsDto,
    description:
      'Scopes behind each scopePreset of a client_credentials link, for the default settings.',
  })
  appOnlyScopePresets: ScopePresetsDto;
}

/** A provider preset as shown to admins, resolved for its default settings. */
export class ProviderResponseDto {
  @ApiProperty({ enum: PROVIDER_IDS, example: 'google' })
  id: ProviderId;

  @ApiProperty({ example: 'Google' })
  displayName: string;

  @ApiProperty()
  description: string;

  @ApiProperty({
    type: PrefilledEndpointsDto,
    description:
      'The endpoints the preset fills in, for the default settings (microsoft: tenant ' +
      '"organizations", cloud "global"); all null for custom.',
  })
  prefilled: PrefilledEndpointsDto;

  @ApiProperty({
    type: [String],
    description:
      'Link fields the admin must give. `a|b` means one of a or b; `a+b` means a and b together.',
    example: ['name', 'clientId', 'clientSecret', 'scopes|scopePreset'],
  })
  requiredFields: string[];

  @ApiProperty({ type: [String], example: ['tokenEndpointAuthMethod', 'pkce'] })
  optionalFields: string[];

  @ApiProperty({
    type: ScopePresetsDto,
    description: 'Scopes behind each `scopePreset` of a link, for the default settings.',
  })
  scopePresets: ScopePresetsDto;

  @ApiProperty({
    type: ScopePresetsByCloudDto,
    nullable: true,
    description: 'For providers with a `cloud` setting: the scope presets of each cloud.',
  })
  scopePresetsByCloud: ScopePresetsByCloudDto | null;

  @ApiProperty({
    type: [String],
    description: 'Added to every authorization-code request of a link.',
    example: ['offline_access'],
  })
  alwaysRequestedScopes: string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      "Added to the authorization request; a link's own authorizationParams override them.",
    example: { access_type: 'offline', prompt: 'consent' },
  })
  authorizationParams: Record<string, string>;

  @ApiProperty({ type: ProviderSettingsDto })
  settings: ProviderSettingsDto;

  @ApiProperty({ type: [String], description: 'What an admin should know before creating a link.' })
  notes: string[];

  @ApiProperty({ description: 'What to do when the provider issued no refresh token.' })
  missingRefreshTokenAdvice: string;

  // SPEC §15
  @ApiProperty({ type: ProviderSupportDto })
  supports: ProviderSupportDto;

  static from(preset: ProviderPreset): ProviderResponseDto {
    const defaults = preset.settingsDefaults;
    const endpoints = preset.endpoints(defaults);
    const cloudDefault = defaults.cloud;
    return {
      id: preset.id,
      displayName: preset.displayName,
      description: preset.description,
      prefilled: {
        authorizationEndpoint: endpoints?.authorizationEndpoint ?? null,
        tokenEndpoint: endpoints?.tokenEndpoint ?? null,
        revocationEndpoint: endpoints?.revocationEndpoint ?? null,
        issuer: endpoints?.issuer ?? null,
      },
      requiredFields: [...preset.fields.required],
      optionalFields: [...preset.fields.optional],
      scopePresets: scopePresetsDto(preset.scopePresets(defaults)),
      scopePresetsByCloud:
        cloudDefault === null
          ? null
          : {
              global: scopePresetsDto(preset.scopePresets({ ...defaults, cloud: 'global' })),
              usgov: scopePresetsDto(preset.scopePresets({ ...defaults, cloud: 'usgov' })),
              china: scopePresetsDto(preset.scopePresets({ ...defaults, cloud: 'china' })),
            },
      alwaysRequestedScopes: [...preset.alwaysRequestedScopes],
      authorizationParams: { ...preset.authorizationParams },
      settings: {
        tenant:
          defaults.tenant === null
            ? null
            : {
                default: defaults.tenant,
                wellKnownValues: [...MICROSOFT_WELL_KNOWN_TENANTS],
                description: PROVIDER_SETTING_DESCRIPTIONS.tenant,
              },
        cloud:
          cloudDefault === null
            ? null
            : {
                default: cloudDefault,
                allowedValues: [...MICROSOFT_CLOUDS],
                description: PROVIDER_SETTING_DESCRIPTIONS.cloud,
              },
      },
      notes: [...preset.notes],
      missingRefreshTokenAdvice: preset.missingRefreshTokenAdvice,
      supports: supportDto(preset),
    };
  }
}

function supportDto(preset: ProviderPreset): ProviderSupportDto {
  const appOnlyScopePresets = scopePresetsDto(
    preset.clientCredentialsScopePresets(preset.settingsDefaults),
  );
  return {
    grantTypes: [...preset.supports.grantTypes],
    tokenEndpointAuthMethods: [...preset.supports.tokenEndpointAuthMethods],
    deviceFlow: preset.supports.deviceFlow,
    appOnlyMail: Object.keys(appOnlyScopePresets).length > 0,
    appOnlyScopePresets,
  };
}

export class ProviderListResponseDto {
  @ApiProperty({ type: [ProviderResponseDto] })
  items: ProviderResponseDto[];
}
