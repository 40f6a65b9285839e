// The ENCRYPTION_KEYS format (SPEC §8): read and checked with the rest of the configuration at
// boot, and generated for operators. The key ring that uses the keys lives in crypto/.
import { randomBytes } from 'node:crypto';

/** One AES-256 key of the ring, named by the id stored beside every ciphertext it produces. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const KEY_BYTES = 32;

/**
 * Parses the `ENCRYPTION_KEYS` format: comma-separated `keyId:base64Key` entries, each key exactly
 * 32 bytes of standard base64 (padding optional), ids unique.
 *
 * Every problem is collected instead of throwing, so config validation can report them all at
 * once. Messages name entries by position and never quote a key, nor an id that failed validation
 * (a misplaced key could sit in the id slot).
 *
 * @param value - the raw environment value
 * @returns the valid keys in their given order, and one human message per problem found
 */
export function parseEncryptionKeys(value: string): {
  keys: EncryptionKey[];
  problems: string[];
} {
  if (value.trim() === '') {
    return { keys: [], problems: ['no keys given; expected keyId:base64Key[,keyId:base64Key...]'] };
  }
  const keys: EncryptionKey[] = [];
  const problems: string[] = [];
  // Every well-formed id counts, even one whose key is bad, so a repeat is still reported.
  const seenIds = new Set<string>();
  value.split(',').forEach((rawEntry, index) => {
    const checked = checkEntry(rawEntry.trim(), `entry ${index + 1}`, seenIds);
    if (checked.key !== undefined) keys.push(checked.key);
    problems.push(...checked.problems);
  });
  return { keys, problems };
}

function checkEntry(
  entry: string,
  entryName: string,
  seenIds: Set<string>,
): { key?: EncryptionKey; problems: string[] } {
  if (entry === '') return { problems: [`${entryName} is empty`] };
  const separator = entry.indexOf(':');
  if (separator < 0) return { problems: [`${entryName} is not of the form keyId:base64Key`] };
  const id = entry.slice(0, separator);
  const problems: string[] = [];
  if (!KEY_ID_PATTERN.test(id)) {
    problems.push(`${entryName}: the key id must be 1-32 characters of A-Z, a-z, 0-9, _ or -`);
  } else if (seenIds.has(id)) {
    problems.push(`${entryName}: key id "${id}" is used more than once`);
  } else {
    seenIds.add(id);
  }
  const key = decodeStandardBase64(entry.slice(separator + 1));
  if (key === undefined) {
    problems.push(`${entryName}: the key is not valid standard base64`);
  } else if (key.length !== KEY_BYTES) {
    problems.push(`${entryName}: the key decodes to ${key.length} bytes, expected ${KEY_BYTES}`);
  }
  return problems.length === 0 && key !== undefined ? { key: { id, key }, problems } : { problems };
}

/**
 * Creates a fresh `ENCRYPTION_KEYS` entry for an operator to prepend when rotating keys.
 *
 * @param id - the key id; defaults to `k<YYYYMMDD UTC>-<4 random hex>`, unique enough to rotate
 *   more than once a day
 * @returns `"<id>:<standard base64 of 32 random bytes>"`
 * @throws Error when `id` is not 1-32 characters of A-Z, a-z, 0-9, _ or -
 */
export function generateEncryptionKeyEntry(id?: string): string {
  const keyId = id ?? defaultKeyId(new Date());
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw new Error('A key id must be 1-32 characters of A-Z, a-z, 0-9, _ or -.');
  }
  return `${keyId}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** Strict decoding: Node silently skips invalid characters and stray bits, which would hide typos. */
function decodeStandardBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, '');
  if (unpadded !== text && text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(unpadded, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === unpadded ? bytes : undefined;
}

function defaultKeyId(now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `k${day}-${randomBytes(2).toString('hex')}`;
}
