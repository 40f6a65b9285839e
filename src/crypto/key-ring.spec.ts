import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { DecryptionError, KeyRing } from './key-ring.js';
import {
  type EncryptionKey,
  generateEncryptionKeyEntry,
  parseEncryptionKeys,
} from '../config/encryption-keys.js';

const CONTEXT = 'links:3f1c2a7e-5b1d-4c4e-9a0b-1f2e3d4c5b6a:client_secret';

function newKey(id: string): EncryptionKey {
  return { id, key: randomBytes(32) };
}

/** Flips one bit of a decoded envelope part and re-encodes it, as an attacker editing a row would. */
function tamper(envelope: string, part: 'iv' | 'ciphertext' | 'tag'): string {
  const parts = envelope.split(':');
  const index = part === 'iv' ? 3 : 4;
  const bytes = Buffer.from(parts[index], 'base64url');
  const byteToFlip = part === 'tag' ? bytes.length - 1 : 0;
  bytes[byteToFlip] ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join(':');
}

function expectDecryptionFailure(action: () => unknown, reason: DecryptionError['reason']): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DecryptionError);
  expect((caught as DecryptionError).name).toBe('DecryptionError');
  expect((caught as DecryptionError).reason).toBe(reason);
}

describe('KeyRing', () => {
  it('decrypts what it encrypted', () => {
    const ring = new KeyRing([newKey('a')]);
    const envelope = ring.encrypt('s3cret-value', CONTEXT);
    expect(ring.decrypt(envelope, CONTEXT)).toBe('s3cret-value');
  });

  it('round-trips unicode plaintext', () => {
    const ring = new KeyRing([newKey('a')]);
    const plaintext = 'pässwörd 🔑 秘密 \u0000 end';
    expect(ring.decrypt(ring.encrypt(plaintext, CONTEXT), CONTEXT)).toBe(plaintext);
  });

  it('round-trips an empty plaintext', () => {
    const ring = new KeyRing([newKey('a')]);
    expect(ring.decrypt(ring.encrypt('', CONTEXT), CONTEXT)).toBe('');
  });

  it('gives two different envelopes for the same plaintext (random IV)', () => {
    const ring = new KeyRing([newKey('a')]);
    const first = ring.encrypt('same', CONTEXT);
    const second = ring.encrypt('same', CONTEXT);
    expect(first).not.toBe(second);
    expect(first.split(':')[3]).not.toBe(second.split(':')[3]);
  });

  it('writes an enc:v1 envelope naming the current key', () => {
    const ring = new KeyRing([newKey('k20250101-ab12'), newKey('old')]);
    const envelope = ring.encrypt('hello', CONTEXT);
    expect(envelope).toMatch(/^enc:v1:k20250101-ab12:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    // 5 bytes of plaintext plus the 16-byte tag.
    expect(Buffer.from(envelope.split(':')[4], 'base64url')).toHaveLength(5 + 16);
    expect(envelope).not.toContain('hello');
    expect(ring.currentKeyId).toBe('k20250101-ab12');
  });

  it('fails on an unknown key id', () => {
    const envelope = new KeyRing([newKey('a')]).encrypt('x', CONTEXT);
    expectDecryptionFailure(
      () => new KeyRing([newKey('b')]).decrypt(envelope, CONTEXT),
      'unknown_key_id',
    );
  });

  it('fails with a different key under the same id', () => {
    const envelope = new KeyRing([newKey('a')]).encrypt('x', CONTEXT);
    expectDecryptionFailure(
      () => new KeyRing([newKey('a')]).decrypt(envelope, CONTEXT),
      'authentication_failed',
    );
  });

  it.each(['ciphertext', 'tag', 'iv'] as const)('fails when the %s is tampered with', (part) => {
    const ring = new KeyRing([newKey('a')]);
    const envelope = ring.encrypt('some secret', CONTEXT);
    const tampered = tamper(envelope, part);
    expect(tampered).not.toBe(envelope);
    expectDecryptionFailure(() => ring.decrypt(tampered, CONTEXT), 'authentication_failed');
  });

  it('fails under another context, so an envelope cannot be moved to another row or column', () => {
    const ring = new KeyRing([newKey('a')]);
    const envelope = ring.encrypt('some secret', CONTEXT);
    const otherRow = 'links:00000000-0000-4000-8000-000000000000:client_secret';
    const otherColumn = CONTEXT.replace('client_secret', 'refresh_token');
    expectDecryptionFailure(() => ring.decrypt(envelope, otherRow), 'authentication_failed');
    expectDecryptionFailure(() => ring.decrypt(envelope, otherColumn), 'authentication_failed');
  });

  it.each([
    ['plain text', 'not-an-envelope'],
    ['another version', 'enc:v2:a:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA'],
    ['an iv of the wrong length', 'enc:v1:a:AAAA:AAAAAAAAAAAAAAAAAAAAAA'],
    ['a body shorter than the tag', 'enc:v1:a:AAAAAAAAAAAAAAAA:AAAA'],
    ['non-base64url characters', 'enc:v1:a:AAAAAAAAAAAAAAA+:AAAAAAAAAAAAAAAAAAAAAA'],
    ['an extra part', 'enc:v1:a:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA:x'],
  ])('rejects a malformed envelope: %s', (_case, envelope) => {
    const ring = new KeyRing([newKey('a')]);
    expectDecryptionFailure(() => ring.decrypt(envelope, CONTEXT), 'malformed_envelope');
    expectDecryptionFailure(() => ring.needsReencryption(envelope), 'malformed_envelope');
  });

  it('never puts the plaintext or the key in a decryption error message', () => {
    const key = newKey('a');
    const ring = new KeyRing([key]);
    const envelope = ring.encrypt('top-secret-plaintext', CONTEXT);
    const messages = [
      () => ring.decrypt(envelope, 'wrong context'),
      () => ring.decrypt(tamper(envelope, 'tag'), CONTEXT),
      () => ring.decrypt('garbage', CONTEXT),
    ].map((action) => {
      try {
        action();
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a DecryptionError');
    });
    for (const message of messages) {
      expect(message).not.toContain('top-secret-plaintext');
      expect(message).not.toContain(key.key.toString('base64'));
      expect(message).not.toContain(key.key.toString('base64url'));
    }
  });

  it('rotates: reads the old key, flags its envelopes, and stops reading once the key is gone', () => {
    const a = newKey('a');
    const b = newKey('b');
    const oldEnvelope = new KeyRing([a]).encrypt('rotate me', CONTEXT);

    const rotating = new KeyRing([b, a]);
    expect(rotating.decrypt(oldEnvelope, CONTEXT)).toBe('rotate me');
    expect(rotating.needsReencryption(oldEnvelope)).toBe(true);

    const newEnvelope = rotating.encrypt(rotating.decrypt(oldEnvelope, CONTEXT), CONTEXT);
    expect(newEnvelope.split(':')[2]).toBe('b');
    expect(rotating.needsReencryption(newEnvelope)).toBe(false);

    const rotated = new KeyRing([b]);
    expect(rotated.decrypt(newEnvelope, CONTEXT)).toBe('rotate me');
    expectDecryptionFailure(() => rotated.decrypt(oldEnvelope, CONTEXT), 'unknown_key_id');
  });

  it('refuses an empty context, which would leave the envelope unbound', () => {
    expect(() => new KeyRing([newKey('a')]).encrypt('x', '')).toThrow(/context/);
  });

  it('refuses an unusable list of keys', () => {
    expect(() => new KeyRing([])).toThrow(/at least one/);
    expect(() => new KeyRing([newKey('a'), newKey('a')])).toThrow(/repeated/);
    expect(() => new KeyRing([{ id: 'a', key: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => new KeyRing([newKey('has:colon')])).toThrow(/invalid id/);
  });
});

describe('parseEncryptionKeys', () => {
  it('parses a valid list in order, with or without base64 padding', () => {
    const first = randomBytes(32);
    const second = randomBytes(32);
    const unpadded = second.toString('base64').replace(/=+$/, '');
    const { keys, problems } = parseEncryptionKeys(
      `new:${first.toString('base64')}, old_1:${unpadded}`,
    );
    expect(problems).toEqual([]);
    expect(keys.map((key) => key.id)).toEqual(['new', 'old_1']);
    expect(keys[0].key.equals(first)).toBe(true);
    expect(keys[1].key.equals(second)).toBe(true);
  });

  it('reports every problem at once and never echoes key material', () => {
    const good = randomBytes(32).toString('base64');
    const short = randomBytes(16).toString('base64');
    const badBase64 = 'not*base64!' + good.slice(11);
    const misplacedKey = randomBytes(32).toString('base64');
    const value = [
      `bad id!:${good}`,
      `short:${short}`,
      `dup:${good}`,
      `dup:${randomBytes(32).toString('base64')}`,
      `garbled:${badBase64}`,
      misplacedKey,
      '  ',
      `ok:${randomBytes(32).toString('base64')}`,
    ].join(',');

    const { keys, problems } = parseEncryptionKeys(value);

    expect(keys.map((key) => key.id)).toEqual(['dup', 'ok']);
    expect(problems).toEqual([
      expect.stringMatching(/^entry 1: the key id must be/),
      'entry 2: the key decodes to 16 bytes, expected 32',
      'entry 4: key id "dup" is used more than once',
      'entry 5: the key is not valid standard base64',
      'entry 6 is not of the form keyId:base64Key',
      'entry 7 is empty',
    ]);
    for (const problem of problems) {
      for (const secret of [good, short, badBase64, misplacedKey]) {
        expect(problem).not.toContain(secret);
        expect(problem).not.toContain(secret.slice(0, 12));
      }
    }
  });

  it('reports an empty value', () => {
    expect(parseEncryptionKeys('   ')).toEqual({
      keys: [],
      problems: [expect.stringMatching(/no keys given/)],
    });
  });

  it('rejects base64url, misplaced padding and non-canonical trailing bits', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const standard = randomBytes(32).toString('base64'); // 43 data characters and one '='
    // The 43rd character carries 4 bits of key and 2 unused bits; Node would ignore a set one.
    const lastDataCharacter = alphabet[alphabet.indexOf(standard[42]) ^ 1];
    const strayBits = standard.slice(0, 42) + lastDataCharacter;
    const urlAlphabet = '-_' + standard.slice(2);
    for (const encoded of [urlAlphabet, `${standard}=`, `=${standard}`, strayBits]) {
      expect(parseEncryptionKeys(`a:${encoded}`).problems).toEqual([
        'entry 1: the key is not valid standard base64',
      ]);
    }
  });
});

describe('generateEncryptionKeyEntry', () => {
  it('makes an entry that parses back cleanly, with a dated default id', () => {
    const entry = generateEncryptionKeyEntry();
    const { keys, problems } = parseEncryptionKeys(entry);
    expect(problems).toEqual([]);
    expect(keys).toHaveLength(1);
    expect(keys[0].key).toHaveLength(32);
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    expect(keys[0].id).toMatch(new RegExp(`^k${today}-[0-9a-f]{4}$`));
    expect(new KeyRing(keys).currentKeyId).toBe(keys[0].id);
  });

  it('uses a given id and rejects an invalid one', () => {
    expect(generateEncryptionKeyEntry('primary')).toMatch(/^primary:[A-Za-z0-9+/]{43}=$/);
    expect(() => generateEncryptionKeyEntry('has space')).toThrow(/key id/);
  });

  it('makes a different key each time', () => {
    expect(generateEncryptionKeyEntry('a')).not.toBe(generateEncryptionKeyEntry('a'));
  });
});
