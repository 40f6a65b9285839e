/**
 * The built-in provider presets (SPEC §4). Everything provider-specific lives here as data, so
 * the rest of the code asks a preset instead of testing `provider === 'google'`.
 */

import type { TokenEndpointAuthMethod } from './provider-client.types.js';

export const PROVIDER_IDS = ['google', 'microsoft', 'custom'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export const MICROSOFT_CLOUDS = ['global', 'usgov', 'china'] as const;
export type MicrosoftCloud = (typeof MICROSOFT_CLOUDS)[number];

export const SCOPE_PRESET_IDS = ['imap', 'pop3', 'smtp'] as const;
export type ScopePresetId = (typeof SCOPE_PRESET_IDS)[number];

/** What a preset can do (SPEC §15), shown by GET /v1/providers. */
export interface PresetSupport {
  /** Grant types a link of this provider can use. */
  grantTypes: string[];
  /** How the client can authenticate at the token endpoint. */
  tokenEndpointAuthMethods: TokenEndpointAuthMethod[];
  /** Device authorization (RFC 8628); custom: when the issuer's discovery document names it. */
  deviceFlow: boolean;
}

/** Per-link settings of a preset; only microsoft uses them, the others take nulls. */
export interface ProviderSettings {
  tenant: string | null;
  cloud: MicrosoftCloud | null;
}

export interface PresetEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint: string | null;
  /** expected `iss` (RFC 9207) / issuer */
  issuer: string | null;
}

export interface ProviderPreset {
  id: ProviderId;
  displayName: string;
  description: string;
  /**
   * Fixed endpoints, or null for custom (the admin gives endpoints or an issuer).
   * @throws RangeError for a microsoft tenant that fails {@link isValidMicrosoftTenant}:
   *   validate input before building URLs from it.
   */
  endpoints(settings: ProviderSettings): PresetEndpoints | null;
  /** Scope presets (imap/pop3/smtp) for these settings; {} when none. */
  scopePresets(settings: ProviderSettings): Partial<Record<ScopePresetId, string[]>>;
  /**
   * The RFC 8628 device authorization endpoint for these settings, or null when the preset
   * offers none for mail (custom: taken from the discovery document instead).
   */
  deviceAuthorizationEndpoint(settings: ProviderSettings): string | null;
  /**
   * Scope presets for the client-credentials grant (app-only access, SPEC §15), which names a
   * resource rather than delegated permissions; {} when the preset has none.
   */
  clientCredentialsScopePresets(
    settings: ProviderSettings,
  ): Partial<Record<ScopePresetId, string[]>>;
  /** Tenants that cannot issue client-credentials tokens (microsoft: the well-known ones). */
  clientCredentialsRefusedTenants: readonly string[];
  /** Scopes always requested for the authorization-code grant (microsoft: offline_access). */
  alwaysRequestedScopes: string[];
  /** Extra authorization request parameters (google: access_type=offline, prompt=consent); a link's own authorizationParams override them. */
  authorizationParams: Record<string, string>;
  /**
   * Which link fields the preset fills in, which the admin must give, which are optional.
   * An entry is a link field name, or alternatives: `a|b` means one of `a` or `b`, and
   * `a+b` means `a` and `b` together (custom: `authorizationEndpoint+tokenEndpoint|issuer`).
   */
  fields: { prefilled: string[]; required: string[]; optional: string[] };
  settingsDefaults: ProviderSettings;
  notes: string[];
  /** What to tell the admin when the token response had no refresh token. */
  missingRefreshTokenAdvice: string;
  supports: PresetSupport;
}

/** What the admin may put in each setting, for the providers API. */
export const PROVIDER_SETTING_DESCRIPTIONS: Readonly<Record<keyof ProviderSettings, string>> = {
  tenant:
    'Microsoft Entra tenant that replaces {tenant} in https://login.microsoftonline.com/{tenant}/' +
    'oauth2/v2.0/authorize and /token: "organizations" (work and school accounts of any tenant), ' +
    '"common" (work, school and personal accounts), "consumers" (personal accounts only), a ' +
    'tenant ID (GUID) or a verified domain such as contoso.onmicrosoft.com.',
  cloud:
    '"global" (login.microsoftonline.com, outlook.office.com) or "usgov" for GCC High and DoD ' +
    '(login.microsoftonline.us, outlook.office365.us), or "china" for Microsoft 365 operated by ' +
    '21Vianet (login.chinacloudapi.cn, partner.outlook.cn).',
};

