import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { clientAuthentication, jwtBearerAssertion } from './client-authentication.js';
import { certificateThumbprint, generateClientKey, selfSignedCertificate } from './client-key.js';
import { ProviderCallError } from './provider-error.js';
import type { ProviderClientSettings } from './provider-client.types.js';
import { parseServiceAccountKey } from './service-account-key.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const TOKEN_ENDPOINT = 'https://as.example/oauth/token';

function settingsWith(overrides: Partial<ProviderClientSettings>): ProviderClientSettings {
  return {
    clientId: 'client 1',
    clientSecret: 's3cret:',
    tokenEndpointAuthMethod: 'client_secret_basic',
    server: {
      issuer: 'https://as.example',
      authorizationEndpoint: null,
      tokenEndpoint: TOKEN_ENDPOINT,
      revocationEndpoint: null,
    },
    ...overrides,
  };
}

/** What the chosen ClientAuth adds to a token request's body and headers. */
async function authenticate(
  settings: ProviderClientSettings,
): Promise<{ body: URLSearchParams; headers: Headers }> {
  const body = new URLSearchParams();
  const headers = new Headers();
  await Promise.resolve(
    clientAuthentication(settings)(
      { issuer: settings.server.issuer },
      { client_id: settings.clientId },
      body,
      headers,
    ),
  );
  return { body, headers };
}

function serviceAccountKey() {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return parseServiceAccountKey({
    type: 'service_account',
    private_key_id: 'kid-1',
    private_key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'svc@project.iam.gserviceaccount.com',
    token_uri: TOKEN_ENDPOINT,
  });
}

describe('client authentication at the token endpoint', () => {
  it('sends the secret as HTTP Basic or in the body, as the link says', async () => {
    const basic = await authenticate(settingsWith({}));
    const credentials = Buffer.from('client+1:s3cret%3A').toString('base64');
    expect(basic.headers.get('authorization')).toBe(`Basic ${credentials}`);
    expect(basic.body.has('client_secret')).toBe(false);

    const post = await authenticate(
      settingsWith({ tokenEndpointAuthMethod: 'client_secret_post' }),
    );
    expect(post.headers.get('authorization')).toBeNull();
    expect(Object.fromEntries(post.body)).toEqual({
      client_id: 'client 1',
      client_secret: 's3cret:',
    });
  });

  it('sends only the client id for a public client', async () => {
    const { body, headers } = await authenticate(settingsWith({ clientSecret: null }));
    expect(Object.fromEntries(body)).toEqual({ client_id: 'client 1' });
    expect(headers.get('authorization')).toBeNull();
  });

  it('sends nothing for a jwt-bearer link without a secret: the assertion names the client', async () => {
    const { body, headers } = await authenticate(
      settingsWith({
        clientSecret: null,
        assertionGrant: { key: serviceAccountKey(), subject: null },
      }),
    );
    expect([...body]).toEqual([]);
    expect([...headers]).toEqual([]);
  });

  it('signs a private_key_jwt assertion naming the certificate, for the token endpoint', async () => {
    const key = generateClientKey();
    const certificate = await selfSignedCertificate(key, 'Outlink link 1', NOW);
    const { body, headers } = await authenticate(
      settingsWith({
        tokenEndpointAuthMethod: 'private_key_jwt',
        privateKey: { key, certificate },
      }),
    );
    expect(headers.get('authorization')).toBeNull();
    expect(body.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    const assertion = body.get('client_assertion') ?? '';
    const thumbprint = certificateThumbprint(certificate);
    expect(decodeProtectedHeader(assertion)).toMatchObject({
      alg: 'RS256',
      kid: thumbprint,
      'x5t#S256': thumbprint,
    });
    expect(decodeJwt(assertion)).toMatchObject({
      iss: 'client 1',
      sub: 'client 1',
      aud: TOKEN_ENDPOINT,
    });
  });

  it('refuses private_key_jwt when the link has no key', async () => {
    await expect(
      authenticate(settingsWith({ tokenEndpointAuthMethod: 'private_key_jwt', privateKey: null })),
    ).rejects.toEqual(new ProviderCallError('rejected', 'the link has no private key'));
  });
});

describe('jwt-bearer grant assertions', () => {
  it('are issued by the client id, for the token endpoint, acting as the subject', async () => {
    const assertion = await jwtBearerAssertion(
      settingsWith({ clientSecret: null }),
      { key: serviceAccountKey(), subject: 'a@example.com' },
      ['s1', 's2'],
      NOW,
    );
    expect(decodeJwt(assertion)).toMatchObject({
      iss: 'client 1',
      sub: 'a@example.com',
      aud: TOKEN_ENDPOINT,
      scope: 's1 s2',
      iat: NOW.getTime() / 1000,
    });
  });
});
