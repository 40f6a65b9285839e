import { describe, expect, it } from '@jest/globals';
import { AppError } from '../common/app-error.js';
import {
  auditedPatchFields,
  mergeLinkPatch,
  planLinkUpdate,
  type CurrentLink,
} from './link-patch.js';

const EXPLICIT: CurrentLink = {
  provider: 'custom',
  grantType: 'authorization_code',
  clientId: 'client',
  scopes: ['openid', 'offline_access'],
  authorizationEndpoint: 'https://idp.example.com/authorize',
  tokenEndpoint: 'https://idp.example.com/token',
  revocationEndpoint: null,
  issuer: 'https://idp.example.com',
  discoveredMetadata: null,
  tenant: null,
  cloud: null,
  authorizationParams: { prompt: 'consent' },
  tokenEndpointAuthMethod: 'client_secret_basic',
  pkce: true,
};
const DISCOVERED: CurrentLink = { ...EXPLICIT, discoveredMetadata: { issuer: EXPLICIT.issuer } };

describe('mergeLinkPatch', () => {
  it('applies the given fields over the stored ones; an explicit link derives its issuer', () => {
    const { input, keepsDiscovery } = mergeLinkPatch(EXPLICIT, { clientId: 'other', pkce: false });
    expect(input).toMatchObject({
      provider: 'custom',
      clientId: 'other',
      pkce: false,
      issuer: null,
      tokenEndpoint: EXPLICIT.tokenEndpoint,
      authorizationParams: { prompt: 'consent' },
    });
    expect(keepsDiscovery).toBe(false);
  });

  it('starts a new provider from its preset: the old endpoints and settings go', () => {
    const { input } = mergeLinkPatch(EXPLICIT, { provider: 'google', scopePreset: 'imap' });
    expect(input).toEqual({
      provider: 'google',
      grantType: 'authorization_code',
      clientId: 'client',
      scopePreset: 'imap',
    });
  });

  it('keeps the discovered endpoints while the issuer stays', () => {
    const { input, keepsDiscovery } = mergeLinkPatch(DISCOVERED, { scopes: ['openid'] });
    expect(keepsDiscovery).toBe(true);
    expect(input).toMatchObject({ issuer: EXPLICIT.issuer, tokenEndpoint: null });
  });

  it('discovers again for another issuer, and turns explicit when given endpoints', () => {
    const again = mergeLinkPatch(DISCOVERED, { issuer: 'https://other.example.com' });
    expect(again.keepsDiscovery).toBe(false);
    expect(again.input).toMatchObject({ issuer: 'https://other.example.com', tokenEndpoint: null });

    const explicit = mergeLinkPatch(DISCOVERED, { tokenEndpoint: 'https://idp.example.com/t2' });
    expect(explicit.keepsDiscovery).toBe(false);
    expect(explicit.input).toMatchObject({
      issuer: null,
      tokenEndpoint: 'https://idp.example.com/t2',
      authorizationEndpoint: EXPLICIT.authorizationEndpoint,
    });
  });

  it('lets a scope preset replace the stored scopes', () => {
    expect(mergeLinkPatch(EXPLICIT, { scopePreset: 'smtp' }).input.scopes).toBeUndefined();
  });
});

describe('planLinkUpdate', () => {
  const connected = {
    ...EXPLICIT,
    status: 'connected' as const,
    hasClientSecret: true,
    refreshTokenPresent: true,
  };
  const codeOf = (run: () => unknown): string | undefined => {
    try {
      run();
    } catch (error) {
      return error instanceof AppError ? error.code : 'not an AppError';
    }
    return undefined;
  };

  it('needs the client secret again when the secret would go somewhere else', () => {
    for (const change of [
      { revocationEndpoint: 'https://evil.example.com/revoke' },
      { tokenEndpoint: 'https://evil.example.com/token' },
      { tokenEndpointAuthMethod: 'client_secret_post' },
      { clientId: 'someone-else' },
      { provider: 'google' },
    ]) {
      expect(codeOf(() => planLinkUpdate(connected, { ...connected, ...change }, undefined))).toBe(
        'client_secret_required',
      );
      expect(planLinkUpdate(connected, { ...connected, ...change }, 'new').status).toBe(
        'pending_authorization',
      );
    }
  });

  it('needs no secret for a link that has none, or for changes that send it nowhere new', () => {
    const publicClient = { ...connected, hasClientSecret: false };
    const moved = { ...publicClient, tokenEndpoint: 'https://idp2.example.com/token' };
    expect(planLinkUpdate(publicClient, moved, undefined)).toEqual({
      voidingChanges: ['tokenEndpoint'],
      status: 'pending_authorization',
      statusReason: 'changed tokenEndpoint',
    });
    expect(planLinkUpdate(connected, { ...connected, scopes: ['openid'] }, undefined)).toEqual({
      voidingChanges: ['scopes'],
      status: 'pending_authorization',
      statusReason: 'changed scopes',
    });
  });

  it('returns a refused client to connected with a new secret, and changes nothing otherwise', () => {
    const refused = { ...connected, status: 'error' as const };
    expect(planLinkUpdate(refused, refused, 'new-secret')).toEqual({
      voidingChanges: [],
      status: 'connected',
      statusReason: 'new client secret',
    });
    expect(planLinkUpdate(connected, connected, undefined)).toEqual({
      voidingChanges: [],
      status: 'connected',
      statusReason: null,
    });
  });
});

describe('auditedPatchFields', () => {
  it('names the fields given, credentials as write-only, and leaves out those left undefined', () => {
    expect(
      auditedPatchFields(
        {
          name: 'n',
          clientSecret: 's',
          nextClientSecret: null,
          privateKey: 'pem',
          serviceAccountKey: {},
          scopes: undefined,
        },
        false,
      ),
    ).toEqual([
      'name',
      'clientSecret (write-only)',
      'nextClientSecret (write-only)',
      'privateKey (write-only)',
      'serviceAccountKey (write-only)',
    ]);
  });

  it('says when Outlink generated the private key', () => {
    expect(auditedPatchFields({ tokenEndpointAuthMethod: 'private_key_jwt' }, true)).toEqual([
      'tokenEndpointAuthMethod',
      'privateKey (generated)',
    ]);
  });
});
