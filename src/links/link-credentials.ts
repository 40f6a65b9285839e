import { AppError, type FieldError } from '../common/app-error.js';
import {
  ClientKeyError,
  generateClientKey,
  parseClientKey,
  type ClientKey,
} from '../providers/client-key.js';
import {
  parseServiceAccountKey,
  type ServiceAccountKey,
} from '../providers/service-account-key.js';
import type { GrantType, TOKEN_ENDPOINT_AUTH_METHODS } from './link.entity.js';

/** What a create or update does to the link's private key (SPEC §15 private_key_jwt). */
export type PrivateKeyChange =
  { kind: 'keep' } | { kind: 'remove' } | { kind: 'set'; key: ClientKey; generated: boolean };

/**
 * Decides the link's private key from its (resolved) authentication method and the request:
 * `private_key_jwt` uses the uploaded `privateKey`, or a key Outlink generates when the link has
 * none yet or the request says `privateKey: null`; other methods take no key, and drop a stored
 * one. Pure but for key generation.
 *
 * @param hasPrivateKey - whether the stored link has a key (false on create)
 * @throws AppError validation_failed for an unusable key, a key with another method, or a client
 *   secret with `private_key_jwt`
 */
export function resolvePrivateKeyChange(
  method: (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number],
  request: { privateKey?: string | null; clientSecret?: string | null },
  hasPrivateKey: boolean,
): PrivateKeyChange {
  if (method !== 'private_key_jwt') {
    if (typeof request.privateKey === 'string') {
      throw AppError.validation([
        {
          field: 'privateKey',
          message: 'privateKey applies to tokenEndpointAuthMethod private_key_jwt only',
        },
      ]);
    }
    return hasPrivateKey ? { kind: 'remove' } : { kind: 'keep' };
  }
  if (typeof request.clientSecret === 'string') {
    throw AppError.validation([
      {
        field: 'clientSecret',
        message: 'private_key_jwt authenticates with privateKey; give no clientSecret',
      },
    ]);
  }
  if (typeof request.privateKey === 'string') {
    try {
      return { kind: 'set', key: parseClientKey(request.privateKey), generated: false };
    } catch (error) {
      if (!(error instanceof ClientKeyError)) throw error;
      throw AppError.validation([{ field: 'privateKey', message: error.message }]);
    }
  }
  if (request.privateKey === null || !hasPrivateKey)
    return { kind: 'set', key: generateClientKey(), generated: true };
  return { kind: 'keep' };
}

/** What a create or update does to a jwt_bearer link's service account key (SPEC §15). */
export type ServiceAccountKeyChange =
  { kind: 'keep' } | { kind: 'remove' } | { kind: 'set'; key: ServiceAccountKey };

const SUBJECT = /^[^\s\p{Cc}]{1,320}$/u;

/**
 * Decides a link's service account key and subject: `jwt_bearer` needs a key (given now or
 * stored); other grants take none, and drop a stored one.
 *
 * @throws AppError validation_failed naming serviceAccountKey or subject
 */
export function resolveServiceAccountKeyChange(
  grantType: GrantType,
  request: { serviceAccountKey?: unknown; subject?: string | null },
  hasServiceAccountKey: boolean,
): ServiceAccountKeyChange {
  const given = request.serviceAccountKey;
  if (grantType !== 'jwt_bearer') {
    const errors: FieldError[] = [];
    if (given !== undefined && given !== null)
      errors.push({
        field: 'serviceAccountKey',
        message: 'serviceAccountKey applies to grantType jwt_bearer only',
      });
    if (typeof request.subject === 'string')
      errors.push({ field: 'subject', message: 'subject applies to grantType jwt_bearer only' });
    if (errors.length > 0) throw AppError.validation(errors);
    return hasServiceAccountKey ? { kind: 'remove' } : { kind: 'keep' };
  }
  if (typeof request.subject === 'string' && !SUBJECT.test(request.subject)) {
    throw AppError.validation([
      {
        field: 'subject',
        message: 'subject is 1-320 characters without whitespace or control characters',
      },
    ]);
  }
  if (given === undefined || given === null) {
    if (hasServiceAccountKey && given === undefined) return { kind: 'keep' };
    throw AppError.validation([
      { field: 'serviceAccountKey', message: 'grantType jwt_bearer needs a serviceAccountKey' },
    ]);
  }
  try {
    return { kind: 'set', key: parseServiceAccountKey(given) };
  } catch (error) {
    if (!(error instanceof ClientKeyError)) throw error;
    throw AppError.validation([{ field: 'serviceAccountKey', message: error.message }]);
  }
}

/**
 * The link fields a new service account key fills in (SPEC §15): clientId defaults to the key's
 * client_email, and a custom link's token endpoint to its token_uri unless the link sets one.
 * Presets keep their own endpoints (google: https://oauth2.googleapis.com/token).
 */
export function withServiceAccountDefaults<
  T extends {
    provider: string;
    clientId?: string;
    tokenEndpoint?: string | null;
    issuer?: string | null;
  },
>(input: T, change: ServiceAccountKeyChange, clientIdGiven: boolean): T {
  if (change.kind !== 'set') return input;
  const result = { ...input };
  if (!clientIdGiven && change.key.clientEmail !== null) result.clientId = change.key.clientEmail;
  if (
    input.provider === 'custom' &&
    input.tokenEndpoint == null &&
    input.issuer == null &&
    change.key.tokenUri !== null
  )
    result.tokenEndpoint = change.key.tokenUri;
  return result;
}
