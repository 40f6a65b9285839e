import {
  changedFields,
  GRANT_DEFINING_FIELDS,
  SECRET_BOUND_FIELDS,
  type LinkConfigurationInput,
} from './link-configuration.js';
import type { LinkEntity, LinkStatus } from './link.entity.js';
import { LinkErrors } from './links.errors.js';

/** What PATCH may change of a link's configuration (the DTO's fields, name and secret apart). */
export type LinkConfigurationPatch = Partial<LinkConfigurationInput>;

/** The stored link as the merge rules see it. */
export type CurrentLink = Pick<
  LinkEntity,
  | 'provider'
  | 'grantType'
  | 'clientId'
  | 'scopes'
  | 'authorizationEndpoint'
  | 'tokenEndpoint'
  | 'revocationEndpoint'
  | 'issuer'
  | 'discoveredMetadata'
  | 'tenant'
  | 'cloud'
  | 'authorizationParams'
  | 'tokenEndpointAuthMethod'
  | 'pkce'
>;

export interface MergedLinkPatch {
  /** The configuration to resolve: the stored one with the patch applied. */
  input: LinkConfigurationInput;
  /** The link keeps its discovered endpoints: the issuer and the discovery mode are unchanged. */
  keepsDiscovery: boolean;
}

/**
 * Applies a PATCH to a stored link's configuration (SPEC §5). Pure: the caller resolves the result
 * (presets, discovery). A new provider starts from its own preset: the old provider's endpoints
 * and settings go. A link made from discovery keeps its discovered endpoints unless the patch
 * names endpoints (it becomes explicit) or another issuer (discovered again).
 */
export function mergeLinkPatch(
  current: CurrentLink,
  patch: LinkConfigurationPatch,
): MergedLinkPatch {
  const providerChanged = patch.provider !== undefined && patch.provider !== current.provider;
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
  const input: LinkConfigurationInput = { ...base, ...withoutUndefined(patch) };
  if (patch.scopePreset !== undefined && patch.scopes === undefined) delete input.scopes;
  const usedDiscovery = current.discoveredMetadata !== null && !providerChanged;
  const givesEndpoints =
    patch.authorizationEndpoint !== undefined || patch.tokenEndpoint !== undefined;
  if (usedDiscovery && givesEndpoints && patch.issuer === undefined) input.issuer = null; // now explicit
  if (input.issuer) {
    // In discovery mode the stored endpoints came from the document, not from the admin.
    if (patch.authorizationEndpoint === undefined) input.authorizationEndpoint = null;
    if (patch.tokenEndpoint === undefined) input.tokenEndpoint = null;
  }
  return {
    input,
    keepsDiscovery: usedDiscovery && !!input.issuer && input.issuer === current.issuer,
  };
}

export interface LinkUpdatePlan {
  /** Fields whose change voids the grant: tokens dropped, authorization needed again. */
  voidingChanges: string[];
  /** The status after the update. */
  status: LinkStatus;
  /** Why the status changes, for the audit trail; null when it does not. */
  statusReason: string | null;
}

/**
 * What an update does to the link's grant (SPEC §5, §11). A change of where the secret and tokens
 * go needs the client secret in the same request; a grant-defining change voids the grant; a new
 * secret returns a link in `error` (the provider refused the client) to `connected` when it still
 * holds a refresh token.
 * @throws AppError client_secret_required
 */
export function planLinkUpdate(
  current: CurrentLink &
    Pick<LinkEntity, 'status' | 'hasClientSecret' | 'refreshTokenPresent'> &
    Partial<Pick<LinkEntity, 'certificate' | 'hasServiceAccountKey'>>,
  next: Record<(typeof GRANT_DEFINING_FIELDS)[number], unknown>,
  newClientSecret: string | null | undefined,
  newKeys: { privateKey?: boolean; serviceAccountKey?: boolean; subject?: boolean } = {},
): LinkUpdatePlan {
  const redirected = changedFields(SECRET_BOUND_FIELDS, current, next);
  const hasPrivateKey = current.certificate != null;
  const newPrivateKey = newKeys.privateKey === true;
  const newAccountKey = newKeys.serviceAccountKey === true;
  if (redirected.length > 0 && !newPrivateKey && !newAccountKey && newClientSecret === undefined) {
    // SPEC §15: a stored private key counts as the secret (a generated new key is a new one).
    if (current.hasClientSecret) throw LinkErrors.clientSecretRequired(redirected);
    if (hasPrivateKey) throw LinkErrors.clientSecretRequired(redirected, 'privateKey');
    if (current.hasServiceAccountKey === true)
      throw LinkErrors.clientSecretRequired(redirected, 'serviceAccountKey');
  }
  const voidingChanges: string[] = changedFields(GRANT_DEFINING_FIELDS, current, next);
  // SPEC §15: a new key, or another user to act as, is another grant.
  if (newPrivateKey && hasPrivateKey) voidingChanges.push('privateKey');
  if (newAccountKey && current.hasServiceAccountKey === true)
    voidingChanges.push('serviceAccountKey');
  if (newKeys.subject === true) voidingChanges.push('subject');
  if (voidingChanges.length > 0) {
    const status = 'pending_authorization';
    return {
      voidingChanges,
      status,
      statusReason: current.status === status ? null : `changed ${voidingChanges.join(', ')}`,
    };
  }
  if (newClientSecret && current.status === 'error' && current.refreshTokenPresent)
    return { voidingChanges, status: 'connected', statusReason: 'new client secret' };
  return { voidingChanges, status: current.status, statusReason: null };
}

/** Credentials a PATCH may carry: the audit trail names them, never their values. */
const WRITE_ONLY_FIELDS: readonly string[] = [
  'clientSecret',
  'nextClientSecret',
  'privateKey',
  'serviceAccountKey',
];

/**
 * The fields a PATCH gave, for the audit trail's `updated` event: credentials marked write-only,
 * and a private key Outlink generated named as such.
 */
export function auditedPatchFields(patch: object, generatedKey: boolean): string[] {
  const fields = Object.keys(withoutUndefined(patch)).map((field) =>
    WRITE_ONLY_FIELDS.includes(field) ? `${field} (write-only)` : field,
  );
  if (generatedKey) fields.push('privateKey (generated)');
  return fields;
}

export function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}
