import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { generatePkce, generateState } from './authorization-request-secrets.js';

describe('authorization request secrets', () => {
  it('makes a fresh base64url state of 32 random bytes each time', () => {
    const state = generateState();
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateState()).not.toBe(state);
  });

  it('makes an S256 PKCE pair: the challenge is the base64url SHA-256 of the verifier', async () => {
    const { verifier, challenge } = await generatePkce();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
    expect((await generatePkce()).verifier).not.toBe(verifier);
  });
});
