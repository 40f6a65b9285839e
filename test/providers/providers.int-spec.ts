import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const PROBLEM_JSON = 'application/problem+json';

describe(`providers (${BACKEND})`, () => {
  let t: TestApp;
  let consumerKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    const created = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'mail-handler', role: 'consumer', allLinks: true })
      .expect(201);
    consumerKey = created.body.key;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the three presets with what they fill in and what they need', async () => {
    const response = await t.http().get('/v1/providers').set(bearer(t.adminKey)).expect(200);
    expect(Object.keys(response.body)).toEqual(['items']);
    const items = response.body.items;
    expect(items.map((item: { id: string }) => item.id)).toEqual(['google', 'microsoft', 'custom']);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(
        [
          'alwaysRequestedScopes',
          'authorizationParams',
          'description',
          'displayName',
          'id',
          'missingRefreshTokenAdvice',
          'notes',
          'optionalFields',
          'prefilled',
          'requiredFields',
          'scopePresets',
          'scopePresetsByCloud',
          'settings',
          'supports',
        ].sort(),
      );
      expect(item.requiredFields).toContain('clientId');
      expect(item.notes.length).toBeGreaterThan(0);
    }
    const [google, microsoft, custom] = items;
    expect(google.prefilled).toEqual({
      authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
      issuer: 'https://accounts.google.com',
    });
    expect(microsoft.prefilled).toEqual({
      authorizationEndpoint:
        'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize',
      tokenEndpoint: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token',
      revocationEndpoint: null,
      issuer: 'https://login.microsoftonline.com/organizations/v2.0',
    });
    expect(custom).toMatchObject({
      prefilled: {
        authorizationEndpoint: null,
        tokenEndpoint: null,
        revocationEndpoint: null,
        issuer: null,
      },
      scopePresets: {},
      scopePresetsByCloud: null,
      settings: { tenant: null, cloud: null },
    });
    expect(custom.requiredFields).toContain('authorizationEndpoint+tokenEndpoint|issuer');
    expect(custom.optionalFields).toEqual(
      expect.arrayContaining(['revocationEndpoint', 'clientSecret', 'pkce']),
    );
  });

  it('shows Google’s offline parameters, the mail scope and the 7-day Testing note', async () => {
    const response = await t.http().get('/v1/providers/google').set(bearer(t.adminKey)).expect(200);
    const google = response.body;
    expect(google).toMatchObject({
      id: 'google',
      displayName: 'Google',
      authorizationParams: { access_type: 'offline', prompt: 'consent' },
      alwaysRequestedScopes: [],
      scopePresets: {
        imap: ['https://mail.google.com/'],
        pop3: ['https://mail.google.com/'],
        smtp: ['https://mail.google.com/'],
      },
      scopePresetsByCloud: null,
      settings: { tenant: null, cloud: null },
    });
    expect(google.notes.some((note: string) => /Testing.*7 days/.test(note))).toBe(true);
    expect(google.missingRefreshTokenAdvice).toMatch(/access_type=offline.*prompt=consent/);
  });

  it('shows Microsoft’s offline_access, both clouds and the expired-secret note', async () => {
    const response = await t
      .http()
      .get('/v1/providers/microsoft')
      .set(bearer(t.adminKey))
      .expect(200);
    const microsoft = response.body;
    expect(microsoft).toMatchObject({
      id: 'microsoft',
      alwaysRequestedScopes: ['offline_access'],
      authorizationParams: {},
      scopePresets: {
        imap: ['https://outlook.office.com/IMAP.AccessAsUser.All'],
        pop3: ['https://outlook.office.com/POP.AccessAsUser.All'],
        smtp: ['https://outlook.office.com/SMTP.Send'],
      },
      scopePresetsByCloud: {
        global: {
          imap: ['https://outlook.office.com/IMAP.AccessAsUser.All'],
          pop3: ['https://outlook.office.com/POP.AccessAsUser.All'],
          smtp: ['https://outlook.office.com/SMTP.Send'],
        },
        usgov: {
          imap: ['https://outlook.office365.us/IMAP.AccessAsUser.All'],
          pop3: ['https://outlook.office365.us/POP.AccessAsUser.All'],
          smtp: ['https://outlook.office365.us/SMTP.Send'],
        },
        // SPEC §15
        china: {
          imap: ['https://partner.outlook.cn/IMAP.AccessAsUser.All'],
          pop3: ['https://partner.outlook.cn/POP.AccessAsUser.All'],
          smtp: ['https://partner.outlook.cn/SMTP.Send'],
        },
      },
      settings: {
        tenant: {
          default: 'organizations',
          wellKnownValues: ['organizations', 'common', 'consumers'],
        },
        cloud: { default: 'global', allowedValues: ['global', 'usgov', 'china'] },
      },
    });
    expect(microsoft.settings.tenant.description).toContain('{tenant}');
    expect(microsoft.settings.cloud.description).toContain('login.microsoftonline.us');
    expect(microsoft.optionalFields).toEqual(expect.arrayContaining(['tenant', 'cloud']));
    expect(microsoft.notes.some((note: string) => note.includes('AADSTS7000222'))).toBe(true);
    expect(microsoft.missingRefreshTokenAdvice).toContain('offline_access');
  });

  // SPEC §15
  it('shows what each preset supports: grant types, client authentication, device flow, app-only mail', async () => {
    const response = await t.http().get('/v1/providers').set(bearer(t.adminKey)).expect(200);
    const supports = Object.fromEntries(
      response.body.items.map((item: { id: string; supports: unknown }) => [
        item.id,
        item.supports,
      ]),
    );
    const secretMethods = ['client_secret_basic', 'client_secret_post'];
    const secretOrKeyMethods = [...secretMethods, 'private_key_jwt'];
    expect(supports).toEqual({
      google: {
        grantTypes: ['authorization_code', 'jwt_bearer'],
        tokenEndpointAuthMethods: secretMethods,
        deviceFlow: false,
        appOnlyMail: false,
        appOnlyScopePresets: {},
      },
      microsoft: {
        grantTypes: ['authorization_code', 'client_credentials'],
        tokenEndpointAuthMethods: secretOrKeyMethods,
        deviceFlow: true,
        appOnlyMail: true,
        appOnlyScopePresets: {
          imap: ['https://outlook.office365.com/.default'],
          pop3: ['https://outlook.office365.com/.default'],
          smtp: ['https://outlook.office365.com/.default'],
        },
      },
      custom: {
        grantTypes: ['authorization_code', 'client_credentials', 'jwt_bearer'],
        tokenEndpointAuthMethods: secretOrKeyMethods,
        deviceFlow: true,
        appOnlyMail: false,
        appOnlyScopePresets: {},
      },
    });
    const single = await t
      .http()
      .get('/v1/providers/microsoft')
      .set(bearer(t.adminKey))
      .expect(200);
    expect(single.body.supports).toEqual(supports.microsoft);
  });

  it('answers 404 problem+json for an unknown provider without echoing it', async () => {
    for (const id of ['github', 'Google', '__proto__', 'constructor', '%3Cscript%3E']) {
      const response = await t
        .http()
        .get(`/v1/providers/${id}`)
        .set(bearer(t.adminKey))
        .expect(404);
      expect(response.headers['content-type']).toContain(PROBLEM_JSON);
      expect(response.body).toMatchObject({ status: 404, code: 'not_found' });
      expect(response.body.detail).toContain('google, microsoft, custom');
      expect(response.body.detail).not.toContain('script');
    }
  });

  it('is for admins only: 403 for a consumer key, 401 without a key', async () => {
    for (const path of ['/v1/providers', '/v1/providers/google', '/v1/oauth/redirect-url']) {
      const forbidden = await t.http().get(path).set(bearer(consumerKey)).expect(403);
      expect(forbidden.headers['content-type']).toContain(PROBLEM_JSON);
      expect(forbidden.body.code).toBe('forbidden');
      const unauthorized = await t.http().get(path).expect(401);
      expect(unauthorized.headers['content-type']).toContain(PROBLEM_JSON);
      expect(unauthorized.body.code).toBe('unauthorized');
    }
  });

  it('warns that the default redirect URL is on localhost', async () => {
    const response = await t
      .http()
      .get('/v1/oauth/redirect-url')
      .set(bearer(t.adminKey))
      .expect(200);
    expect(response.body.redirectUrl).toBe(`http://localhost:${t.config.port}/v1/oauth/callback`);
    expect(response.body.redirectUrl).toBe(t.config.redirectUrl);
    expect(response.body.warnings).toHaveLength(1);
    expect(response.body.warnings[0]).toMatch(/localhost.*Microsoft.*Google.*PUBLIC_BASE_URL/);
  });
});

