import type { FieldError } from '../common/app-error.js';
import { AppError } from '../common/app-error.js';
import {
  getProviderPreset,
  isValidMicrosoftTenant,
  type MicrosoftCloud,
  type ProviderId,
  type ScopePresetId,
} from '../providers/provider-preset.js';
import type { GrantType, TOKEN_ENDPOINT_AUTH_METHODS } from './link.entity.js';

/** What an admin configures on a link, as POST gives it or as PATCH merges it onto the stored link. */
export interface LinkConfigurationInput {
  provider: ProviderId;
  grantType: GrantType;
  clientId: string;
  scopes?: string[];
  scopePreset?: ScopePresetId;
  authorizationEndpoint?: string | null;
  tokenEndpoint?: string | null;
  revocationEndpoint?: string | null;
  issuer?: string | null;
  tenant?: string | null;
  cloud?: MicrosoftCloud | null;
  authorizationParams?: Record<string, string>;
  tokenEndpointAuthMethod?: (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];
  pkce?: boolean;
}

/** The configuration as stored, with the preset applied. */
export interface LinkConfiguration {
  provider: ProviderId;
  grantType: GrantType;
  clientId: string;
  scopes: string[];
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  revocationEndpoint: string | null;
  issuer: string | null;
  tenant: string | null;
  cloud: MicrosoftCloud | null;
  authorizationParams: Record<string, string>;
  tokenEndpointAuthMethod: (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];
  pkce: boolean;
  /** custom with `issuer`: endpoints come from the discovery document. */
  needsDiscovery: boolean;
}

/** Parameters Outlink sets itself; a link may not override them. */
const RESERVED_AUTHORIZATION_PARAMS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
]);
const PARAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_AUTHORIZATION_PARAMS = 20;

/**
 * Fields that decide where the client secret and the tokens are sent, and as whom (SPEC §11):
 * changing one requires the client secret again in the same request, so that a stored secret can
 * never be sent somewhere set after it was stored. Tenant and cloud act through the endpoints.
 */
export const SECRET_BOUND_FIELDS = [
  'provider',
  'clientId',
  'authorizationEndpoint',
  'tokenEndpoint',
  'revocationEndpoint',
  'issuer',
  'tokenEndpointAuthMethod',
] as const satisfies readonly (keyof LinkConfiguration)[];

/** Fields whose change voids a grant (SPEC §5, §11): the link must be authorized again. */
export const GRANT_DEFINING_FIELDS = [
  ...SECRET_BOUND_FIELDS,
  'grantType',
  'scopes',
  'tenant',
  'cloud',
] as const satisfies readonly (keyof LinkConfiguration)[];

/** Which of `fields` differ between two configurations (null and undefined count as equal). */
export function changedFields<F extends string>(
  fields: readonly F[],
  before: Record<F, unknown>,
  after: Record<F, unknown>,
): F[] {
  return fields.filter(
    (field) => JSON.stringify(before[field] ?? null) !== JSON.stringify(after[field] ?? null),
  );
}

function checkEndpoint(
  field: string,
  value: string,
  allowInsecure: boolean,
  errors: FieldError[],
): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    errors.push({ field, message: `${field} must be an absolute URL` });
    return;
  }
  const allowed = allowInsecure ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(url.protocol)) {
    errors.push({
      field,
      message: allowInsecure
        ? `${field} must be an http(s) URL`
        : `${field} must be an https:// URL (http is allowed only with ALLOW_INSECURE_ENDPOINTS)`,
    });
  } else if (url.hash || url.username || url.password) {
    errors.push({ field, message: `${field} must not contain a fragment or credentials` });
  }
}

function checkAuthorizationParams(params: Record<string, unknown>, errors: FieldError[]): void {
  const entries = Object.entries(params);
  if (entries.length > MAX_AUTHORIZATION_PARAMS) {
    errors.push({
      field: 'authorizationParams',
      message: `at most ${MAX_AUTHORIZATION_PARAMS} parameters`,
    });
  }
  for (const [name, value] of entries) {
    const field = `authorizationParams.${name}`;
    if (!PARAM_NAME.test(name))
      errors.push({ field, message: 'parameter names are 1-64 letters, digits, _ . -' });
    else if (RESERVED_AUTHORIZATION_PARAMS.has(name))
      errors.push({ field, message: `${name} is set by Outlink` });
    if (typeof value !== 'string' || value.length > 1000) {
      errors.push({ field, message: 'parameter values are strings of at most 1000 characters' });
    }
  }
}

/**
 * Applies the provider preset to what the admin gave and checks the combination. Pure: the
 * caller does discovery when `needsDiscovery` is set.
 * @throws AppError validation_failed listing every problem
 */
