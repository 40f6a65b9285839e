import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LINK_SERVICE_ACCOUNT_KEY } from '../../src/database/encrypted-columns.js';
import { linkOf, rotateKeysAndReadBack, storedSecret, tokenOf } from '../support/connected-link.js';
import {
  JWT_BEARER_GRANT,
  startTestProvider,
  type TestProvider,
} from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const ACCOUNT = 'mailer@outlink-test.iam.gserviceaccount.com';
const newRsaKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

/**
 * SPEC §15: the RFC 7523 jwt-bearer grant with a (Google-format) service account key, against a
 * real oidc-provider whose jwt-bearer grant checks the assertion's signature, iss, sub, aud, exp.
 */
describe(`jwt_bearer (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;
  const account = newRsaKey();
  const accountPem = account.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const clientSecret = 'jwt-bearer-client-secret';
  let keyFile: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ALLOW_INSECURE_ENDPOINTS: 'true',
        PUBLIC_BASE_URL: 'http://127.0.0.1:39998',
        REFRESH_CHECK_INTERVAL_SECONDS: '3600',
        MIN_REFRESH_INTERVAL_SECONDS: '0',
      },
    });
    provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      jwtBearer: { publicKey: account.publicKey, issuer: ACCOUNT },
    });
    // oidc-provider identifies a client before any grant, so the test client also has a secret
    // (RFC 7523 §2.1 allows client authentication beside the assertion; Google needs none).
    provider.registerClient({
      client_id: ACCOUNT,
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [JWT_BEARER_GRANT],
      response_types: [],
      redirect_uris: [],
    });
    keyFile = {
      type: 'service_account',
      project_id: 'outlink-test',
      private_key_id: 'key-1',
      private_key: accountPem,
      client_email: ACCOUNT,
      client_id: '1234567890',
      token_uri: `${provider.issuer}/token`,
    };
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  const createLink = (body: Record<string, unknown>) =>
    t
      .http()
      .post('/v1/links')
      .set(bearer(t.adminKey))
      .send({
        name: 'Service account',
        provider: 'custom',
        grantType: 'jwt_bearer',
        clientSecret,
        scopes: [provider.customScope],
        serviceAccountKey: keyFile,
        subject: 'alice@example.com',
        ...body,
      });

  it('takes clientId and token endpoint from the key file and gets tokens as the subject', async () => {
    const created = (await createLink({}).expect(201)).body;
    expect(created).toMatchObject({
      grantType: 'jwt_bearer',
      clientId: ACCOUNT,
      tokenEndpoint: `${provider.issuer}/token`,
      hasServiceAccountKey: true,
      subject: 'alice@example.com',
      status: 'pending_authorization',
    });
    expect(created).not.toHaveProperty('serviceAccountKey');
    const [row] = await t.dataSource.query(
      'SELECT service_account_key_encrypted FROM links WHERE id = $1',
      [created.id],
    );
    expect(row.service_account_key_encrypted).toMatch(/^enc:v1:/);
    expect(JSON.parse(await storedSecret(t, LINK_SERVICE_ACCOUNT_KEY, created.id))).toMatchObject({
      client_email: ACCOUNT,
      private_key_id: 'key-1',
    });

    const before = provider.grantCounts()[JWT_BEARER_GRANT] ?? 0;
    const token = await tokenOf(t, created.id, '?minValidity=0&user=alice%40example.com').expect(
      200,
    );
    expect(token.body.accessToken.length).toBeGreaterThan(10);
    expect(token.body.scopes).toEqual([provider.customScope]);
    expect(provider.lastJwtBearerSubject()).toBe('alice@example.com');
    expect(provider.grantCounts()[JWT_BEARER_GRANT]).toBe(before + 1);
    expect(await linkOf(t, created.id)).toMatchObject({
      status: 'connected',
      refreshTokenPresent: false,
      lastError: null,
    });
    // Each renewal signs a fresh assertion (a new jti and iat), which the provider accepts.
    const renewed = await t
      .http()
      .post(`/v1/links/${created.id}/refresh`)
      .set(bearer(t.adminKey))
      .expect(200);
    expect(renewed.body.accessToken).not.toBe(token.body.accessToken);
    expect(provider.grantCounts()[JWT_BEARER_GRANT]).toBe(before + 2);

    const shown = JSON.stringify([
      (await t.http().get(`/v1/links/${created.id}`).set(bearer(t.adminKey))).body,
      (await t.http().get(`/v1/links/${created.id}/events`).set(bearer(t.adminKey))).body,
    ]);
    expect(shown).not.toContain(accountPem.split('\n')[1]);
  });

  it('takes the key file as text, and a new subject is a new grant', async () => {
    const created = (
      await createLink({
        serviceAccountKey: JSON.stringify(keyFile),
        subject: 'bob@example.com',
      }).expect(201)
    ).body;
    await tokenOf(t, created.id, '?minValidity=0').expect(200);
    expect(provider.lastJwtBearerSubject()).toBe('bob@example.com');
    const patched = await t
      .http()
      .patch(`/v1/links/${created.id}`)
      .set(bearer(t.adminKey))
      .send({ subject: 'carol@example.com' })
      .expect(200);
    expect(patched.body).toMatchObject({
      status: 'pending_authorization',
      accessTokenExpiresAt: null,
    });
    await tokenOf(t, created.id, '?minValidity=0').expect(200);
    expect(provider.lastJwtBearerSubject()).toBe('carol@example.com');
  });

  it('shows a clear lastError when the provider refuses the assertion: wrong key', async () => {
    const otherPem = newRsaKey().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const created = (
      await createLink({ serviceAccountKey: { ...keyFile, private_key: otherPem } }).expect(201)
    ).body;
    const refused = await tokenOf(t, created.id, '?minValidity=0');
    expect({ status: refused.status, code: refused.body.code }).toEqual({
      status: 409,
      code: 'link_error',
    });
    const link = await linkOf(t, created.id);
    expect(link.status).toBe('error');
    expect(link.lastError.code).toBe('invalid_grant');
    expect(link.lastError.message).toMatch(/refused the signed assertion .*signature/);
    expect(link.lastError.message).toMatch(/service account key/);
  });

  it('shows a clear lastError when the provider refuses the assertion: wrong aud', async () => {
    // The same token endpoint under another URL: the assertion names the URL it is sent to,
    // which is not the one the provider expects.
    const created = (
      await createLink({ tokenEndpoint: `${provider.issuer}/token?tenant=other` }).expect(201)
    ).body;
    await tokenOf(t, created.id, '?minValidity=0').expect(409);
    const link = await linkOf(t, created.id);
    expect(link.lastError.code).toBe('invalid_grant');
    expect(link.lastError.message).toMatch(/refused the signed assertion .*aud/);
  });

  it("fills in Google's token endpoint and audience with the google preset", async () => {
    const created = (
      await createLink({
        provider: 'google',
        clientSecret: undefined,
        scopes: undefined,
        scopePreset: 'imap',
        serviceAccountKey: { ...keyFile, token_uri: 'https://oauth2.googleapis.com/token' },
      }).expect(201)
    ).body;
    expect(created).toMatchObject({
      clientId: ACCOUNT,
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      scopes: ['https://mail.google.com/'],
      hasClientSecret: false,
    });
  });

  it('refuses missing or unusable keys and keys on other grants, changing nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ serviceAccountKey: undefined }, 'serviceAccountKey'],
      [{ serviceAccountKey: 'not json' }, 'serviceAccountKey'],
      [{ serviceAccountKey: { ...keyFile, private_key: undefined } }, 'serviceAccountKey'],
      [{ serviceAccountKey: { ...keyFile, private_key: 'junk' } }, 'serviceAccountKey'],
      [{ serviceAccountKey: ['x'] }, 'serviceAccountKey'],
      [{ serviceAccountKey: { ...keyFile, client_email: undefined } }, 'clientId'],
      [{ subject: 'two words' }, 'subject'],
      [
        {
          grantType: 'client_credentials',
          clientId: 'c',
          tokenEndpoint: `${provider.issuer}/token`,
        },
        'serviceAccountKey',
      ],
    ];
    const [{ count: before }] = await t.dataSource.query(
      'SELECT count(*)::int AS count FROM links',
    );
    for (const [body, field] of cases) {
      const response = await createLink(body);
      expect({ field, status: response.status, code: response.body.code }).toEqual({
        field,
        status: 400,
        code: 'validation_failed',
      });
      expect({
        field,
        body,
        errors: response.body.errors.map((error: { field: string }) => error.field),
      }).toEqual({ field, body, errors: expect.arrayContaining([field]) });
      expect(JSON.stringify(response.body)).not.toContain('PRIVATE KEY');
    }
    const [{ count: after }] = await t.dataSource.query('SELECT count(*)::int AS count FROM links');
    expect(after).toBe(before);
  });

  it("sends Google's request without a client secret: grant_type and a signed assertion only", async () => {
    const seen: { body: string; authorization?: string }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({
          body: Buffer.concat(chunks).toString(),
          authorization: request.headers.authorization,
        });
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(
            JSON.stringify({ access_token: 'ya29.test', token_type: 'Bearer', expires_in: 3600 }),
          );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const tokenUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      const created = (
        await createLink({
          clientSecret: undefined,
          serviceAccountKey: { ...keyFile, token_uri: tokenUri },
        }).expect(201)
      ).body;
      expect((await tokenOf(t, created.id, '?minValidity=0').expect(200)).body.accessToken).toBe(
        'ya29.test',
      );
      expect(seen).toHaveLength(1);
      expect(seen[0].authorization).toBeUndefined();
      const form = new URLSearchParams(seen[0].body);
      expect([...form.keys()].sort()).toEqual(['assertion', 'grant_type']);
      expect(form.get('grant_type')).toBe(JWT_BEARER_GRANT);
      const assertion = form.get('assertion')!;
      expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'RS256', kid: 'key-1' });
      const { payload } = await jwtVerify(assertion, account.publicKey, {
        issuer: ACCOUNT,
        subject: 'alice@example.com',
        audience: tokenUri,
      });
      expect(payload.scope).toBe(provider.customScope);
      expect(payload.exp! - payload.iat!).toBe(300);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keys:rotate re-encrypts service account keys', async () => {
    const created = (await createLink({}).expect(201)).body;
    const { results } = await rotateKeysAndReadBack(t, LINK_SERVICE_ACCOUNT_KEY, created.id);
    expect(results).toContainEqual({
      column: 'links.service_account_key_encrypted',
      reencrypted: expect.any(Number),
      skipped: 0,
    });
  });
});
