import { describe, expect, it } from '@jest/globals';
import { hashApiKey } from './api-key-secret.js';
import { presentedKeyHash } from './presented-key-hash.js';

describe('presentedKeyHash', () => {
  const keyA = 'olk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const keyB = 'olk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB';

  it('is the SHA-256 the database keeps, for every key a connection presents in turn', () => {
    const connection = {};
    for (const key of [keyA, keyA, keyB, keyA, 'short', keyB])
      expect(presentedKeyHash(connection, key)).toBe(hashApiKey(key));
  });

  it('remembers only the last key, on its own connection', () => {
    const first = {};
    const second = {};
    presentedKeyHash(first, keyA);
    presentedKeyHash(second, keyB);
    expect(Object.getOwnPropertySymbols(first).map((s) => (first as never)[s])).toEqual([
      { key: keyA, hash: hashApiKey(keyA) },
    ]);
    expect(presentedKeyHash(first, keyB)).toBe(hashApiKey(keyB));
    expect(Object.getOwnPropertySymbols(first).map((s) => (first as never)[s])).toEqual([
      { key: keyB, hash: hashApiKey(keyB) },
    ]);
  });

  it('hashes without a connection to remember it on', () => {
    expect(presentedKeyHash(undefined, keyA)).toBe(hashApiKey(keyA));
  });
});
