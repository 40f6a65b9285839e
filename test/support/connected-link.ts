import { expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { encryptionContext, type EncryptedColumn } from '../../src/crypto/encrypted-column.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { reencryptColumns, type ColumnRotationResult } from '../../src/crypto/key-rotation.js';
import { ENCRYPTED_COLUMNS } from '../../src/database/encrypted-columns.js';
import { authorizeWithPlainHttp, type TestProvider } from './oidc-provider.js';
import { bearer, type TestApp } from './test-app.js';

/** What these helpers need of a replica: an in-process TestApp or a ChildReplica. */
type Replica = Pick<TestApp, 'http' | 'adminKey'>;

/** Creates (without authorizing) a custom link against the test provider, as an admin would. */
export async function createCustomLink(
  t: Replica,
  provider: TestProvider,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, unknown> & { id: string; grantType: string }> {
  const discovery = (await (
    await fetch(`${provider.issuer}/.well-known/openid-configuration`)
  ).json()) as {
    authorization_endpoint: string;
    token_endpoint: string;
  };
  const created = await t
    .http()
    .post('/v1/links')
    .set(bearer(t.adminKey))
    .send({
      name: 'Helpdesk',
      provider: 'custom',
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      scopes: ['openid', 'offline_access'],
      authorizationEndpoint: discovery.authorization_endpoint,
      tokenEndpoint: discovery.token_endpoint,
      authorizationParams: { prompt: 'consent' },
      ...overrides,
    })
    .expect(201);
  return created.body as Record<string, unknown> & { id: string; grantType: string };
}

/**
 * Authorizes a link the way an admin does it: POST /authorize, login and consent at the test
 * provider (as `login` if given), and the callback back in Outlink.
 */
export async function authorizeLink(t: Replica, linkId: string, login?: string): Promise<void> {
  const started = await t
    .http()
    .post(`/v1/links/${linkId}/authorize`)
    .set(bearer(t.adminKey))
    .expect(201);
  const redirect = await authorizeWithPlainHttp(
    started.body.authorizationUrl as string,
    login === undefined ? {} : { login },
  );
  await t
    .http()
    .get(`${redirect.pathname}${redirect.search}`)
    .set('accept', 'application/json')
    .expect(200);
}

/** A custom link against the test provider, created and authorized the way an admin does it. */
export async function connectLink(
  t: Replica,
  provider: TestProvider,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string }> {
  const { id, grantType } = await createCustomLink(t, provider, overrides);
  if (grantType === 'client_credentials') return { id };
  await authorizeLink(t, id);
  const link = await t.http().get(`/v1/links/${id}`).set(bearer(t.adminKey)).expect(200);
  expect(link.body.status).toBe('connected');
  return { id };
}

export const tokenOf = (t: Replica, linkId: string, query = '', key = t.adminKey) =>
  t.http().get(`/v1/links/${linkId}/token${query}`).set(bearer(key));

/** GET /v1/links/{id} as an admin: the link's public view. */
export const linkOf = async (t: Replica, linkId: string) =>
  (await t.http().get(`/v1/links/${linkId}`).set(bearer(t.adminKey)).expect(200)).body;

/** The ciphertext envelope stored in one of the registered encrypted columns. */
async function storedEnvelope(
  t: Pick<TestApp, 'dataSource'>,
  column: EncryptedColumn,
  rowId: string,
): Promise<string> {
  const [row]: { envelope: string }[] = await t.dataSource.query(
    `SELECT ${column.column} AS envelope FROM ${column.table} WHERE ${column.idColumn} = $1`,
    [rowId],
  );
  return row.envelope;
}

/** A secret as stored in one of the registered encrypted columns, decrypted with the app's ring. */
export async function storedSecret(
  t: Pick<TestApp, 'app' | 'dataSource'>,
  column: EncryptedColumn,
  rowId: string,
): Promise<string> {
  const envelope = await storedEnvelope(t, column, rowId);
  return t.app.get(KeyRing).decrypt(envelope, encryptionContext(column, rowId));
}

/**
 * keys:rotate under a new first key `rotated` ahead of the app's keys: `column` of `rowId` is
 * re-encrypted under it and still decrypts to what it held. Then everything is rotated back under
 * the app's own first key, the only one the app knows. Resolves with the first rotation's
 * per-column results, the rotated envelope and the ring that decrypts it, for each test's own
 * expectations.
 */
export async function rotateKeysAndReadBack(
  t: Pick<TestApp, 'app' | 'dataSource' | 'config'>,
  column: EncryptedColumn,
  rowId: string,
): Promise<{ results: ColumnRotationResult[]; envelope: string; ring: KeyRing }> {
  const before = await storedSecret(t, column, rowId);
  const rotatedKey = { id: 'rotated', key: randomBytes(32) };
  const ring = new KeyRing([rotatedKey, ...t.config.encryptionKeys]);
  const results = await reencryptColumns(t.dataSource, ring, ENCRYPTED_COLUMNS);
  const envelope = await storedEnvelope(t, column, rowId);
  expect(envelope).toMatch(/^enc:v1:rotated:/);
  expect(ring.decrypt(envelope, encryptionContext(column, rowId))).toBe(before);

  await reencryptColumns(
    t.dataSource,
    new KeyRing([...t.config.encryptionKeys, rotatedKey]),
    ENCRYPTED_COLUMNS,
  );
  expect(await storedSecret(t, column, rowId)).toBe(before);
  return { results, envelope, ring };
}

/**
 * Makes the stored access token look expired, as if its lifetime had passed, without waiting for
 * it. The link has never been served, so no replica holds it in its cache.
 */
export async function expireStoredToken(
  t: Pick<TestApp, 'dataSource'>,
  linkId: string,
): Promise<void> {
  await t.dataSource.query(
    `UPDATE links SET access_token_expires_at = now() - interval '1 second' WHERE id = $1`,
    [linkId],
  );
}
