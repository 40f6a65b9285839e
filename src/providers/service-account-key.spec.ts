import { describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { ClientKeyError } from './client-key.js';
import {
  parseServiceAccountKey,
  serializeServiceAccountKey,
  signJwtBearerAssertion,
} from './service-account-key.js';

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const FILE = {
  type: 'service_account',
  private_key_id: 'abc',
  private_key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  client_email: 'svc@project.iam.gserviceaccount.com',
  token_uri: 'https://oauth2.googleapis.com/token',
};

describe('service account keys (SPEC §15 jwt_bearer)', () => {
  it('reads the key file as an object or text and keeps only what it uses', () => {
    const key = parseServiceAccountKey(JSON.stringify(FILE));
    expect(key).toMatchObject({
      clientEmail: FILE.client_email,
      privateKeyId: 'abc',
      tokenUri: FILE.token_uri,
      privateKey: { algorithm: 'RS256' },
    });
    expect(parseServiceAccountKey(FILE)).toEqual(key);
    expect(JSON.parse(serializeServiceAccountKey(key))).toEqual({
      client_email: FILE.client_email,
      private_key: FILE.private_key,
      private_key_id: 'abc',
      token_uri: FILE.token_uri,
    });
    expect(parseServiceAccountKey(serializeServiceAccountKey(key))).toEqual(key);
  });

  it('refuses what is not a usable key file, without quoting it', () => {
    for (const bad of [
      '{',
      [],
      { ...FILE, private_key: undefined },
      { ...FILE, private_key: 'x' },
      { ...FILE, client_email: 3 },
    ]) {
      let thrown: unknown;
      try {
        parseServiceAccountKey(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ClientKeyError);
      expect((thrown as Error).message).not.toContain('BEGIN');
    }
  });

  it('signs an assertion with iss, sub, aud, scope, a 5-minute expiry and the key id', async () => {
    const now = new Date();
    const assertion = await signJwtBearerAssertion(
      parseServiceAccountKey(FILE),
      {
        issuer: FILE.client_email,
        subject: 'a@example.com',
        audience: FILE.token_uri,
        scopes: ['s1', 's2'],
      },
      now,
    );
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'abc' });
    const { payload } = await jwtVerify(assertion, pair.publicKey, {
      issuer: FILE.client_email,
      subject: 'a@example.com',
      audience: FILE.token_uri,
    });
    expect(payload).toMatchObject({ scope: 's1 s2', iat: Math.floor(now.getTime() / 1000) });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(typeof payload.jti).toBe('string');
    const withoutSubject = await signJwtBearerAssertion(
      parseServiceAccountKey(FILE),
      { issuer: 'i', subject: null, audience: 'a', scopes: [] },
      now,
    );
    const { payload: bare } = await jwtVerify(withoutSubject, pair.publicKey);
    expect(bare).not.toHaveProperty('sub');
    expect(bare).not.toHaveProperty('scope');
  });
});
