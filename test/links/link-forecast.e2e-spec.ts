import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LinkExpiryNotices } from '../../src/links/link-expiry-notices.js';
import { connectLink, createCustomLink, linkOf } from '../support/connected-link.js';
import { startFaultServer, type FaultServer } from '../support/fault-server.js';
import {
  BACKEND,
  createTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import { startWebhookApp, type WebhookApp } from '../support/webhook-app.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

type Event = { type: string; detail: Record<string, unknown> };
async function eventsOf(t: TestApp, linkId: string): Promise<Event[]> {
  return (
    await t.http().get(`/v1/links/${linkId}/events?limit=100`).set(bearer(t.adminKey)).expect(200)
  ).body.items as Event[];
}
const expiringOf = async (t: TestApp, linkId: string) =>
  (await eventsOf(t, linkId)).filter((event) => event.type === 'expiring');

/** Issue 12 point 2 (SPEC §13): refreshTokenExpiresAt, clientSecretExpiresAt, nextRisk, link.expiring. */
describe(`the forecast (${BACKEND})`, () => {
  let w: WebhookApp;
  let faults: FaultServer;
  let notices: LinkExpiryNotices;

  beforeAll(async () => {
    w = await startWebhookApp();
    faults = await startFaultServer();
    notices = w.t.app.get(LinkExpiryNotices);
  });
  afterAll(async () => {
    await w?.close();
    await faults?.close();
  });
  const admin = () => bearer(w.t.adminKey);
  /** Moves the stored expiry, as if time had passed. */
  const secretExpiresIn = (linkId: string, days: number) =>
    w.t.dataSource.query(
      `UPDATE links SET client_secret_expires_at = now() + make_interval(secs => $2) WHERE id = $1`,
      [linkId, days * 86400],
    );

  it('takes clientSecretExpiresAt on create and PATCH and shows the next risk', async () => {
    const expiresAt = inDays(20.5);
    const created = await createCustomLink(w.t, w.provider, { clientSecretExpiresAt: expiresAt });
    expect(created.clientSecretExpiresAt).toBe(expiresAt);
    expect(created.refreshTokenExpiresAt).toBeNull();
    expect(created.nextRisk).toEqual({
      reason: 'client_secret_expires',
      at: expiresAt,
      daysLeft: 20,
      actor: 'provider_admin',
      action: expect.stringContaining('nextClientSecret'),
    });

    const cleared = await w.t
      .http()
      .patch(`/v1/links/${created.id}`)
      .set(admin())
      .send({ clientSecretExpiresAt: null })
      .expect(200);
    expect(cleared.body).toMatchObject({ clientSecretExpiresAt: null, nextRisk: null });

    const bad = await w.t
      .http()
      .patch(`/v1/links/${created.id}`)
      .set(admin())
      .send({ clientSecretExpiresAt: 'next tuesday' })
      .expect(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'clientSecretExpiresAt' })]);
  });

  it('announces link.expiring 14, 3 and 1 days ahead, each once', async () => {
    const { id } = await createCustomLink(w.t, w.provider, { clientSecretExpiresAt: inDays(30) });
    expect(await notices.runOnce()).toBe(0);

    await secretExpiresIn(id, 13.5);
    expect(await notices.runOnce()).toBe(1);
    expect(await notices.runOnce()).toBe(0);
    await secretExpiresIn(id, 2.5);
    expect(await notices.runOnce()).toBe(1);
    expect(await notices.runOnce()).toBe(0);
    await secretExpiresIn(id, 0.5);
    expect(await notices.runOnce()).toBe(1);
    expect(await notices.runOnce()).toBe(0);
    // Past: nothing more to announce.
    await secretExpiresIn(id, -0.5);
    expect(await notices.runOnce()).toBe(0);

    const expiring = await expiringOf(w.t, id);
    expect(expiring.map((event) => event.detail.daysAhead).sort()).toEqual([1, 14, 3]);
    expect(expiring[0].detail).toMatchObject({
      subject: 'client_secret',
      reason: 'client_secret_expires',
      actor: 'provider_admin',
    });

    await w.waitForMessagesAbout(id, 3);
    const messages = w.messagesAbout(id);
    expect(messages.map((message) => message.type)).toEqual([
      'link.expiring',
      'link.expiring',
      'link.expiring',
    ]);
    expect(messages.map((message) => message.data.daysAhead)).toEqual([14, 3, 1]);
    expect(messages[0].data).toMatchObject({
      linkId: id,
      reason: 'client_secret_expires',
      actor: 'provider_admin',
      action: expect.stringContaining(`PATCH /v1/links/${id}`),
      expiresAt: expect.any(String),
    });
  });

  it('a new secret with a new expiry gets notices of its own', async () => {
    const { id } = await createCustomLink(w.t, w.provider, { clientSecretExpiresAt: inDays(2) });
    expect(await notices.runOnce()).toBe(1);
    await w.t
      .http()
      .patch(`/v1/links/${id}`)
      .set(admin())
      .send({ clientSecret: 'a-new-secret', clientSecretExpiresAt: inDays(2.5) })
      .expect(200);
    expect(await notices.runOnce()).toBe(1);
    expect((await expiringOf(w.t, id)).length).toBe(2);
  });

  it('stores refresh_token_expires_in as refreshTokenExpiresAt and announces it', async () => {
    faults.respondWith({ proxyTo: `${w.provider.issuer}/token` });
    const { id } = await connectLink(w.t, w.provider, { tokenEndpoint: faults.tokenEndpoint });
    expect((await linkOf(w.t, id)).refreshTokenExpiresAt).toBeNull();

    faults.respondWith({
      status: 200,
      body: JSON.stringify({
        access_token: 'at-2',
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'rt-2',
        refresh_token_expires_in: 2 * 86400,
      }),
    });
    const before = Date.now();
    await w.t.http().post(`/v1/links/${id}/refresh`).set(admin()).expect(200);
    const link = await linkOf(w.t, id);
    const storedAt = Date.parse(link.refreshTokenExpiresAt as string);
    expect(storedAt).toBeGreaterThanOrEqual(before + 2 * DAY_MS - 1000);
    expect(storedAt).toBeLessThanOrEqual(Date.now() + 2 * DAY_MS + 1000);
    expect(link.nextRisk).toMatchObject({
      reason: 'refresh_token_expires',
      daysLeft: 1,
      actor: 'outlink_admin',
    });

    // A refresh that rotates the token without saying how long it lives: expiry unknown again.
    faults.respondWith({
      status: 200,
      body: JSON.stringify({
        access_token: 'at-3',
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'rt-3',
      }),
    });
    expect(await notices.runOnce()).toBe(1);
    expect((await expiringOf(w.t, id))[0].detail).toMatchObject({
      subject: 'refresh_token',
      daysAhead: 3,
    });
    await w.t.http().post(`/v1/links/${id}/refresh`).set(admin()).expect(200);
    expect(await linkOf(w.t, id)).toMatchObject({ refreshTokenExpiresAt: null, nextRisk: null });
  });
});

