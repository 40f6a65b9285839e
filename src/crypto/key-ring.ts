import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** One AES-256 key of the ring, named by the id stored beside every ciphertext it produces. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';
const ENVELOPE_PREFIX = 'enc';
const ENVELOPE_VERSION = 'v1';

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

/** Why a value could not be decrypted; safe to log, as it carries no key and no plaintext. */
export type DecryptionFailure = 'malformed_envelope' | 'unknown_key_id' | 'authentication_failed';

/**
 * Thrown when an envelope cannot be decrypted. The message never contains key material or
 * plaintext, so it may be logged as is.
 */
export class DecryptionError extends Error {
  constructor(
    readonly reason: DecryptionFailure,
    message: string,
  ) {
    super(message);
    this.name = 'DecryptionError';
  }
}

/**
 * The keys of `ENCRYPTION_KEYS` (SPEC §8). The first key encrypts; every key decrypts the
 * envelopes that name its id, which is what lets keys rotate without downtime.
 *
 * Envelope: `enc:v1:<keyId>:<base64url iv>:<base64url ciphertext+tag>`, AES-256-GCM with a random
 * 12-byte IV and the caller's context as additional authenticated data.
 */
export class KeyRing {
  private readonly keysById = new Map<string, Buffer>();
  private readonly encryptingKeyId: string;

  /**
   * @param keys - at least one key; the first encrypts, all decrypt
   * @throws Error when the list is empty, an id is invalid or repeated, or a key is not 32 bytes
   */
  constructor(keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new Error('A key ring needs at least one encryption key.');
    for (const { id, key } of keys) {
      if (!KEY_ID_PATTERN.test(id)) throw new Error('An encryption key has an invalid id.');
      if (this.keysById.has(id)) throw new Error(`Encryption key id "${id}" is repeated.`);
      if (key.length !== KEY_BYTES) {
        throw new Error(`Encryption key "${id}" is not ${KEY_BYTES} bytes.`);
      }
      // A private copy, so a caller reusing its buffer cannot change the ring's keys.
      this.keysById.set(id, Buffer.from(key));
    }
    this.encryptingKeyId = keys[0].id;
  }

  /** The id of the key that new envelopes are encrypted under. */
  get currentKeyId(): string {
    return this.encryptingKeyId;
  }

  /**
   * Encrypts a value under the current key.
   *
   * @param plaintext - the secret to protect (any UTF-8 string, including empty)
   * @param context - where the value lives, e.g. `links:<uuid>:client_secret`; bound as GCM
   *   additional data so an envelope copied to another row or column fails to decrypt
   * @returns the envelope `enc:v1:<keyId>:<base64url iv>:<base64url ciphertext+tag>`
   * @throws Error when `context` is empty, since an unbound envelope could be moved undetected
   */
  encrypt(plaintext: string, context: string): string {
    if (context === '') throw new Error('An encryption context is required.');
    const key = this.keysById.get(this.encryptingKeyId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const sealed = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return [
      ENVELOPE_PREFIX,
      ENVELOPE_VERSION,
      this.encryptingKeyId,
      iv.toString('base64url'),
      sealed.toString('base64url'),
    ].join(':');
  }

  /**
   * Decrypts an envelope made by {@link KeyRing.encrypt}, with the key its id names.
   *
   * @param envelope - the stored envelope
   * @param context - the same context it was encrypted with
   * @returns the plaintext
   * @throws DecryptionError when the envelope is malformed, names a key not in the ring, or fails
   *   authentication (wrong key, wrong context, or tampered iv, ciphertext or tag)
   */
  decrypt(envelope: string, context: string): string {
    const { keyId, iv, sealed } = parseEnvelope(envelope);
    const key = this.keysById.get(keyId);
    if (key === undefined) {
      throw new DecryptionError(
        'unknown_key_id',
        `The encrypted value names key id "${keyId}", which is not in the key ring.`,
      );
    }
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      const plaintext = Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return plaintext.toString('utf8');
    } catch {
      // Node's own message says nothing useful; GCM cannot tell which of these it was.
      throw new DecryptionError(
        'authentication_failed',
        'The encrypted value failed authentication: wrong key, wrong context, or altered data.',
      );
    }
  }

  /**
   * Tells the key rotation whether an envelope should be rewritten under the current key.
   *
   * @param envelope - a stored envelope
   * @returns true when it names a key other than the current one
   * @throws DecryptionError when the envelope is malformed
   */
  needsReencryption(envelope: string): boolean {
    return parseEnvelope(envelope).keyId !== this.encryptingKeyId;
  }
}

function parseEnvelope(envelope: string): { keyId: string; iv: Buffer; sealed: Buffer } {
  const parts = envelope.split(':');
  if (parts.length === 5 && parts[0] === ENVELOPE_PREFIX && parts[1] === ENVELOPE_VERSION) {
    const [, , keyId, encodedIv, encodedSealed] = parts;
    const iv = decodeBase64Url(encodedIv);
    const sealed = decodeBase64Url(encodedSealed);
    if (
      KEY_ID_PATTERN.test(keyId) &&
      iv?.length === IV_BYTES &&
      sealed !== undefined &&
      sealed.length >= TAG_BYTES
    ) {
      return { keyId, iv, sealed };
    }
  }
  throw new DecryptionError('malformed_envelope', 'The encrypted value is not an enc:v1 envelope.');
}

/** Strict decoding: Node silently skips invalid characters and stray bits, which would hide typos. */
function decodeStandardBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, '');
  if (unpadded !== text && text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(unpadded, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === unpadded ? bytes : undefined;
}

/** Canonical only, so that an envelope has exactly one spelling and any edit to it is rejected. */
function decodeBase64Url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function defaultKeyId(now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `k${day}-${randomBytes(2).toString('hex')}`;
}
