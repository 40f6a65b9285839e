import { hash, randomInt, timingSafeEqual } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const API_KEY_PREFIX = 'olk_';
/** 43 base62 characters carry ~256 bits, well above SPEC §3's minimum of 32 characters. */
const API_KEY_RANDOM_LENGTH = 43;
export const API_KEY_PATTERN = /^olk_[A-Za-z0-9]{32,}$/;

/** A new API key: `olk_` + 43 uniformly random base62 characters (randomInt avoids modulo bias). */
export function generateApiKey(): string {
  let random = '';
  for (let i = 0; i < API_KEY_RANDOM_LENGTH; i++) random += BASE62[randomInt(BASE62.length)];
  return API_KEY_PREFIX + random;
}

/**
 * The stored form of a key. Keys are long random strings, not passwords, so a fast unsalted
 * SHA-256 is enough (no dictionary to attack) and lets a key be found by an indexed lookup.
 * The one-shot crypto.hash: every request hashes its key, and it costs a third of a Hash object.
 */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** Constant-time comparison of two hex hashes of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The first characters of a key, safe to show so that an admin can tell keys apart. */
export function apiKeyHint(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}
