import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChangeNotifications } from '../../src/database/change-notifications.js';
import { connectLink, expireStoredToken, tokenOf } from '../support/connected-link.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ENV = {
  ALLOW_INSECURE_ENDPOINTS: 'true',
  PUBLIC_BASE_URL: 'http://127.0.0.1:39991',
  REFRESH_CHECK_INTERVAL_SECONDS: '3600',
};
/** One second short of the largest minValidity a consumer may ask for. */
const TOKEN_TTL_SECONDS = 3599;

// SPEC §11 "On-demand refresh budget". Regression: minValidity=3600 against 3599-second tokens
// made every one of 200 calls refresh (200 refreshes, 200 event rows).
describe(`on-demand refresh budget (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;

  beforeAll(async () => {
    t = await startTestApp({ env: ENV });
    provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
    });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  const refreshGrants = (): number => provider.grantCounts().refresh_token ?? 0;
  const refreshedEvents = async (linkId: string): Promise<number> => {
    const [row] = await t.dataSource.query(
      `SELECT count(*)::int AS count FROM link_events WHERE link_id = $1 AND type = 'refreshed'`,
      [linkId],
    );
    return row.count as number;
  };
  /** Moves the token's issue time back, and drops this replica's cached copy as any change would. */
  const ageToken = async (linkId: string, seconds: number): Promise<void> => {
    await t.dataSource.query(
      `UPDATE links SET last_refreshed_at = last_refreshed_at - make_interval(secs => $2) WHERE id = $1`,
      [linkId, seconds],
    );
    await t.app.get(ChangeNotifications).publish({ kind: 'link', id: linkId });
  };

  it('serves a token younger than the budget without refreshing, saying it cannot meet minValidity', async () => {
    const { id } = await connectLink(t, provider);
    const before = refreshGrants();
    const answers = [];
    for (let call = 0; call < 200; call++) answers.push(await tokenOf(t, id, '?minValidity=3600'));
    expect(answers.map((answer) => answer.status)).toEqual(Array(200).fill(200));
    expect(new Set(answers.map((answer) => answer.body.meetsMinValidity))).toEqual(
      new Set([false]),
    );
    expect(new Set(answers.map((answer) => answer.body.accessToken)).size).toBe(1);
    expect(refreshGrants()).toBe(before);
    expect(await refreshedEvents(id)).toBe(0);

    const modest = await tokenOf(t, id, '?minValidity=60').expect(200);
    expect(modest.body.meetsMinValidity).toBe(true);
  });

  it('refreshes once when the token is older than the budget, then serves the new one', async () => {
    const { id } = await connectLink(t, provider);
    await ageToken(id, 31);
    const before = refreshGrants();
    const answers = [];
    for (let call = 0; call < 200; call++) answers.push(await tokenOf(t, id, '?minValidity=3600'));
    expect(answers.map((answer) => answer.status)).toEqual(Array(200).fill(200));
    expect(new Set(answers.map((answer) => answer.body.accessToken)).size).toBe(1);
    expect(refreshGrants()).toBe(before + 1);
    expect(await refreshedEvents(id)).toBe(1);
  });

  it('always refreshes an expired token, however recently it was obtained', async () => {
    const { id } = await connectLink(t, provider);
    const first = (await tokenOf(t, id, '?minValidity=0').expect(200)).body.accessToken;
    await expireStoredToken(t, id);
    await t.app.get(ChangeNotifications).publish({ kind: 'link', id });
    const before = refreshGrants();
    const renewed = await tokenOf(t, id, '?minValidity=0').expect(200);
    expect(renewed.body.accessToken).not.toBe(first);
    expect(renewed.body.meetsMinValidity).toBe(true);
    expect(refreshGrants()).toBe(before + 1);
  });

  it('MIN_REFRESH_INTERVAL_SECONDS=0 turns the budget off', async () => {
    const unbudgeted = await startTestApp({
      database: t.database,
      env: { ...ENV, MIN_REFRESH_INTERVAL_SECONDS: '0' },
    });
    try {
      const { id } = await connectLink(unbudgeted, provider);
      const before = refreshGrants();
      for (let call = 0; call < 3; call++)
        await tokenOf(unbudgeted, id, '?minValidity=3600').expect(200);
      expect(refreshGrants()).toBe(before + 3);
    } finally {
      await unbudgeted.closeApp();
    }
  });
});