describe(`redirect URL with PUBLIC_BASE_URL (${BACKEND})`, () => {
  async function redirectUrlFor(
    publicBaseUrl: string,
  ): Promise<{ redirectUrl: string; warnings: string[] }> {
    const t = await startTestApp({ env: { PUBLIC_BASE_URL: publicBaseUrl } });
    try {
      const response = await t
        .http()
        .get('/v1/oauth/redirect-url')
        .set(bearer(t.adminKey))
        .expect(200);
      return response.body;
    } finally {
      await t.close();
    }
  }

  it('has no warning for a public https URL', async () => {
    expect(await redirectUrlFor('https://outlink.example.com/')).toEqual({
      redirectUrl: 'https://outlink.example.com/v1/oauth/callback',
      warnings: [],
    });
  });

  it('warns about a private IP address and plain http', async () => {
    const body = await redirectUrlFor('http://10.1.2.3:3000');
    expect(body.redirectUrl).toBe('http://10.1.2.3:3000/v1/oauth/callback');
    expect(body.warnings).toHaveLength(2);
    expect(body.warnings[0]).toMatch(/10\.1\.2\.3 is a private IP address.*Google refuses/);
    expect(body.warnings[1]).toMatch(/plain http:\/\/.*Google and Microsoft/);
  });
});
