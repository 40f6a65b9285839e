import type { EncryptedColumn } from '../crypto/encrypted-column.js';

/**
 * Every column that holds a secret encrypted with the key ring. `npm run keys:rotate` re-encrypts
 * exactly these, so each module that stores a secret column registers it here, next to the
 * migration that creates it; a column missing from this list would keep its old key forever and
 * become unreadable once that key is removed.
 */
export const LINK_CLIENT_SECRET: EncryptedColumn = {
  table: 'links',
  idColumn: 'id',
  column: 'client_secret_encrypted',
};
export const LINK_ACCESS_TOKEN: EncryptedColumn = {
  table: 'links',
  idColumn: 'id',
  column: 'access_token_encrypted',
};
export const LINK_REFRESH_TOKEN: EncryptedColumn = {
  table: 'links',
  idColumn: 'id',
  column: 'refresh_token_encrypted',
};
export const AUTHORIZATION_CODE_VERIFIER: EncryptedColumn = {
  table: 'authorization_requests',
  idColumn: 'id',
  column: 'code_verifier_encrypted',
};
// SPEC §13 webhooks: the signing secret of each webhook.
export const WEBHOOK_SECRET: EncryptedColumn = {
  table: 'webhooks',
  idColumn: 'id',
  column: 'secret_encrypted',
};
// SPEC §15 device authorization: the device code being polled.
export const DEVICE_AUTHORIZATION_DEVICE_CODE: EncryptedColumn = {
  table: 'device_authorizations',
  idColumn: 'id',
  column: 'device_code_encrypted',
};

// SPEC §13 overlapping client secrets: the secret that replaces client_secret_encrypted.
export const LINK_NEXT_CLIENT_SECRET: EncryptedColumn = {
  table: 'links',
  idColumn: 'id',
  column: 'next_client_secret_encrypted',
};

// SPEC §15 private_key_jwt: the link's signing key.
export const LINK_PRIVATE_KEY: EncryptedColumn = {
  table: 'links',
  idColumn: 'id',
  column: 'private_key_encrypted',
};
// SPEC §15 jwt_bearer: the service account key file.
export const LINK_SERVICE_ACCOUNT_KEY: EncryptedColumn = {
  table: 'links',
  idColumn: 'id',
  column: 'service_account_key_encrypted',
};

export const ENCRYPTED_COLUMNS: EncryptedColumn[] = [
  LINK_CLIENT_SECRET,
  LINK_ACCESS_TOKEN,
  LINK_REFRESH_TOKEN,
  AUTHORIZATION_CODE_VERIFIER,
  // SPEC §13 webhooks
  WEBHOOK_SECRET,
  // SPEC §13 overlapping client secrets
  LINK_NEXT_CLIENT_SECRET,
  // SPEC §15 device authorization
  DEVICE_AUTHORIZATION_DEVICE_CODE,
  // SPEC §15
  LINK_PRIVATE_KEY,
  LINK_SERVICE_ACCOUNT_KEY,
];