/** Every replica runs the job; each notice still goes out once. */
(TEST_DATABASE_URL ? describe : describe.skip)('the forecast on two replicas', () => {
  let database: TestDatabase;
  let replicas: TestApp[];

  beforeAll(async () => {
    database = await createTestDatabase();
    const first = await startTestApp({ database });
    replicas = [first, await startTestApp({ database, env: { ADMIN_API_KEY: first.adminKey } })];
  });
  afterAll(async () => {
    for (const replica of replicas ?? []) await replica.closeApp();
    await database?.dispose();
  });

  it('sends each notice exactly once when both look at the same time', async () => {
    const [a, b] = replicas;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await a
        .http()
        .post('/v1/links')
        .set(bearer(a.adminKey))
        .send({
          name: `Mailbox ${i}`,
          provider: 'google',
          clientId: `client-${i}`,
          clientSecret: 'secret',
          scopePreset: 'imap',
          clientSecretExpiresAt: inDays(30),
        })
        .expect(201);
      ids.push(created.body.id as string);
    }
    for (const days of [13, 2, 0.5]) {
      await a.dataSource.query(
        `UPDATE links SET client_secret_expires_at = now() + make_interval(secs => $1)`,
        [days * 86400],
      );
      // One pass per replica at once (a second call on a replica would join its running pass).
      const sent = await Promise.all([
        a.app.get(LinkExpiryNotices).runOnce(),
        b.app.get(LinkExpiryNotices).runOnce(),
      ]);
      expect(sent.reduce((sum, count) => sum + count, 0)).toBe(ids.length);
    }
    for (const id of ids) {
      const expiring = await expiringOf(a, id);
      expect(expiring.map((event) => event.detail.daysAhead).sort()).toEqual([1, 14, 3]);
    }
  });
});
