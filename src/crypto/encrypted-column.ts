/**
 * A database column that holds `enc:v1` envelopes (SPEC §8). Modules register theirs in
 * `database/encrypted-columns.ts`, which is how `npm run keys:rotate` finds every secret.
 */
export interface EncryptedColumn {
  /** The table name, unqualified and as created by the migrations (e.g. `links`). */
  table: string;
  /** The primary-key column whose value takes part in the encryption context (e.g. `id`). */
  idColumn: string;
  /** The column holding the envelope, or NULL when there is no secret (e.g. `client_secret`). */
  column: string;
}

/**
 * The additional authenticated data for a value of an encrypted column: `<table>:<rowId>:<column>`.
 *
 * Every module must encrypt and decrypt column values with exactly this context. It binds an
 * envelope to its row and column, so a ciphertext copied elsewhere fails to decrypt; and because
 * it is computed from the row alone, the key rotation can recompute it without knowing the module.
 *
 * @param column - the encrypted column the value lives in
 * @param rowId - the row's primary key as PostgreSQL prints it as text (a uuid in lower case)
 * @returns the context to pass to `KeyRing.encrypt` and `KeyRing.decrypt`
 */
export function encryptionContext(column: EncryptedColumn, rowId: string): string {
  return `${column.table}:${rowId}:${column.column}`;
}
