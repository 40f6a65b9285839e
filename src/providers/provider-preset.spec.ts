import { describe, expect, it } from '@jest/globals';
import {
  getProviderPreset,
  isProviderId,
  isValidMicrosoftTenant,
  PROVIDER_IDS,
  PROVIDER_PRESETS,
  SCOPE_PRESET_IDS,
  type ProviderSettings,
} from './provider-preset.js';

const NONE: ProviderSettings = { tenant: null, cloud: null };

describe('provider presets', () => {
  it('has one preset per provider id, in order', () => {
    expect(PROVIDER_PRESETS.map((preset) => preset.id)).toEqual([...PROVIDER_IDS]);
    for (const id of PROVIDER_IDS) expect(getProviderPreset(id).id).toBe(id);
    expect(isProviderId('google')).toBe(true);
    expect(isProviderId('Google')).toBe(false);
    expect(isProviderId('__proto__')).toBe(false);
  });

  it('google: fixed endpoints, offline access parameters and the mail scope', () => {
    const google = getProviderPreset('google');
    expect(google.endpoints(NONE)).toEqual({
      authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
      issuer: 'https://accounts.google.com',
    });
    expect(google.authorizationParams).toEqual({ access_type: 'offline', prompt: 'consent' });
    expect(google.alwaysRequestedScopes).toEqual([]);
    expect(google.scopePresets(NONE)).toEqual({
      imap: ['https://mail.google.com/'],
      pop3: ['https://mail.google.com/'],
      smtp: ['https://mail.google.com/'],
    });
    expect(google.notes.join(' ')).toMatch(/Testing.*7 days/);
    expect(google.missingRefreshTokenAdvice).toMatch(/access_type=offline/);
    expect(google.missingRefreshTokenAdvice).toContain('https://myaccount.google.com/permissions');
  });

  it('microsoft: defaults to tenant organizations on the global cloud, without revocation', () => {
    const microsoft = getProviderPreset('microsoft');
    expect(microsoft.settingsDefaults).toEqual({ tenant: 'organizations', cloud: 'global' });
    const expected = {
      authorizationEndpoint:
        'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize',
      tokenEndpoint: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token',
      revocationEndpoint: null,
      issuer: 'https://login.microsoftonline.com/organizations/v2.0',
    };
    expect(microsoft.endpoints(microsoft.settingsDefaults)).toEqual(expected);
    expect(microsoft.endpoints(NONE)).toEqual(expected);
    expect(microsoft.alwaysRequestedScopes).toEqual(['offline_access']);
    expect(microsoft.authorizationParams).toEqual({});
    expect(microsoft.notes.join(' ')).toContain('AADSTS7000222');
    expect(microsoft.missingRefreshTokenAdvice).toContain('offline_access');
  });

  it('microsoft: substitutes the tenant and the cloud, including usgov', () => {
    const microsoft = getProviderPreset('microsoft');
    const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    expect(microsoft.endpoints({ tenant: tenantId, cloud: 'global' })).toEqual({
      authorizationEndpoint: `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/authorize`,
      tokenEndpoint: `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/token`,
      revocationEndpoint: null,
      issuer: `https://login.microsoftonline.com/${tenantId}/v2.0`,
    });
    expect(microsoft.endpoints({ tenant: 'contoso.onmicrosoft.us', cloud: 'usgov' })).toEqual({
      authorizationEndpoint:
        'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/authorize',
      tokenEndpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token',
      revocationEndpoint: null,
      issuer: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/v2.0',
    });
    expect(microsoft.endpoints({ tenant: null, cloud: 'usgov' })?.tokenEndpoint).toBe(
      'https://login.microsoftonline.us/organizations/oauth2/v2.0/token',
    );
    expect(microsoft.endpoints({ tenant: 'consumers', cloud: null })?.authorizationEndpoint).toBe(
      'https://login.microsoftonline.com/consumers/oauth2/v2.0/authorize',
    );
  });

  it('microsoft: refuses to build URLs from an unvalidated tenant', () => {
    const microsoft = getProviderPreset('microsoft');
    for (const tenant of ['../x', 'evil.com/x', 'a b', '']) {
      expect(() => microsoft.endpoints({ tenant, cloud: 'global' })).toThrow(RangeError);
    }
  });

  it('microsoft: scope presets of both clouds', () => {
    const microsoft = getProviderPreset('microsoft');
    const global = {
      imap: ['https://outlook.office.com/IMAP.AccessAsUser.All'],
      pop3: ['https://outlook.office.com/POP.AccessAsUser.All'],
      smtp: ['https://outlook.office.com/SMTP.Send'],
    };
    expect(microsoft.scopePresets({ tenant: null, cloud: 'global' })).toEqual(global);
    expect(microsoft.scopePresets(NONE)).toEqual(global);
    expect(microsoft.scopePresets({ tenant: 'common', cloud: 'usgov' })).toEqual({
      imap: ['https://outlook.office365.us/IMAP.AccessAsUser.All'],
      pop3: ['https://outlook.office365.us/POP.AccessAsUser.All'],
      smtp: ['https://outlook.office365.us/SMTP.Send'],
    });
  });

  // SPEC §15
  it('microsoft: the china cloud (21Vianet) has its own login host and mail resource', () => {
    const microsoft = getProviderPreset('microsoft');
    const china = { tenant: 'contoso.partner.onmschina.cn', cloud: 'china' } as const;
    expect(microsoft.endpoints(china)).toEqual({
      authorizationEndpoint:
        'https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/oauth2/v2.0/authorize',
      tokenEndpoint:
        'https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/oauth2/v2.0/token',
      revocationEndpoint: null,
      issuer: 'https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/v2.0',
    });
    expect(microsoft.scopePresets(china).imap).toEqual([
      'https://partner.outlook.cn/IMAP.AccessAsUser.All',
    ]);
  });

  it('microsoft: app-only mail asks each cloud for its Exchange Online resource, .default', () => {
    const microsoft = getProviderPreset('microsoft');
    const appOnly = (scope: string) => ({ imap: [scope], pop3: [scope], smtp: [scope] });
    expect(microsoft.clientCredentialsScopePresets(NONE)).toEqual(
      appOnly('https://outlook.office365.com/.default'),
    );
    expect(microsoft.clientCredentialsScopePresets({ tenant: null, cloud: 'usgov' })).toEqual(
      appOnly('https://outlook.office365.us/.default'),
    );
    expect(microsoft.clientCredentialsScopePresets({ tenant: null, cloud: 'china' })).toEqual(
      appOnly('https://partner.outlook.cn/.default'),
    );
    expect(microsoft.clientCredentialsRefusedTenants).toEqual([
      'organizations',
      'common',
      'consumers',
    ]);
    expect(getProviderPreset('google').clientCredentialsScopePresets(NONE)).toEqual({});
    expect(getProviderPreset('custom').clientCredentialsScopePresets(NONE)).toEqual({});
    expect(microsoft.notes.join(' ')).toMatch(/IMAP\.AccessAsApp.*SMTP\.SendAsApp/);
  });

  it('device authorization endpoints: microsoft per tenant and cloud; none for google and custom', () => {
    const microsoft = getProviderPreset('microsoft');
    expect(microsoft.deviceAuthorizationEndpoint(NONE)).toBe(
      'https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode',
    );
    expect(microsoft.deviceAuthorizationEndpoint({ tenant: 'consumers', cloud: 'usgov' })).toBe(
      'https://login.microsoftonline.us/consumers/oauth2/v2.0/devicecode',
    );
    expect(getProviderPreset('google').deviceAuthorizationEndpoint(NONE)).toBeNull();
    expect(getProviderPreset('custom').deviceAuthorizationEndpoint(NONE)).toBeNull();
  });

  it('says it supports the device flow exactly when it has a device endpoint (custom: by discovery)', () => {
    for (const preset of PROVIDER_PRESETS) {
      const endpoint = preset.deviceAuthorizationEndpoint(preset.settingsDefaults);
      if (preset.endpoints(preset.settingsDefaults) === null) continue;
      expect({ id: preset.id, deviceFlow: preset.supports.deviceFlow }).toEqual({
        id: preset.id,
        deviceFlow: endpoint !== null,
      });
    }
  });

  it('custom: no endpoints and no scope presets; asks for endpoints or an issuer', () => {
    const custom = getProviderPreset('custom');
    expect(custom.endpoints(NONE)).toBeNull();
    expect(custom.scopePresets(NONE)).toEqual({});
    expect(custom.alwaysRequestedScopes).toEqual([]);
    expect(custom.authorizationParams).toEqual({});
    expect(custom.fields.prefilled).toEqual([]);
    expect(custom.fields.required).toEqual(
      expect.arrayContaining(['clientId', 'authorizationEndpoint+tokenEndpoint|issuer']),
    );
    expect(custom.fields.optional).toEqual(
      expect.arrayContaining([
        'revocationEndpoint',
        'clientSecret',
        'tokenEndpointAuthMethod',
        'pkce',
        'authorizationParams',
      ]),
    );
    expect(custom.notes.join(' ')).toMatch(/discovery/);
    expect(custom.missingRefreshTokenAdvice).toContain('offline_access');
  });

  it('every preset: https endpoints, known scope preset ids, no field both required and optional', () => {
    for (const preset of PROVIDER_PRESETS) {
      const endpoints = preset.endpoints(preset.settingsDefaults);
      for (const url of Object.values(endpoints ?? {})) {
        if (url !== null) expect(new URL(url).protocol).toBe('https:');
      }
      for (const id of Object.keys(preset.scopePresets(preset.settingsDefaults))) {
        expect(SCOPE_PRESET_IDS).toContain(id);
      }
      const required = preset.fields.required.flatMap((entry) => entry.split(/[|+]/));
      for (const field of preset.fields.optional) expect(required).not.toContain(field);
      expect(preset.notes.length).toBeGreaterThan(0);
      expect(preset.missingRefreshTokenAdvice.length).toBeGreaterThan(20);
    }
  });

  it('presets cannot be changed by the code that reads them', () => {
    const google = getProviderPreset('google');
    expect(() => {
      google.authorizationParams.prompt = 'none';
    }).toThrow(TypeError);
    expect(() => google.notes.push('x')).toThrow(TypeError);
    google.scopePresets(NONE).imap!.push('mutated');
    expect(google.scopePresets(NONE).imap).toEqual(['https://mail.google.com/']);
  });
});

describe('isValidMicrosoftTenant', () => {
  it.each([
    'organizations',
    'common',
    'consumers',
    '72f988bf-86f1-41af-91ab-2d7cd011db47',
    '72F988BF-86F1-41AF-91AB-2D7CD011DB47',
    'contoso.onmicrosoft.com',
    'mail.example.co.uk',
    'xn--bcher-kva.example',
  ])('accepts %s', (tenant) => {
    expect(isValidMicrosoftTenant(tenant)).toBe(true);
  });

  it.each([
    '../x',
    'a b',
    '',
    'https://x',
    'contoso',
    'contoso.onmicrosoft.com/',
    'contoso..com',
    '.contoso.com',
    '-contoso.com',
    'contoso-.com',
    '10.0.0.1',
    'contoso.com?x=1',
    'contoso.com#x',
    'contoso%2Ecom',
    'Organizations ',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
  ])('rejects %j', (tenant) => {
    expect(isValidMicrosoftTenant(tenant)).toBe(false);
  });
});
