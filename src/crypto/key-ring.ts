import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KEY_BYTES, KEY_ID_PATTERN, type EncryptionKey } from '../config/encryption-keys.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';
const ENVELOPE_PREFIX = 'enc';
const ENVELOPE_VERSION = 'v1';

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

/** Canonical only, so that an envelope has exactly one spelling and any edit to it is rejected. */
function decodeBase64Url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
