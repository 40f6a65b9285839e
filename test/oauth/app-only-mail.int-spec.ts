import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCustomLink, tokenOf } from '../support/connected-link.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Microsoft app-only mail (SPEC §15). The real Microsoft cannot be reached from here: the links
 * Outlink builds for it are checked, and the token answer's rules run against a client-credentials
 * link on the test oidc-provider.
 */
describe(`Microsoft app-only mail and the mailbox of a token answer (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;

  beforeAll(async () => {
    t = await startTestApp({
      env: { ALLOW_INSECURE_ENDPOINTS: 'true', PUBLIC_BASE_URL: 'https://outlink.example.com' },
    });
    provider = await startTestProvider({ redirectUri: t.config.redirectUrl });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  const createLink = (link: object) =>
    t.http().post('/v1/links').set(bearer(t.adminKey)).send(link);
  const appOnly = (overrides: object) => ({
    name: 'Helpdesk mailbox',
    provider: 'microsoft',
    grantType: 'client_credentials',
    clientId: 'm-client',
    clientSecret: 'm-secret',
    tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    ...overrides,
  });

  it('requests the Exchange Online resource .default of each cloud, without offline_access', async () => {
    const cases = [
      {
        cloud: 'global',
        scope: 'https://outlook.office365.com/.default',
        login: 'https://login.microsoftonline.com',
      },
      {
        cloud: 'usgov',
        scope: 'https://outlook.office365.us/.default',
        login: 'https://login.microsoftonline.us',
      },
      {
        cloud: 'china',
        scope: 'https://partner.outlook.cn/.default',
        login: 'https://login.chinacloudapi.cn',
      },
    ];
    for (const { cloud, scope, login } of cases) {
      for (const scopePreset of ['imap', 'pop3', 'smtp']) {
        const created = await createLink(appOnly({ cloud, scopePreset })).expect(201);
        expect(created.body).toMatchObject({
          grantType: 'client_credentials',
          cloud,
          scopes: [scope],
          tokenEndpoint: `${login}/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token`,
        });
      }
    }
  });

  it('refuses app-only links on a tenant that names no organisation (the default included)', async () => {
    for (const tenant of ['organizations', 'common', 'consumers', undefined]) {
      const refused = await createLink(appOnly({ tenant, scopePreset: 'imap' })).expect(400);
      expect(refused.body.errors).toEqual([
        {
          field: 'tenant',
          message: `client_credentials needs the tenant ID or a verified domain as tenant, not ${tenant ?? 'organizations'}`,
        },
      ]);
    }
    await createLink(appOnly({ tenant: 'contoso.onmicrosoft.com', scopePreset: 'smtp' })).expect(
      201,
    );
  });

  it('keeps the delegated scopes for the authorization-code grant, also in the china cloud', async () => {
    const created = await createLink({
      name: 'Exchange China',
      provider: 'microsoft',
      clientId: 'm-client',
      clientSecret: 's',
      scopePreset: 'imap',
      cloud: 'china',
    }).expect(201);
    const started = await t
      .http()
      .post(`/v1/links/${created.body.id}/authorize`)
      .set(bearer(t.adminKey))
      .expect(201);
    const url = new URL(started.body.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(
      'https://login.chinacloudapi.cn/organizations/oauth2/v2.0/authorize',
    );
    expect(url.searchParams.get('scope')).toBe(
      'https://partner.outlook.cn/IMAP.AccessAsUser.All offline_access',
    );
  });

  it('refuses a scope preset a provider has no app-only form of, and creates nothing', async () => {
    const before = (await t.http().get('/v1/links').set(bearer(t.adminKey)).expect(200)).body.items
      .length;
    const refused = await createLink({
      name: 'x',
      provider: 'custom',
      grantType: 'client_credentials',
      clientId: 'c',
      clientSecret: 's',
      tokenEndpoint: `${provider.issuer}/token`,
      scopePreset: 'imap',
    }).expect(400);
    expect(refused.body.errors).toEqual([
      {
        field: 'scopePreset',
        message: 'the custom provider has no imap preset for client_credentials',
      },
    ]);
    const after = (await t.http().get('/v1/links').set(bearer(t.adminKey)).expect(200)).body.items
      .length;
    expect(after).toBe(before);
  });

  describe('a client-credentials link on a real provider', () => {
    let linkId: string;
    beforeAll(async () => {
      ({ id: linkId } = await createCustomLink(t, provider, {
        grantType: 'client_credentials',
        scopes: [provider.customScope],
        authorizationEndpoint: undefined,
        authorizationParams: undefined,
      }));
    });

    it('answers without xoauth2 or oauthbearer while no mailbox is known', async () => {
      const answer = await tokenOf(t, linkId).expect(200);
      expect(typeof answer.body.accessToken).toBe('string');
      expect(answer.body).not.toHaveProperty('xoauth2');
      expect(answer.body).not.toHaveProperty('oauthbearer');
    });

    it('answers 400 when format=xoauth2 is asked without a mailbox', async () => {
      for (const format of ['xoauth2', 'oauthbearer']) {
        const refused = await tokenOf(t, linkId, `?format=${format}`).expect(400);
        expect(refused.body.code).toBe('validation_failed');
        expect(refused.body.errors).toEqual([
          { field: 'user', message: `format=${format} needs the mailbox: give user` },
        ]);
        expect(refused.body.detail).toMatch(/app-only .* acts for no user/);
        expect(JSON.stringify(refused.body)).not.toMatch(/accessToken/);
      }
      await tokenOf(t, linkId, '?format=plain').expect(400);
    });

    it('builds xoauth2 and oauthbearer for the mailbox named with user', async () => {
      const answer = await tokenOf(t, linkId, '?format=xoauth2&user=helpdesk%40example.com').expect(
        200,
      );
      const token = answer.body.accessToken as string;
      expect(Buffer.from(answer.body.xoauth2 as string, 'base64').toString('utf8')).toBe(
        `user=helpdesk@example.com\x01auth=Bearer ${token}\x01\x01`,
      );
      expect(Buffer.from(answer.body.oauthbearer as string, 'base64').toString('utf8')).toBe(
        `n,a=helpdesk@example.com,\x01auth=Bearer ${token}\x01\x01`,
      );
    });
  });
});
