import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashApiKey } from '../../src/auth/api-key-secret.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

describe(`API keys (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function createKey(body: object): Promise<{ id: string; key: string }> {
    const response = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send(body)
      .expect(201);
    return response.body as { id: string; key: string };
  }

  it('creates a key, shows it once, and stores only its hash', async () => {
    const response = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'mail-handler', role: 'consumer', allLinks: true })
      .expect(201);
    const created = response.body;
    expect(created).toMatchObject({
      name: 'mail-handler',
      role: 'consumer',
      linkIds: null,
      allLinks: true,
      lastUsedAt: null,
    });
    expect(created.key).toMatch(/^olk_[A-Za-z0-9]{32,}$/);
    expect(created.createdAt).toMatch(/Z$/);

    const listed = await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    const entry = listed.body.items.find((item: { id: string }) => item.id === created.id);
    expect(entry).toMatchObject({ name: 'mail-handler', keyHint: created.key.slice(0, 8) });
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
    expect(JSON.stringify(listed.body)).not.toContain(hashApiKey(created.key));

    const rows: { key_hash: string }[] = await t.dataSource.query(
      'SELECT * FROM api_keys WHERE id = $1',
      [created.id],
    );
    expect(rows[0].key_hash).toBe(hashApiKey(created.key));
    const dump = JSON.stringify(await t.dataSource.query('SELECT * FROM api_keys'));
    expect(dump).not.toContain(created.key);
    expect(dump).not.toContain(t.adminKey);
  });

  it('lets a new admin key in, and refuses it on every route once deleted', async () => {
    const admin = await createKey({ name: 'second admin', role: 'admin' });
    await t.http().get('/v1/api-keys').set(bearer(admin.key)).expect(200);
    await t.http().delete(`/v1/api-keys/${admin.id}`).set(bearer(t.adminKey)).expect(204);
    const refused = await t.http().get('/v1/api-keys').set(bearer(admin.key)).expect(401);
    expect(refused.body.code).toBe('unauthorized');
    await t.http().delete(`/v1/api-keys/${admin.id}`).set(bearer(t.adminKey)).expect(404);
  });

  it('keeps consumer keys out of admin routes', async () => {
    const consumer = await createKey({ name: 'consumer', role: 'consumer', allLinks: true });
    const response = await t.http().get('/v1/api-keys').set(bearer(consumer.key)).expect(403);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body).toMatchObject({ code: 'forbidden', status: 403 });
    await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(consumer.key))
      .send({ name: 'x', role: 'admin' })
      .expect(403);
    await t.http().get('/metrics').set(bearer(consumer.key)).expect(403);
  });

  it('records lastUsedAt within a few seconds of use', async () => {
    const consumer = await createKey({ name: 'usage', role: 'admin' });
    const before = Date.now();
    await t.http().get('/v1/api-keys').set(bearer(consumer.key)).expect(200);
    const deadline = Date.now() + 8_000;
    let lastUsedAt: string | null = null;
    while (Date.now() < deadline && lastUsedAt === null) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const listed = await t.http().get('/v1/api-keys').set(bearer(t.adminKey));
      lastUsedAt =
        listed.body.items.find((item: { id: string }) => item.id === consumer.id)?.lastUsedAt ??
        null;
    }
    expect(lastUsedAt).not.toBeNull();
    expect(Date.parse(lastUsedAt!)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('refuses bad input with a field list and creates nothing', async () => {
    const countBefore = (await t.http().get('/v1/api-keys').set(bearer(t.adminKey))).body.items
      .length;
    const cases: [object, string][] = [
      [{ name: '', role: 'admin' }, 'name'],
      [{ name: 'x'.repeat(201), role: 'admin' }, 'name'],
      [{ name: 'x', role: 'root' }, 'role'],
      [{ name: 'x', role: 'consumer', linkIds: ['not-a-uuid'] }, 'linkIds'],
      [{ name: 'x', role: 'consumer', linkIds: 'all' }, 'linkIds'],
      [{ name: 'x', role: 'admin', linkIds: ['1b4e28ba-2fa1-41d2-883f-0016d3cca427'] }, 'linkIds'],
      [{ name: 'x', role: 'admin', isRoot: true }, 'isRoot'],
      [{ role: 'admin' }, 'name'],
      // SPEC §11: a consumer key names its links, or says allLinks; never neither, never both.
      [{ name: 'x', role: 'consumer' }, 'linkIds'],
      [{ name: 'x', role: 'consumer', linkIds: null }, 'linkIds'],
      [{ name: 'x', role: 'consumer', linkIds: [] }, 'linkIds'],
      [{ name: 'x', role: 'consumer', allLinks: false }, 'linkIds'],
      [{ name: 'x', role: 'consumer', linkIds: null, allLinks: true }, 'linkIds'],
      [{ name: 'x', role: 'consumer', allLinks: 'yes' }, 'allLinks'],
      [
        {
          name: 'x',
          role: 'consumer',
          linkIds: ['1b4e28ba-2fa1-41d2-883f-0016d3cca427'],
          allLinks: true,
        },
        'allLinks',
      ],
      [{ name: 'x', role: 'admin', allLinks: true }, 'allLinks'],
    ];
    for (const [body, field] of cases) {
      const response = await t
        .http()
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .send(body)
        .expect(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    }
    const countAfter = (await t.http().get('/v1/api-keys').set(bearer(t.adminKey))).body.items
      .length;
    expect(countAfter).toBe(countBefore);
  });

  it('shows which links a key reaches: its linkIds, or allLinks', async () => {
    const linkId = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
    const named = await createKey({ name: 'one link', role: 'consumer', linkIds: [linkId] });
    expect(named).toMatchObject({ linkIds: [linkId], allLinks: false });
    const admin = await createKey({ name: 'another admin', role: 'admin' });
    expect(admin).toMatchObject({ linkIds: null, allLinks: true });
    const listed = await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    const byId = new Map(listed.body.items.map((item: { id: string }) => [item.id, item]));
    expect(byId.get(named.id)).toMatchObject({ linkIds: [linkId], allLinks: false });
    expect(byId.get(admin.id)).toMatchObject({ allLinks: true });
  });

  it('keeps consumer keys stored before SPEC §11 with no link list meaning every link', async () => {
    const key = `olk_${'L'.repeat(40)}`;
    const id = '6b1f3c1e-0000-4000-8000-00000000a11a';
    await t.dataSource.query(
      `INSERT INTO api_keys (id, name, role, link_ids, key_hash, key_hint)
       VALUES ($1, 'legacy consumer', 'consumer', NULL, $2, 'olk_LLLL')`,
      [id, hashApiKey(key)],
    );
    const listed = await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    expect(listed.body.items.find((item: { id: string }) => item.id === id)).toMatchObject({
      role: 'consumer',
      linkIds: null,
      allLinks: true,
    });
    // Granted every link: an unknown link is a 404, not a 403.
    const response = await t
      .http()
      .get('/v1/links/1b4e28ba-2fa1-41d2-883f-0016d3cca427')
      .set(bearer(key))
      .expect(404);
    expect(response.body.code).toBe('not_found');
  });

  it('will not delete the bootstrap admin key through the API', async () => {
    const listed = await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    const bootstrap = listed.body.items.find(
      (item: { fromEnvironment: boolean }) => item.fromEnvironment,
    );
    const response = await t
      .http()
      .delete(`/v1/api-keys/${bootstrap.id}`)
      .set(bearer(t.adminKey))
      .expect(409);
    expect(response.body.code).toBe('conflict');
    await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
  });

  it('rejects malformed Authorization headers with 401', async () => {
    for (const header of [
      'Basic abc',
      'Bearer',
      `Bearer ${'a'.repeat(5000)}`,
      'olk_nothing',
      'Bearer olk_x y',
    ]) {
      const response = await t.http().get('/v1/api-keys').set('authorization', header).expect(401);
      expect(response.body.code).toBe('unauthorized');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });
});

describe(`API key bootstrap (${BACKEND})`, () => {
  it('replaces the environment admin key when ADMIN_API_KEY changes', async () => {
    const first = await startTestApp();
    const { database, adminKey: oldKey } = first;
    await first.closeApp();
    const second = await startTestApp({
      database,
      env: { ADMIN_API_KEY: `olk_${'N'.repeat(40)}` },
    });
    try {
      await second.http().get('/v1/api-keys').set(bearer(oldKey)).expect(401);
      const listed = await second
        .http()
        .get('/v1/api-keys')
        .set(bearer(second.adminKey))
        .expect(200);
      expect(
        listed.body.items.filter((item: { fromEnvironment: boolean }) => item.fromEnvironment),
      ).toHaveLength(1);
    } finally {
      await second.closeApp();
      await database.dispose();
    }
  });
});
