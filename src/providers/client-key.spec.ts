import { describe, expect, it } from '@jest/globals';
import { compactVerify, importJWK, SignJWT } from 'jose';
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import {
  certificateThumbprint,
  ClientKeyError,
  describeCertificate,
  generateClientKey,
  parseClientKey,
  selfSignedCertificate,
  signingKeyOf,
} from './client-key.js';

const NOW = new Date('2026-01-01T00:00:00Z');

describe('client keys (SPEC §15 private_key_jwt)', () => {
  it('generates RSA 2048 keys and a self-signed certificate for them', async () => {
    const key = generateClientKey();
    expect(key.algorithm).toBe('RS256');
    const pem = await selfSignedCertificate(key, 'Outlink link 1', NOW);
    const certificate = new X509Certificate(pem);
    expect(certificate.subject).toBe('CN=Outlink link 1');
    expect(certificate.checkPrivateKey(createPrivateKey(key.pkcs8Pem))).toBe(true);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(new Date(certificate.validFrom).getTime()).toBe(NOW.getTime());
    expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('describes the certificate: its JWK verifies what the key signs, x5t#S256 is the DER hash', async () => {
    const key = generateClientKey();
    const pem = await selfSignedCertificate(key, 'x', NOW);
    const view = await describeCertificate(pem);
    const der = new X509Certificate(pem).raw;
    expect(view.x5tS256).toBe(createHash('sha256').update(der).digest('base64url'));
    expect(certificateThumbprint(pem)).toBe(view.x5tS256);
    expect(view.jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: view.x5tS256 });
    expect(view.jwk).not.toHaveProperty('d');
    expect(view.jwk.x5c).toEqual([der.toString('base64')]);
    const jwt = await new SignJWT({ a: 1 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(await signingKeyOf(key));
    await expect(compactVerify(jwt, await importJWK(view.jwk, 'RS256'))).resolves.toBeDefined();
  });

  it('reads PKCS#1, PKCS#8 and SEC1 keys; EC keys sign with ES256 / ES384', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
    expect(parseClientKey(rsa.export({ type: 'pkcs1', format: 'pem' }).toString())).toEqual({
      pkcs8Pem: rsa.export({ type: 'pkcs8', format: 'pem' }).toString(),
      algorithm: 'RS256',
    });
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const parsed = parseClientKey(p256.export({ type: 'sec1', format: 'pem' }).toString());
    expect(parsed.algorithm).toBe('ES256');
    const view = await describeCertificate(await selfSignedCertificate(parsed, 'ec', NOW));
    expect(view.jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    expect(parseClientKey(p384.export({ type: 'pkcs8', format: 'pem' }).toString()).algorithm).toBe(
      'ES384',
    );
  });

  it('refuses what it cannot use, without quoting the key', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const encrypted = pair.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'x',
    });
    const publicOnly = pair.publicKey.export({ type: 'spki', format: 'pem' });
    for (const [pem, message] of [
      ['not a key', /unencrypted PEM private key/],
      [weak.toString(), /at least 2048 bits/],
      [ed.toString(), /RSA .* or EC P-256\/P-384/],
      [encrypted.toString(), /unencrypted PEM private key/],
      [publicOnly.toString(), /unencrypted PEM private key/],
    ] as const) {
      let thrown: unknown;
      try {
        parseClientKey(pem);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ClientKeyError);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain('BEGIN');
    }
  });
});