export function resolveLinkConfiguration(
  input: LinkConfigurationInput,
  options: { allowInsecureEndpoints: boolean },
): LinkConfiguration {
  const errors: FieldError[] = [];
  const preset = getProviderPreset(input.provider);
  const isMicrosoft =
    preset.settingsDefaults.tenant !== null || preset.settingsDefaults.cloud !== null;

  if (!isMicrosoft) {
    for (const field of ['tenant', 'cloud'] as const) {
      if (input[field] != null)
        errors.push({ field, message: `${field} applies to the microsoft provider only` });
    }
  }
  const tenantIsValid = input.tenant == null || isValidMicrosoftTenant(input.tenant);
  if (isMicrosoft && !tenantIsValid) {
    errors.push({
      field: 'tenant',
      message: 'tenant must be organizations, common, consumers, a tenant id or a domain',
    });
  }
  const settings = {
    // An invalid tenant is reported above; the default stands in so the other checks still run.
    tenant: isMicrosoft
      ? ((tenantIsValid ? input.tenant : null) ?? preset.settingsDefaults.tenant)
      : null,
    cloud: isMicrosoft ? (input.cloud ?? preset.settingsDefaults.cloud) : null,
  };

  // SPEC §15: client credentials need a tenant that can issue app-only tokens.
  if (
    input.grantType === 'client_credentials' &&
    tenantIsValid &&
    settings.tenant !== null &&
    preset.clientCredentialsRefusedTenants.includes(settings.tenant)
  ) {
    errors.push({
      field: 'tenant',
      message: `client_credentials needs the tenant ID or a verified domain as tenant, not ${settings.tenant}`,
    });
  }

  const presetEndpoints = preset.endpoints(settings);
  let endpoints = {
    authorizationEndpoint: input.authorizationEndpoint ?? null,
    tokenEndpoint: input.tokenEndpoint ?? null,
    revocationEndpoint: input.revocationEndpoint ?? null,
    issuer: input.issuer ?? null,
  };
  const needsDiscovery = presetEndpoints === null && endpoints.issuer !== null;
  if (presetEndpoints) {
    for (const field of [
      'authorizationEndpoint',
      'tokenEndpoint',
      'revocationEndpoint',
      'issuer',
    ] as const) {
      if (endpoints[field] !== null && endpoints[field] !== presetEndpoints[field]) {
        errors.push({ field, message: `${field} is set by the ${preset.id} preset` });
      }
    }
    endpoints = { ...presetEndpoints };
  } else if (needsDiscovery) {
    for (const field of ['authorizationEndpoint', 'tokenEndpoint'] as const) {
      if (endpoints[field] !== null) {
        errors.push({ field, message: `give either issuer (discovery) or ${field}, not both` });
      }
    }
  } else {
    if (endpoints.tokenEndpoint === null) {
      errors.push({
        field: 'tokenEndpoint',
        message: 'tokenEndpoint is required for a custom link without issuer',
      });
    }
    if (input.grantType === 'authorization_code' && endpoints.authorizationEndpoint === null) {
      errors.push({
        field: 'authorizationEndpoint',
        message:
          'authorizationEndpoint is required for a custom authorization_code link without issuer',
      });
    }
  }
  for (const field of [
    'authorizationEndpoint',
    'tokenEndpoint',
    'revocationEndpoint',
    'issuer',
  ] as const) {
    const value = endpoints[field];
    if (value !== null) checkEndpoint(field, value, options.allowInsecureEndpoints, errors);
  }

  let scopes: string[] = [];
  if (input.scopes !== undefined && input.scopePreset !== undefined) {
    errors.push({ field: 'scopePreset', message: 'give either scopes or scopePreset, not both' });
  } else if (input.scopePreset !== undefined) {
    // SPEC §15: an app-only (client credentials) token is requested for a resource, not for
    // delegated permissions, so that grant has presets of its own.
    const appOnly = input.grantType === 'client_credentials';
    const presetScopes = (
      appOnly ? preset.clientCredentialsScopePresets(settings) : preset.scopePresets(settings)
    )[input.scopePreset];
    if (presetScopes) scopes = [...presetScopes];
    else
      errors.push({
        field: 'scopePreset',
        message: `the ${preset.id} provider has no ${input.scopePreset} preset${appOnly ? ' for client_credentials' : ''}`,
      });
  } else if (input.scopes !== undefined) {
    scopes = input.scopes;
  } else {
    errors.push({ field: 'scopes', message: 'give scopes or scopePreset' });
  }
  if (input.grantType === 'authorization_code')
    scopes = [...scopes, ...preset.alwaysRequestedScopes];
  scopes = [...new Set(scopes)];

  const authorizationParams = input.authorizationParams ?? {};
  checkAuthorizationParams(authorizationParams, errors);

  if (errors.length > 0) throw AppError.validation(errors);
  return {
    provider: input.provider,
    grantType: input.grantType,
    clientId: input.clientId,
    scopes,
    ...endpoints,
    tenant: settings.tenant,
    cloud: settings.cloud,
    authorizationParams,
    tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? 'client_secret_basic',
    pkce: input.pkce ?? true,
    needsDiscovery,
  };
}