export const MICROSOFT_WELL_KNOWN_TENANTS = ['organizations', 'common', 'consumers'] as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * Whether `tenant` may stand in the Microsoft login URL path: a well-known tenant
 * (organizations, common, consumers), a tenant ID (GUID) or a DNS domain name. Anything else
 * (slashes, dots-only segments, spaces, URLs) is refused, so a tenant can never change the
 * URL's path or host.
 */
export function isValidMicrosoftTenant(tenant: string): boolean {
  if ((MICROSOFT_WELL_KNOWN_TENANTS as readonly string[]).includes(tenant)) return true;
  if (GUID.test(tenant)) return true;
  if (tenant.length > 253) return false;
  const labels = tenant.split('.');
  return (
    labels.length >= 2 &&
    labels.every((label) => DNS_LABEL.test(label)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1])
  );
}

/**
 * Microsoft's national clouds: where their login endpoints and Exchange Online resource live.
 * `appOnlyMailResource` is the Exchange Online resource an app-only (client credentials) token for
 * IMAP, POP and SMTP is requested for, as `{resource}.default`.
 */
const MICROSOFT_CLOUD_HOSTS: Record<
  MicrosoftCloud,
  { login: string; outlookResource: string; appOnlyMailResource: string }
> = {
  global: {
    login: 'https://login.microsoftonline.com',
    outlookResource: 'https://outlook.office.com/',
    appOnlyMailResource: 'https://outlook.office365.com/',
  },
  usgov: {
    login: 'https://login.microsoftonline.us',
    outlookResource: 'https://outlook.office365.us/',
    appOnlyMailResource: 'https://outlook.office365.us/',
  },
  // SPEC §15: Microsoft 365 operated by 21Vianet.
  china: {
    login: 'https://login.chinacloudapi.cn',
    outlookResource: 'https://partner.outlook.cn/',
    appOnlyMailResource: 'https://partner.outlook.cn/',
  },
};

const GOOGLE_MAIL_SCOPE = 'https://mail.google.com/';

const NO_SETTINGS: ProviderSettings = { tenant: null, cloud: null };
const CLIENT_SECRET_METHODS: TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
];
// Entra certificate credentials and any server that takes RFC 7523 client assertions.
const CLIENT_SECRET_OR_KEY_METHODS: TokenEndpointAuthMethod[] = [
  ...CLIENT_SECRET_METHODS,
  'private_key_jwt',
];

const google: ProviderPreset = {
  id: 'google',
  displayName: 'Google',
  description:
    'Google accounts and Google Workspace: Gmail over IMAP, POP3 and SMTP with XOAUTH2, and Google APIs.',
  endpoints: () => ({
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
    revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
    issuer: 'https://accounts.google.com',
  }),
  scopePresets: () => ({
    imap: [GOOGLE_MAIL_SCOPE],
    pop3: [GOOGLE_MAIL_SCOPE],
    smtp: [GOOGLE_MAIL_SCOPE],
  }),
  // Google's device flow refuses the mail scope (it allows only a short list of scopes).
  deviceAuthorizationEndpoint: () => null,
  // Gmail has no app-only access: service accounts use jwt_bearer with a subject instead.
  clientCredentialsScopePresets: () => ({}),
  clientCredentialsRefusedTenants: [],
  alwaysRequestedScopes: [],
  // Without both, Google returns a refresh token only on the very first consent of a user.
  authorizationParams: { access_type: 'offline', prompt: 'consent' },
  fields: {
    prefilled: ['authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint', 'issuer'],
    required: ['name', 'clientId', 'clientSecret', 'scopes|scopePreset'],
    optional: ['tokenEndpointAuthMethod', 'pkce', 'authorizationParams'],
  },
  settingsDefaults: NO_SETTINGS,
  notes: [
    'An app whose OAuth consent screen is in "Testing" publishing status loses its refresh ' +
      'tokens after 7 days: publish the app ("In production"), or expect to authorize the link ' +
      'again every week.',
    'Google refuses redirect URIs on private, loopback or link-local IP addresses and plain ' +
      'http:// redirect URIs (except http://localhost): set PUBLIC_BASE_URL to a public https:// ' +
      'URL. GET /v1/oauth/redirect-url warns about these.',
    'Gmail IMAP, POP3 and SMTP with XOAUTH2 need the https://mail.google.com/ scope (the ' +
      'imap, pop3 and smtp scope presets). It is a restricted scope: an app used outside your ' +
      'own Workspace organisation needs Google verification.',
    'Google issues a refresh token only with access_type=offline and prompt=consent; the preset ' +
      "adds both to every authorization request unless the link's authorizationParams override them.",
    'Google has no client-credentials grant for user data: use the authorization_code grant.',
  ],
  missingRefreshTokenAdvice:
    'Google sends a refresh token only when the authorization request has access_type=offline ' +
    "and prompt=consent. The preset sets both; if the link's authorizationParams override them, " +
    "restore them. Then remove the app's access at https://myaccount.google.com/permissions and " +
    'authorize the link again.',
  supports: {
    // jwt_bearer: service accounts with domain-wide delegation (SPEC §15)
    grantTypes: ['authorization_code', 'jwt_bearer'],
    tokenEndpointAuthMethods: CLIENT_SECRET_METHODS,
    deviceFlow: false,
  },
};

