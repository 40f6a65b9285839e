import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChangeNotifications } from '../../src/database/change-notifications.js';
import { connectLink, tokenOf } from '../support/connected-link.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const ENV = {
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: 'http://127.0.0.1:39992',
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
};
const UNKNOWN_LINK = '6b1f3c1e-0000-4000-8000-000000000000';

// SPEC §12: a consumer whose token a resource server refused gets a renewed one by itself.
describe(`POST /v1/links/{id}/token/renew (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;

  beforeAll(async () => {
    t = await startTestApp({ env: ENV });
    provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      accessTokenTtlSeconds: 600,
    });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  const refreshGrants = (): number => provider.grantCounts().refresh_token ?? 0;
  const consumerKeyFor = async (linkId: string): Promise<{ id: string; key: string }> => {
    const created = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'mail-handler', role: 'consumer', linkIds: [linkId] })
      .expect(201);
    return { id: created.body.id as string, key: created.body.key as string };
  };
  const renew = (linkId: string, body: Record<string, unknown>, key = t.adminKey) =>
    t.http().post(`/v1/links/${linkId}/token/renew`).set(bearer(key)).send(body);
  /** Moves the token's issue time back past the refresh budget (30 s), as if time had passed. */
  const ageToken = async (linkId: string): Promise<void> => {
    await t.dataSource.query(
      `UPDATE links SET last_refreshed_at = last_refreshed_at - interval '31 seconds' WHERE id = $1`,
      [linkId],
    );
    await t.app.get(ChangeNotifications).publish({ kind: 'link', id: linkId });
  };
  const rejectedEvents = (linkId: string) =>
    t.dataSource.query<{ actor: string; detail: { renewed: boolean } }[]>(
      `SELECT actor, detail FROM link_events WHERE link_id = $1 AND type = 'token_rejected' ORDER BY at`,
      [linkId],
    );

  it('renews a token the provider killed early, once, and audits who reported it', async () => {
    const { id } = await connectLink(t, provider);
    const consumer = await consumerKeyFor(id);
    const dead = (await tokenOf(t, id, '', consumer.key).expect(200)).body.accessToken as string;
    await ageToken(id);
    provider.invalidateAccessToken(dead);
    expect(await provider.isActive(dead)).toBe(false);
    const before = refreshGrants();

    const renewed = await renew(
      id,
      { rejectedAccessToken: dead, user: 'alice@example.com' },
      consumer.key,
    ).expect(200);

    expect(renewed.headers['cache-control']).toBe('no-store');
    const fresh = renewed.body.accessToken as string;
    expect(fresh).not.toBe(dead);
    expect(await provider.isActive(fresh)).toBe(true);
    expect(renewed.body).toMatchObject({ linkId: id, tokenType: 'Bearer', meetsMinValidity: true });
    expect(Buffer.from(renewed.body.xoauth2 as string, 'base64').toString()).toBe(
      `user=alice@example.com\x01auth=Bearer ${fresh}\x01\x01`,
    );
    expect(refreshGrants()).toBe(before + 1);
    expect((await tokenOf(t, id).expect(200)).body.accessToken).toBe(fresh);
    expect(await rejectedEvents(id)).toEqual([{ actor: consumer.id, detail: { renewed: true } }]);
    expect(t.logs.text).not.toContain(dead);
    expect(t.logs.text).not.toContain(fresh);
  });

  it('refreshes once for 50 consumers reporting the same token at once', async () => {
    const { id } = await connectLink(t, provider);
    const consumer = await consumerKeyFor(id);
    const dead = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    await ageToken(id);
    const before = refreshGrants();

    const answers = await Promise.all(
      Array.from({ length: 50 }, () => renew(id, { rejectedAccessToken: dead }, consumer.key)),
    );

    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    const tokens = new Set(answers.map((answer) => answer.body.accessToken as string));
    expect(tokens.size).toBe(1);
    expect(tokens.has(dead)).toBe(false);
    expect(refreshGrants()).toBe(before + 1);
    expect(await rejectedEvents(id)).toHaveLength(1);
  });

  it('answers a stale report with the current token without calling the provider', async () => {
    const { id } = await connectLink(t, provider);
    const old = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    await ageToken(id);
    const current = (await renew(id, { rejectedAccessToken: old }).expect(200)).body
      .accessToken as string;
    await ageToken(id);
    const before = refreshGrants();

    const answer = await renew(id, { rejectedAccessToken: old, minValidity: 30 }).expect(200);

    expect(answer.body.accessToken).toBe(current);
    expect(refreshGrants()).toBe(before);
    expect(await rejectedEvents(id)).toHaveLength(1);
  });

  it('does not refresh again within the refresh budget (a consumer failing for another reason)', async () => {
    const { id } = await connectLink(t, provider);
    const current = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    const before = refreshGrants();

    for (let call = 0; call < 3; call++) {
      const answer = await renew(id, { rejectedAccessToken: current }).expect(200);
      expect(answer.body.accessToken).toBe(current);
    }

    expect(refreshGrants()).toBe(before);
    expect((await rejectedEvents(id)).map((event) => event.detail)).toEqual(
      Array(3).fill({ renewed: false }),
    );
  });

  it('answers 409 reauthorization_required when the grant is gone', async () => {
    const { id } = await connectLink(t, provider);
    const dead = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    await ageToken(id);
    await provider.revokeAllGrants();

    const refused = await renew(id, { rejectedAccessToken: dead }).expect(409);
    expect(refused.body.code).toBe('reauthorization_required');
    expect((await renew(id, { rejectedAccessToken: dead }).expect(409)).body.code).toBe(
      'reauthorization_required',
    );
  });

  it('refuses keys without the link, unknown links and bad input like GET /token', async () => {
    const { id } = await connectLink(t, provider);
    const other = await consumerKeyFor(UNKNOWN_LINK);
    const current = (await tokenOf(t, id).expect(200)).body.accessToken as string;
    const rowBefore = await t.dataSource.query(
      'SELECT access_token_encrypted, updated_at FROM links WHERE id = $1',
      [id],
    );

    expect(
      (await renew(id, { rejectedAccessToken: current }, other.key).expect(403)).body.code,
    ).toBe('forbidden');
    expect((await renew(UNKNOWN_LINK, { rejectedAccessToken: 'x' }).expect(404)).body.code).toBe(
      'not_found',
    );
    for (const body of [
      {},
      { rejectedAccessToken: '' },
      { rejectedAccessToken: 42 },
      { rejectedAccessToken: 'x'.repeat(16_385) },
      { rejectedAccessToken: current, user: 'two words' },
      { rejectedAccessToken: current, minValidity: 3601 },
      { rejectedAccessToken: current, extra: true },
    ]) {
      const refused = await renew(id, body).expect(400);
      expect(refused.body.code).toBe('validation_failed');
      expect(JSON.stringify(refused.body)).not.toContain(current);
    }
    expect(
      await t.dataSource.query(
        'SELECT access_token_encrypted, updated_at FROM links WHERE id = $1',
        [id],
      ),
    ).toEqual(rowBefore);
    expect(await rejectedEvents(id)).toEqual([]);
  });
});
