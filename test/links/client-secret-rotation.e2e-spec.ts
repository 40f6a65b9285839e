import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { encryptionContext } from '../../src/crypto/encrypted-column.js';
import {
  LINK_CLIENT_SECRET,
  LINK_NEXT_CLIENT_SECRET,
} from '../../src/database/encrypted-columns.js';
import {
  connectLink,
  linkOf,
  rotateKeysAndReadBack,
  storedSecret,
  tokenOf,
} from '../support/connected-link.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { BACKEND } from '../support/test-database.js';

/** Issue 12 point 3 (SPEC §13): overlapping client secrets, rotated with no failed request. */
describe(`overlapping client secrets (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ALLOW_INSECURE_ENDPOINTS: 'true',
        PUBLIC_BASE_URL: 'http://127.0.0.1:39983',
        REFRESH_CHECK_INTERVAL_SECONDS: '3600',
        MIN_REFRESH_INTERVAL_SECONDS: '0',
      },
    });
    provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      rotatableClientSecret: true,
    });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });
  const admin = () => bearer(t.adminKey);
  const patch = (id: string, body: Record<string, unknown>) =>
    t.http().patch(`/v1/links/${id}`).set(admin()).send(body);
  const eventTypes = async (id: string): Promise<{ type: string; detail: unknown }[]> =>
    (await t.http().get(`/v1/links/${id}/events?limit=100`).set(admin()).expect(200)).body.items;
  let currentSecret: string;

  it('keeps nextClientSecret write-only and encrypted', async () => {
    currentSecret = provider.clientSecret;
    const { id } = await connectLink(t, provider, { clientSecret: currentSecret });
    const next = 'next-secret-0123456789';
    const expiresAt = new Date(Date.now() + 90 * 86400_000).toISOString();
    const patched = await patch(id, {
      nextClientSecret: next,
      nextClientSecretExpiresAt: expiresAt,
    }).expect(200);
    expect(patched.body).toMatchObject({
      status: 'connected',
      hasNextClientSecret: true,
      nextClientSecretExpiresAt: expiresAt,
    });
    expect(JSON.stringify(patched.body)).not.toContain(next);
    expect(JSON.stringify(await eventTypes(id))).not.toContain(next);
    const [row] = await t.dataSource.query(
      'SELECT next_client_secret_encrypted AS envelope FROM links WHERE id = $1',
      [id],
    );
    expect(row.envelope).not.toContain(next);
    expect(await storedSecret(t, LINK_NEXT_CLIENT_SECRET, id)).toBe(next);

    // While the provider still takes the current secret, the next one waits.
    await t.http().post(`/v1/links/${id}/refresh`).set(admin()).expect(200);
    expect((await linkOf(t, id)).hasNextClientSecret).toBe(true);

    // keys:rotate covers the column: under a new first key, the next secret is re-encrypted.
    const rotated = await rotateKeysAndReadBack(t, LINK_NEXT_CLIENT_SECRET, id);
    expect(rotated.results).toContainEqual(
      expect.objectContaining({ column: 'links.next_client_secret_encrypted', reencrypted: 1 }),
    );
    expect(
      rotated.ring.decrypt(rotated.envelope, encryptionContext(LINK_NEXT_CLIENT_SECRET, id)),
    ).toBe(next);
    // Back under the app's own key, which is all this app knows.
    expect(await storedSecret(t, LINK_NEXT_CLIENT_SECRET, id)).toBe(next);

    const removed = await patch(id, { nextClientSecret: null }).expect(200);
    expect(removed.body).toMatchObject({
      hasNextClientSecret: false,
      nextClientSecretExpiresAt: null,
    });
  });

  it('rotating the secret at the provider under a stream of token requests fails none of them', async () => {
    const { id } = await connectLink(t, provider, { clientSecret: currentSecret });
    const next = `rotated-${Date.now()}`;
    const nextExpiresAt = new Date(Date.now() + 180 * 86400_000).toISOString();
    await patch(id, { nextClientSecret: next, nextClientSecretExpiresAt: nextExpiresAt }).expect(
      200,
    );

    const statuses: number[] = [];
    let succeeded = 0;
    let stop = false;
    // Each request renews at the provider: a forced refresh, then a token that must be valid.
    const worker = async (): Promise<void> => {
      while (!stop) {
        const refreshed = await t.http().post(`/v1/links/${id}/refresh`).set(admin());
        const token = await tokenOf(t, id, '?minValidity=30');
        statuses.push(refreshed.status, token.status);
        if (refreshed.status === 200 && token.status === 200) succeeded++;
      }
    };
    const waitFor = async (count: number): Promise<void> => {
      while (succeeded < count) await new Promise((resolve) => setImmediate(resolve));
    };
    const workers = [worker(), worker(), worker(), worker()];
    await waitFor(10);
    const refreshesBefore = provider.grantCounts().refresh_token ?? 0;
    provider.setClientSecret(next); // the old secret stops working now
    await waitFor(succeeded + 20);
    stop = true;
    await Promise.all(workers);

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(provider.grantCounts().refresh_token ?? 0).toBeGreaterThan(refreshesBefore + 5);
    const link = await linkOf(t, id);
    expect(link).toMatchObject({
      status: 'connected',
      hasNextClientSecret: false,
      nextClientSecretExpiresAt: null,
      clientSecretExpiresAt: nextExpiresAt,
      lastError: null,
    });
    expect(await storedSecret(t, LINK_CLIENT_SECRET, id)).toBe(next);
    const promoted = (await eventTypes(id)).filter(
      (event) => event.type === 'client_secret_promoted',
    );
    expect(promoted).toEqual([expect.objectContaining({ detail: { trigger: 'invalid_client' } })]);
    currentSecret = next;
  });

  it('promotes by hand, and a link in error recovers with it; 409 without a next secret', async () => {
    const { id } = await connectLink(t, provider, { clientSecret: currentSecret });
    const none = await t
      .http()
      .post(`/v1/links/${id}/client-secret/promote`)
      .set(admin())
      .expect(409);
    expect(none.body.code).toBe('conflict');

    // The secret is rotated at the provider before Outlink knows the new one: the link breaks.
    const newer = `newer-${Date.now()}`;
    provider.setClientSecret(newer);
    expect(
      (await t.http().post(`/v1/links/${id}/refresh`).set(admin()).expect(409)).body.code,
    ).toBe('link_error');
    expect((await linkOf(t, id)).status).toBe('error');

    await patch(id, { nextClientSecret: newer }).expect(200);
    const promoted = await t
      .http()
      .post(`/v1/links/${id}/client-secret/promote`)
      .set(admin())
      .expect(200);
    expect(promoted.body).toMatchObject({
      status: 'connected',
      hasClientSecret: true,
      hasNextClientSecret: false,
      lastError: null,
    });
    expect(await storedSecret(t, LINK_CLIENT_SECRET, id)).toBe(newer);
    await t.http().post(`/v1/links/${id}/refresh`).set(admin()).expect(200);
    const events = await eventTypes(id);
    expect(events.filter((event) => event.type === 'client_secret_promoted')).toEqual([
      expect.objectContaining({ detail: { trigger: 'manual' } }),
    ]);
    expect(events.map((event) => event.type)).toContain('status_changed');
    currentSecret = newer;
  });

  it('a next secret the provider refuses too leaves the link in error, nothing promoted', async () => {
    const { id } = await connectLink(t, provider, { clientSecret: currentSecret });
    await patch(id, { nextClientSecret: 'also-wrong' }).expect(200);
    provider.setClientSecret(`newest-${Date.now()}`);
    expect(
      (await t.http().post(`/v1/links/${id}/refresh`).set(admin()).expect(409)).body.code,
    ).toBe('link_error');
    expect(await linkOf(t, id)).toMatchObject({ status: 'error', hasNextClientSecret: true });
    expect((await eventTypes(id)).map((event) => event.type)).not.toContain(
      'client_secret_promoted',
    );
  });
});