function microsoftTarget(settings: ProviderSettings): { login: string; tenant: string } {
  const tenant = settings.tenant ?? microsoft.settingsDefaults.tenant!;
  if (!isValidMicrosoftTenant(tenant)) {
    throw new RangeError('A Microsoft tenant must be validated with isValidMicrosoftTenant');
  }
  const cloud = settings.cloud ?? microsoft.settingsDefaults.cloud!;
  return { login: MICROSOFT_CLOUD_HOSTS[cloud].login, tenant };
}

const microsoft: ProviderPreset = {
  id: 'microsoft',
  displayName: 'Microsoft',
  description:
    'Microsoft Entra ID (Azure AD) work and school accounts and personal Microsoft accounts: ' +
    'Exchange Online and Outlook.com over IMAP, POP3 and SMTP with XOAUTH2, and Microsoft Graph.',
  endpoints: (settings) => {
    const { login, tenant } = microsoftTarget(settings);
    return {
      authorizationEndpoint: `${login}/${tenant}/oauth2/v2.0/authorize`,
      tokenEndpoint: `${login}/${tenant}/oauth2/v2.0/token`,
      // Microsoft has no RFC 7009 revocation endpoint.
      revocationEndpoint: null,
      // For organizations/common/consumers the issuer Microsoft really uses names the user's
      // own tenant; an exact match is only possible with a tenant ID.
      issuer: `${login}/${tenant}/v2.0`,
    };
  },
  scopePresets: (settings) => {
    const { outlookResource } = MICROSOFT_CLOUD_HOSTS[settings.cloud ?? 'global'];
    return {
      imap: [`${outlookResource}IMAP.AccessAsUser.All`],
      pop3: [`${outlookResource}POP.AccessAsUser.All`],
      smtp: [`${outlookResource}SMTP.Send`],
    };
  },
  deviceAuthorizationEndpoint: (settings) => {
    const { login, tenant } = microsoftTarget(settings);
    return `${login}/${tenant}/oauth2/v2.0/devicecode`;
  },
  // Exchange Online app-only access: one `.default` scope for the resource; which protocols and
  // mailboxes the app may use is decided by its app permissions and Exchange mailbox permissions.
  clientCredentialsScopePresets: (settings) => {
    const { appOnlyMailResource } = MICROSOFT_CLOUD_HOSTS[settings.cloud ?? 'global'];
    const appOnly = [`${appOnlyMailResource}.default`];
    return { imap: appOnly, pop3: appOnly, smtp: appOnly };
  },
  // An app-only token belongs to one tenant: "organizations" or "common" name none.
  clientCredentialsRefusedTenants: MICROSOFT_WELL_KNOWN_TENANTS,
  alwaysRequestedScopes: ['offline_access'],
  authorizationParams: {},
  fields: {
    prefilled: ['authorizationEndpoint', 'tokenEndpoint', 'issuer'],
    required: ['name', 'clientId', 'clientSecret', 'scopes|scopePreset'],
    optional: [
      'tenant',
      'cloud',
      'grantType',
      'tokenEndpointAuthMethod',
      'pkce',
      'authorizationParams',
    ],
  },
  settingsDefaults: { tenant: 'organizations', cloud: 'global' },
  notes: [
    'Client secrets expire (at most 24 months after creation). An expired secret makes the ' +
      'token endpoint answer AADSTS7000222: create a new secret under "Certificates & secrets" of ' +
      'the app registration and PATCH the link with it.',
    'Refresh tokens expire after 90 days without use; Outlink refreshes every link that has been ' +
      'idle for 7 days so that they stay alive.',
    'Personal Microsoft accounts (outlook.com, hotmail.com) need tenant "consumers" or "common"; ' +
      'the default "organizations" accepts work and school accounts only.',
    'The mail scopes (IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send) need admin consent ' +
      'in many tenants: a tenant administrator grants it in the Entra admin center, or consents ' +
      'for the organisation when authorizing the link.',
    'Exchange Online must allow IMAP, POP or authenticated SMTP (SMTP AUTH) for the mailbox; ' +
      'SMTP AUTH is turned off by default in many tenants.',
    'For GCC High and DoD set cloud to "usgov": the endpoints move to login.microsoftonline.us ' +
      'and the mail scopes to https://outlook.office365.us/.',
    'App-only mail (SPEC §15): with grantType "client_credentials" and scopePreset imap, pop3 or ' +
      'smtp the link requests https://outlook.office365.com/.default (per cloud). Register the ' +
      'application permissions IMAP.AccessAsApp, POP.AccessAsApp or SMTP.SendAsApp of "Office 365 ' +
      'Exchange Online" with admin consent, register the app\'s service principal in Exchange ' +
      '(New-ServicePrincipal) and grant it each mailbox (Add-MailboxPermission); the token names ' +
      'no user, so consumers pass the mailbox as user to get xoauth2. Use a tenant ID or domain as tenant.',
  ],
  missingRefreshTokenAdvice:
    'Microsoft issues a refresh token only when the offline_access scope is requested and ' +
    'granted. The preset always requests it; make sure the app registration allows it (API ' +
    'permissions: offline_access, with admin consent where the tenant requires it) and authorize ' +
    'the link again.',
  supports: {
    grantTypes: ['authorization_code', 'client_credentials'],
    tokenEndpointAuthMethods: CLIENT_SECRET_OR_KEY_METHODS,
    deviceFlow: true,
  },
};

