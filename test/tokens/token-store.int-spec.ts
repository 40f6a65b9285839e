import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TokenStore } from '../../src/tokens/token-store.js';
import { BACKEND } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Links that are due for a background refresh: connected, a refresh token, expiring in 60 s. */
async function insertDueLinks(t: TestApp, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await t.dataSource.query(
    `INSERT INTO links (id, name, provider, grant_type, client_id, scopes, token_endpoint,
                        token_endpoint_auth_method, status, refresh_token_present,
                        access_token_expires_at, last_refreshed_at)
     SELECT id, 'due', 'custom', 'authorization_code', 'c', ARRAY['s'], 'https://idp.example.com/token',
            'client_secret_basic', 'connected', true, now() + interval '60 seconds',
            now() - interval '3540 seconds'
       FROM unnest($1::uuid[]) AS id`,
    [ids],
  );
  return ids;
}

describe(`TokenStore.claimDue (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { REFRESH_CHECK_INTERVAL_SECONDS: '3600' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  // Regression: `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` let
  // PostgreSQL run the subquery again per row and claim all 20 due links for a limit of 2, so one
  // replica took every due link at once (REFRESH_CONCURRENCY ignored) and left none to the others.
  it('claims at most the limit, leases exactly those, and leaves the rest to the next claim', async () => {
    const ids = await insertDueLinks(t, 20);
    const store = t.app.get(TokenStore);
    const first = await store.claimDue(randomUUID(), 30, 300, 2);
    expect(first).toHaveLength(2);
    const [{ leased }] = await t.dataSource.query(
      `SELECT count(*)::int AS leased FROM links WHERE id = ANY($1::uuid[]) AND refresh_lease_holder IS NOT NULL`,
      [ids],
    );
    expect(leased).toBe(2);
    const second = await store.claimDue(randomUUID(), 30, 300, 5);
    expect(second).toHaveLength(5);
    const claimed = [...first, ...second].map((claim) => claim.link.id);
    expect(new Set(claimed).size).toBe(7);
    for (const id of claimed) expect(ids).toContain(id);
  });
});
