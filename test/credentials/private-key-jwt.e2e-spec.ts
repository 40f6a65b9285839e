import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { LINK_PRIVATE_KEY } from '../../src/database/encrypted-columns.js';
import {
  authorizeLink,
  createCustomLink,
  expireStoredToken,
  linkOf,
  rotateKeysAndReadBack,
  storedSecret,
  tokenOf,
} from '../support/connected-link.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

/** SPEC §15: private_key_jwt client authentication (RFC 7523) against a real oidc-provider. */
describe(`private_key_jwt (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ALLOW_INSECURE_ENDPOINTS: 'true',
        PUBLIC_BASE_URL: 'http://127.0.0.1:39998',
        REFRESH_CHECK_INTERVAL_SECONDS: '3600',
        MIN_REFRESH_INTERVAL_SECONDS: '0',
      },
    });
    provider = await startTestProvider({ redirectUri: t.config.redirectUrl });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  /** A client-credentials link authenticating with a key, and a provider client knowing its JWK. */
  async function keyLink(clientId: string, overrides: Record<string, unknown> = {}) {
    const link = await createCustomLink(t, provider, {
      clientId,
      clientSecret: undefined,
      grantType: 'client_credentials',
      authorizationEndpoint: undefined,
      authorizationParams: undefined,
      scopes: [provider.customScope],
      tokenEndpointAuthMethod: 'private_key_jwt',
      ...overrides,
    });
    const certificate = await t
      .http()
      .get(`/v1/links/${link.id}/certificate`)
      .set(bearer(t.adminKey))
      .expect(200);
    provider.registerClient({
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [certificate.body.jwk] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    });
    return { link, certificate: certificate.body };
  }

  it('generates a key, shows its certificate, and gets tokens with assertions signed by it', async () => {
    const { link, certificate } = await keyLink('pkjwt-generated');
    expect(link).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', hasPrivateKey: true });
    expect(link).not.toHaveProperty('privateKey');
    expect(link.hasClientSecret).toBe(false);

    const x509 = new X509Certificate(certificate.pem);
    expect(x509.publicKey.asymmetricKeyType).toBe('rsa');
    expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(certificate.x5tS256).toBe(createHash('sha256').update(x509.raw).digest('base64url'));
    expect(certificate.jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', kid: certificate.x5tS256 });
    expect(certificate.jwk).not.toHaveProperty('d');
    expect(JSON.stringify(certificate)).not.toContain('PRIVATE KEY');

    // Encrypted at rest, and the stored key is the certificate's.
    const [row] = await t.dataSource.query(
      'SELECT private_key_encrypted FROM links WHERE id = $1',
      [link.id],
    );
    expect(row.private_key_encrypted).toMatch(/^enc:v1:/);
    const storedKey = await storedSecret(t, LINK_PRIVATE_KEY, link.id);
    expect(x509.checkPrivateKey(createPrivateKey(storedKey))).toBe(true);

    const before = provider.grantCounts().client_credentials ?? 0;
    const token = await tokenOf(t, link.id, '?minValidity=0').expect(200);
    expect(token.body.accessToken.length).toBeGreaterThan(10);
    expect(provider.grantCounts().client_credentials).toBe(before + 1);
    expect((await linkOf(t, link.id)).status).toBe('connected');
    // A second assertion (a new jti) is accepted too: no replay refusal.
    await t.http().post(`/v1/links/${link.id}/refresh`).set(bearer(t.adminKey)).expect(200);
  });

  it('exchanges the authorization code and refreshes with assertions', async () => {
    const clientId = 'pkjwt-code';
    const link = await createCustomLink(t, provider, {
      clientId,
      clientSecret: undefined,
      tokenEndpointAuthMethod: 'private_key_jwt',
    });
    const { jwk } = (
      await t.http().get(`/v1/links/${link.id}/certificate`).set(bearer(t.adminKey)).expect(200)
    ).body;
    provider.registerClient({
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [t.config.redirectUrl],
    });
    await authorizeLink(t, link.id);
    expect(await linkOf(t, link.id)).toMatchObject({
      status: 'connected',
      refreshTokenPresent: true,
    });
    const refreshes = provider.grantCounts().refresh_token ?? 0;
    await expireStoredToken(t, link.id);
    await tokenOf(t, link.id).expect(200);
    expect(provider.grantCounts().refresh_token).toBe(refreshes + 1);
  });

  it('uses an uploaded EC key (ES256), never returning it', async () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const { link, certificate } = await keyLink('pkjwt-uploaded', { privateKey: pem });
    expect(certificate.jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    await tokenOf(t, link.id, '?minValidity=0').expect(200);
    const everything = JSON.stringify([
      (await t.http().get(`/v1/links/${link.id}`).set(bearer(t.adminKey))).body,
      (await t.http().get(`/v1/links/${link.id}/events`).set(bearer(t.adminKey))).body,
      (await t.http().get('/v1/links?limit=100').set(bearer(t.adminKey))).body,
    ]);
    expect(everything).not.toContain(pem.split('\n')[1]);
  });

  it('is refused with another key: the link shows invalid_client', async () => {
    const { link } = await keyLink('pkjwt-rotated');
    await tokenOf(t, link.id, '?minValidity=0').expect(200);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const patched = await t
      .http()
      .patch(`/v1/links/${link.id}`)
      .set(bearer(t.adminKey))
      .send({ privateKey: other })
      .expect(200);
    // A new key is a grant-defining change: the old token is gone.
    expect(patched.body).toMatchObject({
      status: 'pending_authorization',
      accessTokenExpiresAt: null,
    });
    const refused = await tokenOf(t, link.id, '?minValidity=0');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('link_error');
    const shown = await linkOf(t, link.id);
    expect(shown.status).toBe('error');
    expect(shown.lastError.code).toBe('invalid_client');
  });

  it('needs the key again to change where assertions go, and answers 409 for a link without a key', async () => {
    const { link } = await keyLink('pkjwt-redirect');
    const refused = await t
      .http()
      .patch(`/v1/links/${link.id}`)
      .set(bearer(t.adminKey))
      .send({ tokenEndpoint: `${provider.issuer}/other-token` })
      .expect(400);
    expect(refused.body).toMatchObject({
      code: 'client_secret_required',
      errors: [{ field: 'privateKey' }],
    });
    const certificateBefore = (
      await t.http().get(`/v1/links/${link.id}/certificate`).set(bearer(t.adminKey))
    ).body;
    // null: Outlink generates a new key (and certificate).
    await t
      .http()
      .patch(`/v1/links/${link.id}`)
      .set(bearer(t.adminKey))
      .send({ tokenEndpoint: `${provider.issuer}/other-token`, privateKey: null })
      .expect(200);
    const certificateAfter = (
      await t.http().get(`/v1/links/${link.id}/certificate`).set(bearer(t.adminKey))
    ).body;
    expect(certificateAfter.x5tS256).not.toBe(certificateBefore.x5tS256);

    const plain = await createCustomLink(t, provider);
    const none = await t
      .http()
      .get(`/v1/links/${plain.id}/certificate`)
      .set(bearer(t.adminKey))
      .expect(409);
    expect(none.body.code).toBe('conflict');
    expect(plain.hasPrivateKey).toBe(false);
  });

  it('refuses unusable keys and keys with other methods, changing nothing', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const cases: [Record<string, unknown>, string][] = [
      [{ tokenEndpointAuthMethod: 'private_key_jwt', privateKey: 'not a key' }, 'privateKey'],
      [{ tokenEndpointAuthMethod: 'private_key_jwt', privateKey: weak }, 'privateKey'],
      [{ tokenEndpointAuthMethod: 'private_key_jwt', clientSecret: 'x' }, 'clientSecret'],
      [{ privateKey: weak }, 'privateKey'],
      [{ tokenEndpointAuthMethod: 'private_key_jwt', privateKey: 42 }, 'privateKey'],
    ];
    const [{ count: before }] = await t.dataSource.query(
      'SELECT count(*)::int AS count FROM links',
    );
    for (const [body, field] of cases) {
      const response = await t
        .http()
        .post('/v1/links')
        .set(bearer(t.adminKey))
        .send({
          name: 'x',
          provider: 'custom',
          clientId: 'c',
          grantType: 'client_credentials',
          tokenEndpoint: `${provider.issuer}/token`,
          scopes: ['a'],
          ...body,
        });
      expect({ status: response.status, code: response.body.code }).toEqual({
        status: 400,
        code: 'validation_failed',
      });
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
      expect(JSON.stringify(response.body)).not.toContain('PRIVATE KEY');
    }
    const [{ count: after }] = await t.dataSource.query('SELECT count(*)::int AS count FROM links');
    expect(after).toBe(before);
  });

  it('keys:rotate re-encrypts private keys', async () => {
    const { link } = await keyLink('pkjwt-rotation');
    const { results } = await rotateKeysAndReadBack(t, LINK_PRIVATE_KEY, link.id);
    expect(results).toContainEqual({
      column: 'links.private_key_encrypted',
      reencrypted: expect.any(Number),
      skipped: 0,
    });
  });
});