const custom: ProviderPreset = {
  id: 'custom',
  displayName: 'Custom',
  description:
    'Any OAuth 2.0 or OpenID Connect authorization server: give its authorization and token ' +
    'endpoints, or its issuer for discovery.',
  endpoints: () => null,
  scopePresets: () => ({}),
  deviceAuthorizationEndpoint: () => null,
  clientCredentialsScopePresets: () => ({}),
  clientCredentialsRefusedTenants: [],
  alwaysRequestedScopes: [],
  authorizationParams: {},
  fields: {
    prefilled: [],
    required: ['name', 'clientId', 'authorizationEndpoint+tokenEndpoint|issuer', 'scopes'],
    optional: [
      'revocationEndpoint',
      'clientSecret',
      'grantType',
      'tokenEndpointAuthMethod',
      'pkce',
      'authorizationParams',
    ],
  },
  settingsDefaults: NO_SETTINGS,
  notes: [
    'With issuer, the OpenID Connect (/.well-known/openid-configuration) or RFC 8414 ' +
      '(/.well-known/oauth-authorization-server) discovery document is fetched when the link is ' +
      'saved and stored with it, so the link keeps working while discovery is down.',
    'With explicit endpoints, the issuer expected in RFC 9207 "iss" authorization responses is ' +
      "the authorization endpoint's origin; with issuer it is the discovered issuer.",
    'Many servers issue refresh tokens only when a scope such as offline_access is requested, or ' +
      'when refresh tokens are enabled for the client on the server.',
    'Endpoints must be https:// URLs (http:// only with ALLOW_INSECURE_ENDPOINTS).',
  ],
  missingRefreshTokenAdvice:
    'The server issued no refresh token. Most servers issue one only when asked: request a scope ' +
    'such as offline_access, enable refresh tokens ("offline access") for the client on the ' +
    "server, or add prompt=consent to the link's authorizationParams; then authorize the link " +
    'again.',
  supports: {
    grantTypes: ['authorization_code', 'client_credentials', 'jwt_bearer'],
    tokenEndpointAuthMethods: CLIENT_SECRET_OR_KEY_METHODS,
    deviceFlow: true,
  },
};

/** The presets by id; a Record, so adding a PROVIDER_ID without a preset fails the type-check. */
const PRESETS_BY_ID: Record<ProviderId, ProviderPreset> = { google, microsoft, custom };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const nested of Object.values(value)) deepFreeze(nested);
  }
  return value;
}

/** Every preset, in PROVIDER_IDS order. Frozen: presets are shared by every link. */
export const PROVIDER_PRESETS: readonly ProviderPreset[] = deepFreeze(
  PROVIDER_IDS.map((id) => PRESETS_BY_ID[id]),
);

export function isProviderId(value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value);
}

export function getProviderPreset(id: ProviderId): ProviderPreset {
  return PRESETS_BY_ID[id];
}
