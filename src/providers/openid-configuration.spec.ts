import { describe, expect, it } from '@jest/globals';
import * as openid from 'openid-client';
import { openidConfiguration, type ProviderTransport } from './openid-configuration.js';
import type { OAuthServer, ProviderClientSettings } from './provider-client.types.js';

const fetchNothing: openid.CustomFetch = () => Promise.reject(new Error('no network in this test'));
const TRANSPORT: ProviderTransport = {
  timeoutSeconds: 7,
  allowInsecureEndpoints: false,
  fetch: fetchNothing,
};

function settingsFor(server: OAuthServer): ProviderClientSettings {
  return {
    clientId: 'client-1',
    clientSecret: 'secret',
    tokenEndpointAuthMethod: 'client_secret_post',
    server,
  };
}

describe('the openid-client Configuration of one request', () => {
  it('describes the link server as metadata, leaving out the endpoints it lacks', () => {
    const configuration = openidConfiguration(
      settingsFor({
        issuer: 'https://as.example',
        authorizationEndpoint: null,
        tokenEndpoint: 'https://as.example/token',
        revocationEndpoint: null,
      }),
      TRANSPORT,
    );
    expect(configuration.serverMetadata()).toEqual({
      issuer: 'https://as.example',
      token_endpoint: 'https://as.example/token',
    });
    expect(configuration.clientMetadata().client_id).toBe('client-1');
    expect(configuration.timeout).toBe(7);
    expect(configuration[openid.customFetch]).toBe(fetchNothing);
  });

  it('names every endpoint the link has', () => {
    const configuration = openidConfiguration(
      settingsFor({
        issuer: 'https://as.example',
        authorizationEndpoint: 'https://as.example/authorize',
        tokenEndpoint: 'https://as.example/token',
        revocationEndpoint: 'https://as.example/revoke',
        deviceAuthorizationEndpoint: 'https://as.example/device',
      }),
      TRANSPORT,
    );
    expect(configuration.serverMetadata()).toEqual({
      issuer: 'https://as.example',
      authorization_endpoint: 'https://as.example/authorize',
      token_endpoint: 'https://as.example/token',
      revocation_endpoint: 'https://as.example/revoke',
      device_authorization_endpoint: 'https://as.example/device',
    });
  });

  it('allows plain http endpoints only when insecure endpoints are allowed', () => {
    const settings = settingsFor({
      issuer: 'http://as.test',
      authorizationEndpoint: 'http://as.test/authorize',
      tokenEndpoint: 'http://as.test/token',
      revocationEndpoint: null,
    });
    const strict = openidConfiguration(settings, TRANSPORT);
    expect(() => openid.buildAuthorizationUrl(strict, {})).toThrow();
    const insecure = openidConfiguration(settings, { ...TRANSPORT, allowInsecureEndpoints: true });
    expect(openid.buildAuthorizationUrl(insecure, {}).href).toBe(
      'http://as.test/authorize?client_id=client-1&response_type=code',
    );
  });
});
