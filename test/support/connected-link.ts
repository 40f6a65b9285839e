import { expect } from '@jest/globals';
import { encryptionContext, type EncryptedColumn } from '../../src/crypto/encrypted-column.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
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

/** A custom link against the test provider, created and authorized the way an admin does it. */
export async function connectLink(
  t: Replica,
  provider: TestProvider,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string }> {
  const { id, grantType } = await createCustomLink(t, provider, overrides);
  if (grantType === 'client_credentials') return { id };
  const started = await t
    .http()
    .post(`/v1/links/${id}/authorize`)
    .set(bearer(t.adminKey))
    .expect(201);
  const redirect = await authorizeWithPlainHttp(started.body.authorizationUrl as string);
  await t
    .http()
    .get(`${redirect.pathname}${redirect.search}`)
    .set('accept', 'application/json')
    .expect(200);
  const link = await t.http().get(`/v1/links/${id}`).set(bearer(t.adminKey)).expect(200);
  expect(link.body.status).toBe('connected');
  return { id };
}

export const tokenOf = (t: Replica, linkId: string, query = '', key = t.adminKey) =>
  t.http().get(`/v1/links/${linkId}/token${query}`).set(bearer(key));

/** GET /v1/links/{id} as an admin: the link's public view. */
export const linkOf = async (t: Replica, linkId: string) =>
  (await t.http().get(`/v1/links/${linkId}`).set(bearer(t.adminKey)).expect(200)).body;

/** A secret as stored in one of the registered encrypted columns, decrypted with the app's ring. */
export async function storedSecret(
  t: Pick<TestApp, 'app' | 'dataSource'>,
  column: EncryptedColumn,
  rowId: string,
): Promise<string> {
  const [row] = await t.dataSource.query(
    `SELECT ${column.column} AS envelope FROM ${column.table} WHERE ${column.idColumn} = $1`,
    [rowId],
  );
  return t.app.get(KeyRing).decrypt(row.envelope, encryptionContext(column, rowId));
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
