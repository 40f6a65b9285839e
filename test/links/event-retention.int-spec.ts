import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { LinkEventRetention } from '../../src/links/link-event-retention.js';
import { BACKEND } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// SPEC §11: link events older than EVENT_RETENTION_DAYS are purged.
describe(`link event retention (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { EVENT_RETENTION_DAYS: '180' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const insertEvent = async (linkId: string, daysAgo: number): Promise<string> => {
    const id = randomUUID();
    await t.dataSource.query(
      `INSERT INTO link_events (id, link_id, type, at, actor, detail)
       VALUES ($1, $2, 'refreshed', now() - make_interval(days => $3), 'system', '{}')`,
      [id, linkId, daysAgo],
    );
    return id;
  };
  const remaining = async (ids: string[]): Promise<string[]> =>
    (await t.dataSource.query('SELECT id FROM link_events WHERE id = ANY($1::uuid[])', [ids])).map(
      (row: { id: string }) => row.id,
    );

  it('deletes events older than the retention and keeps the rest', async () => {
    const linkId = randomUUID();
    const old = await Promise.all(Array.from({ length: 12 }, () => insertEvent(linkId, 181)));
    const kept = [await insertEvent(linkId, 179), await insertEvent(linkId, 0)];
    const purged = await t.app.get(LinkEventRetention).purgeExpired();
    expect(purged).toBeGreaterThanOrEqual(old.length);
    expect(await remaining(old)).toEqual([]);
    expect((await remaining(kept)).sort()).toEqual([...kept].sort());
  });

  it('keeps everything with EVENT_RETENTION_DAYS=0', async () => {
    const keeper = await startTestApp({ database: t.database, env: { EVENT_RETENTION_DAYS: '0' } });
    try {
      const ancient = await insertEvent(randomUUID(), 5000);
      expect(await keeper.app.get(LinkEventRetention).purgeExpired()).toBe(0);
      expect(await remaining([ancient])).toEqual([ancient]);
    } finally {
      await keeper.closeApp();
    }
  });
});
