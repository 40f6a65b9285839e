import type { DataSource } from 'typeorm';
import { encryptionContext, type EncryptedColumn } from './encrypted-column.js';
import { DecryptionError, type KeyRing } from './key-ring.js';

export const DEFAULT_ROTATION_BATCH_SIZE = 500;

/** What the rotation did to one column. */
export interface ColumnRotationResult {
  /** `<table>.<column>` */
  column: string;
  /** Rows rewritten under the current key. */
  reencrypted: number;
  /**
   * Rows whose value changed between being read and being rewritten (the running service wrote
   * them). They are left as the service wrote them; a service restarted with the new key writes
   * under it anyway, and the next run picks up any that are still under an old key.
   */
  skipped: number;
}

/**
 * A stored value that no key of the ring can decrypt. The message names the row, never the value,
 * so it may be printed and logged.
 */
export class KeyRotationError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    readonly rowId: string,
    reason: string,
  ) {
    super(`Cannot re-encrypt ${table}.${column} of row ${rowId}: ${reason}`);
    this.name = 'KeyRotationError';
  }
}

/**
 * Re-encrypts every value of the given columns that is not yet under the ring's current key
 * (SPEC §8, `npm run keys:rotate`), while the service keeps running against the same database.
 *
 * Each column is walked in primary-key order, one batch at a time, and each row is rewritten
 * on its own with a compare-and-set on the value read, so nothing is locked across batches and a
 * value written by the service in the meantime is never overwritten by an older secret. A row
 * that lost such a race is counted as skipped; run the rotation again to pick it up if it is
 * still under an old key. Rows already rewritten stay rewritten when a later row fails.
 *
 * @param dataSource - an initialized connection to the database
 * @param keyRing - the ring of `ENCRYPTION_KEYS`: the current key plus every key still in use
 * @param columns - the encrypted columns, usually `ENCRYPTED_COLUMNS`
 * @param options - `batchSize`: rows read per query (default 500)
 * @returns one result per column, in the given order
 * @throws KeyRotationError when a value is not an envelope or no key of the ring decrypts it
 */
export async function reencryptColumns(
  dataSource: DataSource,
  keyRing: KeyRing,
  columns: EncryptedColumn[],
  options: { batchSize?: number } = {},
): Promise<ColumnRotationResult[]> {
  const batchSize = options.batchSize ?? DEFAULT_ROTATION_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error('The rotation batch size must be a positive integer.');
  }
  const results: ColumnRotationResult[] = [];
  for (const column of columns) {
    results.push(await reencryptColumn(dataSource, keyRing, column, batchSize));
  }
  return results;
}

async function reencryptColumn(
  dataSource: DataSource,
  keyRing: KeyRing,
  column: EncryptedColumn,
  batchSize: number,
): Promise<ColumnRotationResult> {
  const table = quoteIdentifier(column.table);
  const id = quoteIdentifier(column.idColumn);
  const value = quoteIdentifier(column.column);
  // starts_with rather than NOT LIKE 'enc:v1:<id>:%': key ids may contain "_", a LIKE wildcard,
  // which would take an old key "kx1" for the current "k_1" and leave its values behind.
  const stale = `${value} IS NOT NULL AND NOT starts_with(${value}, $1)`;
  const firstBatch = `SELECT ${id}::text AS id, ${value} AS value FROM ${table}
    WHERE ${stale} ORDER BY ${id} LIMIT $2`;
  // Keyset paging: every row is visited at most once per run, so the loop ends even when rows
  // are skipped or keep changing under it.
  const nextBatch = `SELECT ${id}::text AS id, ${value} AS value FROM ${table}
    WHERE ${stale} AND ${id} > $3 ORDER BY ${id} LIMIT $2`;
  const compareAndSet = `UPDATE ${table} SET ${value} = $3 WHERE ${id} = $1 AND ${value} = $2`;
  const currentPrefix = `enc:v1:${keyRing.currentKeyId}:`;

  const result: ColumnRotationResult = {
    column: `${column.table}.${column.column}`,
    reencrypted: 0,
    skipped: 0,
  };
  let lastId: string | undefined;
  for (;;) {
    const rows = await dataSource.query<{ id: string; value: string }[]>(
      lastId === undefined ? firstBatch : nextBatch,
      lastId === undefined ? [currentPrefix, batchSize] : [currentPrefix, batchSize, lastId],
    );
    for (const row of rows) {
      const context = encryptionContext(column, row.id);
      const replacement = keyRing.encrypt(decryptOrFail(keyRing, column, row, context), context);
      // Autocommit: each row is its own statement, so no transaction outlives a row.
      const [, updated] = await dataSource.query<[unknown[], number]>(compareAndSet, [
        row.id,
        row.value,
        replacement,
      ]);
      if (updated === 1) result.reencrypted += 1;
      else result.skipped += 1;
    }
    if (rows.length < batchSize) return result;
    lastId = rows[rows.length - 1].id;
  }
}

function decryptOrFail(
  keyRing: KeyRing,
  column: EncryptedColumn,
  row: { id: string; value: string },
  context: string,
): string {
  try {
    return keyRing.decrypt(row.value, context);
  } catch (error) {
    if (!(error instanceof DecryptionError)) throw error;
    // DecryptionError messages carry no key material and no part of the ciphertext.
    throw new KeyRotationError(column.table, column.column, row.id, error.message);
  }
}

/** Identifiers come from code, not input; quoting still keeps a reserved or odd name working. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
