import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const GOOGLE_LINK = {
  name: 'Support mailbox',
  provider: 'google',
  clientId: 'client-123.apps.googleusercontent.com',
  clientSecret: 'GOCSPX-very-secret-value',
  scopePreset: 'imap',
};

const LINK_FIELDS = [
  'id',
  'name',
  'provider',
  'grantType',
  'clientId',
  'hasClientSecret',
  'scopes',
  'authorizationEndpoint',
  'tokenEndpoint',
  'revocationEndpoint',
  'issuer',
  'tenant',
  'cloud',
  'redirectUrl',
  'status',
  'grantedScopes',
  'accessTokenExpiresAt',
  'lastRefreshedAt',
  'refreshTokenPresent',
  'lastError',
  'createdAt',
  'updatedAt',
];

describe(`links CRUD (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://outlink.example.com' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const create = (body: object, key = t.adminKey) =>
    t.http().post('/v1/links').set(bearer(key)).send(body);
  const linkCount = async (): Promise<number> =>
    (await t.http().get('/v1/links?limit=200').set(bearer(t.adminKey)).expect(200)).body.items
      .length;

  it('creates a Google link from the preset with every field of SPEC §5 and no secret', async () => {
    const response = await create(GOOGLE_LINK).expect(201);
    const link = response.body;
    for (const field of LINK_FIELDS) expect(link).toHaveProperty(field);
    expect(link).toMatchObject({
      provider: 'google',
      grantType: 'authorization_code',
      hasClientSecret: true,
      scopes: ['https://mail.google.com/'],
      authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
      redirectUrl: 'https://outlink.example.com/v1/oauth/callback',
      status: 'pending_authorization',
      lastError: null,
      refreshTokenPresent: false,
      accessTokenExpiresAt: null,
      grantedScopes: null,
    });
    expect(link.createdAt).toMatch(/Z$/);
    expect(JSON.stringify(link)).not.toContain(GOOGLE_LINK.clientSecret);

    const rows = await t.dataSource.query('SELECT * FROM links WHERE id = $1', [link.id]);
    expect(rows[0].client_secret_encrypted).toMatch(/^enc:v1:/);
    expect(JSON.stringify(rows)).not.toContain(GOOGLE_LINK.clientSecret);
  });

  it('builds Microsoft links for the tenant and cloud, always with offline_access', async () => {
    const global = await create({
      ...GOOGLE_LINK,
      provider: 'microsoft',
      scopePreset: 'imap',
    }).expect(201);
    expect(global.body).toMatchObject({
      tenant: 'organizations',
      cloud: 'global',
      authorizationEndpoint:
        'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize',
      tokenEndpoint: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token',
      scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All', 'offline_access'],
    });
    const usgov = await create({
      ...GOOGLE_LINK,
      provider: 'microsoft',
      tenant: 'contoso.onmicrosoft.com',
      cloud: 'usgov',
      scopePreset: 'smtp',
    }).expect(201);
    expect(usgov.body).toMatchObject({
      authorizationEndpoint:
        'https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
      scopes: ['https://outlook.office365.us/SMTP.Send', 'offline_access'],
    });
  });

  it('refuses invalid links with one error per field and creates nothing', async () => {
    const before = await linkCount();
    const cases: [object, string][] = [
      [{ ...GOOGLE_LINK, name: '' }, 'name'],
      [{ ...GOOGLE_LINK, name: 'n'.repeat(201) }, 'name'],
      [{ ...GOOGLE_LINK, provider: 'yahoo' }, 'provider'],
      [{ ...GOOGLE_LINK, scopePreset: undefined, scopes: ['two words'] }, 'scopes'],
      [{ ...GOOGLE_LINK, scopePreset: undefined, scopes: [''] }, 'scopes'],
      [{ ...GOOGLE_LINK, scopePreset: undefined, scopes: [] }, 'scopes'],
      [{ ...GOOGLE_LINK, scopePreset: undefined }, 'scopes'],
      [{ ...GOOGLE_LINK, scopes: ['a'] }, 'scopePreset'],
      [{ ...GOOGLE_LINK, tenant: 'common' }, 'tenant'],
      [{ ...GOOGLE_LINK, provider: 'microsoft', tenant: '../evil' }, 'tenant'],
      [{ ...GOOGLE_LINK, tokenEndpoint: 'https://evil.example.com/token' }, 'tokenEndpoint'],
      [{ ...GOOGLE_LINK, authorizationParams: { state: 'x' } }, 'authorizationParams.state'],
      [{ ...GOOGLE_LINK, authorizationParams: { prompt: 5 } }, 'authorizationParams.prompt'],
      [{ ...GOOGLE_LINK, grantType: 'password' }, 'grantType'],
      [{ ...GOOGLE_LINK, pkce: 'yes' }, 'pkce'],
      [{ ...GOOGLE_LINK, accessToken: 'x' }, 'accessToken'],
      [{ name: 'c', provider: 'custom', clientId: 'c', scopes: ['a'] }, 'tokenEndpoint'],
      [
        {
          name: 'c',
          provider: 'custom',
          clientId: 'c',
          scopes: ['a'],
          tokenEndpoint: 'http://idp.example.com/token',
          authorizationEndpoint: 'https://idp.example.com/a',
        },
        'tokenEndpoint',
      ],
      [
        {
          name: 'c',
          provider: 'custom',
          clientId: 'c',
          scopes: ['a'],
          tokenEndpoint: 'not a url',
          authorizationEndpoint: 'https://idp.example.com/a',
        },
        'tokenEndpoint',
      ],
      [
        {
          name: 'c',
          provider: 'custom',
          clientId: 'c',
          scopes: ['a'],
          tokenEndpoint: 'https://idp.example.com/t',
        },
        'authorizationEndpoint',
      ],
    ];
    for (const [body, field] of cases) {
      const response = await create(body);
      expect({ field, status: response.status }).toEqual({ field, status: 400 });
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    }
    expect(await linkCount()).toBe(before);
  });

  it('creates custom links with explicit endpoints, and client-credentials links without an authorization endpoint', async () => {
    const custom = await create({
      name: 'Ticketing',
      provider: 'custom',
      clientId: 'abc',
      clientSecret: 's3cr3t-custom',
      scopes: ['read', 'write'],
      authorizationEndpoint: 'https://idp.example.com/authorize',
      tokenEndpoint: 'https://idp.example.com/token',
      authorizationParams: { prompt: 'consent', audience: 'api' },
      tokenEndpointAuthMethod: 'client_secret_post',
      pkce: false,
    }).expect(201);
    expect(custom.body).toMatchObject({
      scopes: ['read', 'write'],
      issuer: null,
      revocationEndpoint: null,
      tenant: null,
      cloud: null,
    });
    const machine = await create({
      name: 'Machine',
      provider: 'custom',
      grantType: 'client_credentials',
      clientId: 'm',
      clientSecret: 'm-secret',
      scopes: ['api'],
      tokenEndpoint: 'https://idp.example.com/token',
    }).expect(201);
    expect(machine.body).toMatchObject({
      grantType: 'client_credentials',
      authorizationEndpoint: null,
    });
  });

  it('lists newest first with filters and cursor pagination', async () => {
    const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    for (const name of names)
      await create({ ...GOOGLE_LINK, provider: 'microsoft', name }).expect(201);
    const seen: string[] = [];
    const seenIds: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/v1/links?provider=microsoft&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await t.http().get(query).set(bearer(t.adminKey)).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((item: { name: string }) => item.name));
      seenIds.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor;
      if (cursor !== null) expect(cursor.length).toBeGreaterThan(0);
      pages++;
    } while (cursor !== null && pages < 20);
    expect(seen.slice(0, 5)).toEqual([...names].reverse());
    expect(new Set(seenIds).size).toBe(seenIds.length);

    const google = await t
      .http()
      .get('/v1/links?provider=google')
      .set(bearer(t.adminKey))
      .expect(200);
    expect(
      google.body.items.every((item: { provider: string }) => item.provider === 'google'),
    ).toBe(true);
    const pending = await t
      .http()
      .get('/v1/links?status=connected')
      .set(bearer(t.adminKey))
      .expect(200);
    expect(pending.body).toEqual({ items: [], nextCursor: null });

    for (const bad of [
      'limit=0',
      'limit=201',
      'limit=abc',
      'limit=1.5',
      'cursor=%%%',
      'cursor=bm90LWpzb24',
      'status=happy',
      'provider=yahoo',
      'extra=1',
    ]) {
      const response = await t.http().get(`/v1/links?${bad}`).set(bearer(t.adminKey));
      expect({ bad, status: response.status }).toEqual({ bad, status: 400 });
      expect(response.body.status).toBe(400);
    }
  });

  it('gets a link by id, for admins and for consumer keys granted that link only', async () => {
    const link = (await create(GOOGLE_LINK).expect(201)).body;
    const other = (await create(GOOGLE_LINK).expect(201)).body;
    const granted = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'mail', role: 'consumer', linkIds: [link.id] })
      .expect(201);
    await t.http().get(`/v1/links/${link.id}`).set(bearer(granted.body.key)).expect(200);
    const refused = await t
      .http()
      .get(`/v1/links/${other.id}`)
      .set(bearer(granted.body.key))
      .expect(403);
    expect(refused.body.code).toBe('forbidden');
    await t.http().get('/v1/links').set(bearer(granted.body.key)).expect(403);
    await t
      .http()
      .patch(`/v1/links/${link.id}`)
      .set(bearer(granted.body.key))
      .send({ name: 'x' })
      .expect(403);
    await t
      .http()
      .get('/v1/links/6b1f3c1e-0000-4000-8000-000000000000')
      .set(bearer(t.adminKey))
      .expect(404);
    const bad = await t.http().get('/v1/links/123').set(bearer(t.adminKey)).expect(400);
    expect(bad.body.errors[0].field).toBe('id');
  });

  it('patches a link, records what changed, and never echoes the new secret', async () => {
    const link = (await create(GOOGLE_LINK).expect(201)).body;
    const renamed = await t
      .http()
      .patch(`/v1/links/${link.id}`)
      .set(bearer(t.adminKey))
      .send({ name: 'Renamed', clientSecret: 'rotated-secret-value' })
      .expect(200);
    expect(renamed.body).toMatchObject({
      name: 'Renamed',
      hasClientSecret: true,
      status: 'pending_authorization',
    });
    expect(JSON.stringify(renamed.body)).not.toContain('rotated-secret-value');

    const scopes = await t
      .http()
      .patch(`/v1/links/${link.id}`)
      .set(bearer(t.adminKey))
      .send({ scopePreset: 'smtp' })
      .expect(200);
    expect(scopes.body.scopes).toEqual(['https://mail.google.com/']);
    const invalid = await t
      .http()
      .patch(`/v1/links/${link.id}`)
      .set(bearer(t.adminKey))
      .send({ tokenEndpoint: 'https://x.example.com' })
      .expect(400);
    expect(invalid.body.errors[0].field).toBe('tokenEndpoint');

    const events = await t
      .http()
      .get(`/v1/links/${link.id}/events`)
      .set(bearer(t.adminKey))
      .expect(200);
    const types = events.body.items.map((event: { type: string }) => event.type);
    expect(types).toEqual(['updated', 'updated', 'created']);
    expect(events.body.items[0].actor).toBe(events.body.items[2].actor);
    expect(JSON.stringify(events.body)).not.toContain('rotated-secret-value');
    expect(JSON.stringify(events.body)).not.toContain(GOOGLE_LINK.clientSecret);
  });

  it('deletes a link: gone from reads, secrets wiped, audit trail kept', async () => {
    const link = (await create(GOOGLE_LINK).expect(201)).body;
    await t.http().delete(`/v1/links/${link.id}`).set(bearer(t.adminKey)).expect(204);
    await t.http().get(`/v1/links/${link.id}`).set(bearer(t.adminKey)).expect(404);
    await t.http().delete(`/v1/links/${link.id}`).set(bearer(t.adminKey)).expect(404);
    const listed = await t.http().get('/v1/links?limit=200').set(bearer(t.adminKey)).expect(200);
    expect(listed.body.items.map((item: { id: string }) => item.id)).not.toContain(link.id);
    const rows = await t.dataSource.query(
      'SELECT client_secret_encrypted, access_token_encrypted, refresh_token_encrypted FROM links WHERE id = $1',
      [link.id],
    );
    expect(rows[0]).toEqual({
      client_secret_encrypted: null,
      access_token_encrypted: null,
      refresh_token_encrypted: null,
    });
    const events = await t
      .http()
      .get(`/v1/links/${link.id}/events`)
      .set(bearer(t.adminKey))
      .expect(200);
    expect(events.body.items[0].type).toBe('deleted');
  });
});
