import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { AppError } from '../common/app-error.js';
import { resolvePrivateKeyChange } from './link-credentials.js';
import { planLinkUpdate, type CurrentLink } from './link-patch.js';

const PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const fieldOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof AppError ? error.errors?.[0]?.field : 'not an AppError';
  }
  return undefined;
};

describe('resolvePrivateKeyChange (SPEC §15)', () => {
  it('uses an uploaded key, generates one when none is stored or null is given, else keeps it', () => {
    expect(resolvePrivateKeyChange('private_key_jwt', { privateKey: PEM }, true)).toMatchObject({
      kind: 'set',
      generated: false,
      key: { algorithm: 'ES256' },
    });
    expect(resolvePrivateKeyChange('private_key_jwt', {}, false)).toMatchObject({
      kind: 'set',
      generated: true,
      key: { algorithm: 'RS256' },
    });
    expect(resolvePrivateKeyChange('private_key_jwt', { privateKey: null }, true)).toMatchObject({
      kind: 'set',
      generated: true,
    });
    expect(resolvePrivateKeyChange('private_key_jwt', {}, true)).toEqual({ kind: 'keep' });
  });

  it('drops a stored key when the link leaves private_key_jwt', () => {
    expect(resolvePrivateKeyChange('client_secret_basic', {}, true)).toEqual({ kind: 'remove' });
    expect(resolvePrivateKeyChange('client_secret_post', { privateKey: null }, false)).toEqual({
      kind: 'keep',
    });
  });

  it('refuses a key with a secret method, a secret with private_key_jwt, and bad keys', () => {
    expect(
      fieldOf(() => resolvePrivateKeyChange('client_secret_basic', { privateKey: PEM }, false)),
    ).toBe('privateKey');
    expect(
      fieldOf(() => resolvePrivateKeyChange('private_key_jwt', { clientSecret: 's' }, false)),
    ).toBe('clientSecret');
    expect(
      fieldOf(() => resolvePrivateKeyChange('private_key_jwt', { privateKey: 'x' }, false)),
    ).toBe('privateKey');
  });
});

describe('planLinkUpdate with a private key (SPEC §15)', () => {
  const link: CurrentLink & Parameters<typeof planLinkUpdate>[0] = {
    provider: 'custom',
    grantType: 'client_credentials',
    clientId: 'client',
    scopes: ['a'],
    authorizationEndpoint: null,
    tokenEndpoint: 'https://idp.example.com/token',
    revocationEndpoint: null,
    issuer: null,
    discoveredMetadata: null,
    tenant: null,
    cloud: null,
    authorizationParams: {},
    tokenEndpointAuthMethod: 'private_key_jwt',
    pkce: true,
    status: 'connected',
    hasClientSecret: false,
    refreshTokenPresent: false,
    certificate: '-----BEGIN CERTIFICATE-----',
  };
  const moved = { ...link, tokenEndpoint: 'https://elsewhere.example.com/token' };

  it('needs a new key to change where assertions are sent', () => {
    expect(fieldOf(() => planLinkUpdate(link, moved, undefined))).toBe('privateKey');
    expect(planLinkUpdate(link, moved, undefined, { privateKey: true }).voidingChanges).toEqual([
      'tokenEndpoint',
      'privateKey',
    ]);
  });

  it('treats a new key as a grant-defining change', () => {
    expect(planLinkUpdate(link, link, undefined, { privateKey: true })).toEqual({
      voidingChanges: ['privateKey'],
      status: 'pending_authorization',
      statusReason: 'changed privateKey',
    });
    expect(planLinkUpdate(link, link, undefined, { privateKey: false }).voidingChanges).toEqual([]);
  });
});
