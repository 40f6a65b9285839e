import type { EncryptedColumn } from '../crypto/encrypted-column.js';

/**
 * Every column that holds a secret encrypted with the key ring. `npm run keys:rotate` re-encrypts
 * exactly these, so each module that stores a secret column registers it here, next to the
 * migration that creates it; a column missing from this list would keep its old key forever and
 * become unreadable once that key is removed.
 *
 * The links feature will add the link's client secret, its access and refresh tokens, and the
 * PKCE verifiers of pending authorizations.
 */
export const ENCRYPTED_COLUMNS: EncryptedColumn[] = [];
