import { Injectable } from '@nestjs/common';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import {
  LINK_CLIENT_SECRET,
  LINK_NEXT_CLIENT_SECRET,
  LINK_PRIVATE_KEY,
  LINK_SERVICE_ACCOUNT_KEY,
} from '../database/encrypted-columns.js';
import { selfSignedCertificate } from '../providers/client-key.js';
import { serializeServiceAccountKey } from '../providers/service-account-key.js';
import type { PrivateKeyChange, ServiceAccountKeyChange } from './link-credentials.js';
import type { LinkEntity } from './link.entity.js';

/**
 * The link columns of each credential (client secret, next client secret, private key, service
 * account key), encrypted and bound to their row and column: the one place links/ encrypts them.
 */
@Injectable()
export class LinkCredentialColumns {
  constructor(private readonly keyRing: KeyRing) {}

  /** The columns of a next client secret (null: none). */
  nextClientSecret(
    id: string,
    secret: string | null,
    expiresAt: string | Date | null | undefined,
  ): Partial<LinkEntity> {
    return {
      nextClientSecretEncrypted:
        secret === null
          ? null
          : this.keyRing.encrypt(secret, encryptionContext(LINK_NEXT_CLIENT_SECRET, id)),
      hasNextClientSecret: secret !== null,
      nextClientSecretExpiresAt:
        secret === null || expiresAt === undefined || expiresAt === null
          ? null
          : new Date(expiresAt),
    };
  }

  /** The key columns for a key change: the encrypted key and a new self-signed certificate. */
  async privateKey(id: string, change: PrivateKeyChange): Promise<Partial<LinkEntity>> {
    switch (change.kind) {
      case 'keep':
        return {};
      case 'remove':
        return { privateKeyEncrypted: null, certificate: null };
      case 'set':
        return {
          privateKeyEncrypted: this.keyRing.encrypt(
            change.key.pkcs8Pem,
            encryptionContext(LINK_PRIVATE_KEY, id),
          ),
          certificate: await selfSignedCertificate(change.key, `Outlink link ${id}`, new Date()),
        };
    }
  }

  /** SPEC §15: the columns of a jwt_bearer link's service account key. */
  serviceAccountKey(id: string, change: ServiceAccountKeyChange): Partial<LinkEntity> {
    switch (change.kind) {
      case 'keep':
        return {};
      case 'remove':
        return { serviceAccountKeyEncrypted: null, hasServiceAccountKey: false };
      case 'set':
        return {
          serviceAccountKeyEncrypted: this.keyRing.encrypt(
            serializeServiceAccountKey(change.key),
            encryptionContext(LINK_SERVICE_ACCOUNT_KEY, id),
          ),
          hasServiceAccountKey: true,
        };
    }
  }

  /** The secret columns for a new client secret (null: none, a public client). */
  clientSecret(id: string, secret: string | null): Partial<LinkEntity> {
    return {
      clientSecretEncrypted:
        secret === null
          ? null
          : this.keyRing.encrypt(secret, encryptionContext(LINK_CLIENT_SECRET, id)),
      hasClientSecret: secret !== null,
    };
  }
}

/** An admin-given expiry (validated ISO 8601), or null for unknown. */
export function expiryDate(value: string | null | undefined): Date | null {
  return value === undefined || value === null ? null : new Date(value);
}
