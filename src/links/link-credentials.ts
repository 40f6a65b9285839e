import { AppError } from '../common/app-error.js';
import {
  ClientKeyError,
  generateClientKey,
  parseClientKey,
  type ClientKey,
} from '../providers/client-key.js';
import type { TOKEN_ENDPOINT_AUTH_METHODS } from './link.entity.js';

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
