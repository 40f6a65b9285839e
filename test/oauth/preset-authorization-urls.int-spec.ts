import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

/** The real Google and Microsoft cannot be reached from here: check the URLs Outlink builds for them. */
describe(`authorization URLs of the Google and Microsoft presets (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://outlink.example.com' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function authorizationUrl(link: object): Promise<URL> {
    const created = await t.http().post('/v1/links').set(bearer(t.adminKey)).send(link).expect(201);
    const started = await t
      .http()
      .post(`/v1/links/${created.body.id}/authorize`)
      .set(bearer(t.adminKey))
      .expect(201);
    return new URL(started.body.authorizationUrl);
  }

  it('asks Google for offline access with consent, PKCE and the mail scope', async () => {
    const url = await authorizationUrl({
      name: 'Gmail',
      provider: 'google',
      clientId: 'g-client',
      clientSecret: 'g-secret',
      scopePreset: 'imap',
    });
    expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'g-client',
      redirect_uri: 'https://outlink.example.com/v1/oauth/callback',
      scope: 'https://mail.google.com/',
      access_type: 'offline',
      prompt: 'consent',
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('state')!.length).toBeGreaterThanOrEqual(22);
    expect(url.toString()).not.toContain('g-secret');
  });

  it('lets a link override a preset parameter', async () => {
    const url = await authorizationUrl({
      name: 'Gmail',
      provider: 'google',
      clientId: 'g-client',
      scopes: ['openid', 'email'],
      authorizationParams: { prompt: 'select_account consent', login_hint: 'support@example.com' },
    });
    expect(url.searchParams.get('prompt')).toBe('select_account consent');
    expect(url.searchParams.get('login_hint')).toBe('support@example.com');
    expect(url.searchParams.get('access_type')).toBe('offline');
  });

  it('asks Microsoft (global and GCC High) for the mail scope plus offline_access on the tenant', async () => {
    const global = await authorizationUrl({
      name: 'Exchange',
      provider: 'microsoft',
      clientId: 'm-client',
      clientSecret: 's',
      scopePreset: 'imap',
      tenant: 'contoso.onmicrosoft.com',
    });
    expect(`${global.origin}${global.pathname}`).toBe(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
    );
    expect(global.searchParams.get('scope')).toBe(
      'https://outlook.office.com/IMAP.AccessAsUser.All offline_access',
    );
    expect(global.searchParams.get('code_challenge_method')).toBe('S256');

    const usgov = await authorizationUrl({
      name: 'Exchange GCC High',
      provider: 'microsoft',
      clientId: 'm-client',
      clientSecret: 's',
      scopePreset: 'smtp',
      cloud: 'usgov',
    });
    expect(`${usgov.origin}${usgov.pathname}`).toBe(
      'https://login.microsoftonline.us/organizations/oauth2/v2.0/authorize',
    );
    expect(usgov.searchParams.get('scope')).toBe(
      'https://outlook.office365.us/SMTP.Send offline_access',
    );
  });

  it('does not change the link status when authorization starts', async () => {
    const created = await t
      .http()
      .post('/v1/links')
      .set(bearer(t.adminKey))
      .send({ name: 'x', provider: 'google', clientId: 'c', scopePreset: 'smtp' })
      .expect(201);
    await t
      .http()
      .post(`/v1/links/${created.body.id}/authorize`)
      .set(bearer(t.adminKey))
      .expect(201);
    const after = await t
      .http()
      .get(`/v1/links/${created.body.id}`)
      .set(bearer(t.adminKey))
      .expect(200);
    expect(after.body.status).toBe('pending_authorization');
    await t
      .http()
      .post('/v1/links/6b1f3c1e-0000-4000-8000-000000000000/authorize')
      .set(bearer(t.adminKey))
      .expect(404);
  });
});
