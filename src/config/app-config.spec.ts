import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { AppConfig, ConfigError, loadConfig } from './app-config.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');

function configErrorOf(env: Record<string, string>): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toBeInstanceOf(AppConfig);
    expect({ ...config }).toEqual({
      port: 3000,
      host: '0.0.0.0',
      publicBaseUrl: 'http://localhost:3000',
      databaseUrl: undefined,
      dataDir: resolve('./data'),
      adminApiKey: undefined,
      encryptionKeys: [],
      allowInsecureEndpoints: false,
      outboundAllow: { hostNames: [], cidrs: [] },
      refreshLeadSeconds: 300,
      refreshCheckIntervalSeconds: 30,
      assumedTokenLifetimeSeconds: 0,
      providerTimeoutSeconds: 10,
      refreshConcurrency: 16,
      authFailuresPerMinute: 20,
      trustProxy: false,
      minRefreshIntervalSeconds: 30,
      eventRetentionDays: 180,
      webhookPollIntervalSeconds: 5,
      // SPEC §15 device authorization
      devicePollCheckSeconds: 1,
      logLevel: 'info',
      production: false,
    });
    expect(config.redirectUrl).toBe('http://localhost:3000/v1/oauth/callback');
  });

  it('reads and converts every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://outlink:pw@db:5432/outlink',
      DATA_DIR: '/var/lib/outlink',
      ADMIN_API_KEY: `olk_${'A'.repeat(32)}`,
      ENCRYPTION_KEYS: `new:${KEY_A}, old:${KEY_B}`,
      ALLOW_INSECURE_ENDPOINTS: 'yes',
      OUTBOUND_ALLOW: 'idp.internal, 10.20.0.0/16',
      REFRESH_LEAD_SECONDS: '600',
      REFRESH_CHECK_INTERVAL_SECONDS: ' 15 ',
      LOG_LEVEL: 'debug',
      NODE_ENV: 'production',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      publicBaseUrl: 'http://localhost:8080',
      databaseUrl: 'postgresql://outlink:pw@db:5432/outlink',
      dataDir: '/var/lib/outlink',
      adminApiKey: `olk_${'A'.repeat(32)}`,
      allowInsecureEndpoints: true,
      outboundAllow: { hostNames: ['idp.internal'], cidrs: ['10.20.0.0/16'] },
      refreshLeadSeconds: 600,
      refreshCheckIntervalSeconds: 15,
      logLevel: 'debug',
      production: true,
    });
    expect(config.encryptionKeys.map((key) => key.id)).toEqual(['new', 'old']);
    expect(config.encryptionKeys[0].key.equals(Buffer.from(KEY_A, 'base64'))).toBe(true);
  });

  it('lists every bad variable at once in one ConfigError', () => {
    const error = configErrorOf({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      ALLOW_INSECURE_ENDPOINTS: 'maybe',
      DATABASE_URL: 'mysql://x',
      ENCRYPTION_KEYS: 'bad',
      TRUST_PROXY: 'maybe',
      OUTBOUND_ALLOW: 'http://idp.internal',
    });
    for (const variable of [
      'PORT',
      'LOG_LEVEL',
      'ALLOW_INSECURE_ENDPOINTS',
      'DATABASE_URL',
      'ENCRYPTION_KEYS',
      'TRUST_PROXY',
      'OUTBOUND_ALLOW',
    ]) {
      expect(error.problems.filter((problem) => problem.startsWith(variable))).not.toHaveLength(0);
      expect(error.message).toContain(`  - ${variable}`);
    }
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(/^Invalid configuration:\n/);
  });

  it('reads TRUST_PROXY as Fastify takes it: true, false, a hop count or trusted addresses', () => {
    const trustProxyOf = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;
    expect(trustProxyOf('')).toBe(false);
    expect(trustProxyOf('false')).toBe(false);
    expect(trustProxyOf('TRUE')).toBe(true);
    expect(trustProxyOf('2')).toBe(2);
    expect(trustProxyOf('10.0.0.1, 10.1.0.0/16,fd00::/8 ,::1,loopback,uniquelocal')).toEqual([
      '10.0.0.1',
      '10.1.0.0/16',
      'fd00::/8',
      '::1',
      'loopback',
      'uniquelocal',
    ]);
  });

  it('refuses a TRUST_PROXY that Fastify could not use, naming the bad entries', () => {
    for (const value of ['yes', '10.0.0.1,', '10.0.0.0/33', 'proxy.example.com', '256', '-1']) {
      const error = configErrorOf({ TRUST_PROXY: value });
      expect({ value, problems: error.problems.length }).toEqual({ value, problems: 1 });
      expect(error.problems[0]).toMatch(/^TRUST_PROXY: /);
    }
    expect(configErrorOf({ TRUST_PROXY: '10.0.0.1,proxy.example.com' }).problems[0]).toContain(
      '"proxy.example.com"',
    );
  });

  it('names every OUTBOUND_ALLOW entry that is neither a host name nor an address or CIDR', () => {
    const error = configErrorOf({ OUTBOUND_ALLOW: 'ok.example, 10.0.0.0/40, https://x' });
    expect(error.problems).toEqual([
      'OUTBOUND_ALLOW: "10.0.0.0/40" has an invalid prefix length (0-32)',
      'OUTBOUND_ALLOW: "https://x" is neither a host name nor an IP address or CIDR',
    ]);
  });

  it('refuses out-of-range numbers', () => {
    const error = configErrorOf({ PORT: '70000', REFRESH_CHECK_INTERVAL_SECONDS: '0' });
    expect(error.problems).toHaveLength(2);
    expect(error.problems.join('\n')).toMatch(/PORT/);
    expect(error.problems.join('\n')).toMatch(/REFRESH_CHECK_INTERVAL_SECONDS/);
  });

  // SPEC §13 webhooks
  it('reads WEBHOOK_POLL_INTERVAL_SECONDS within 1-3600', () => {
    expect(loadConfig({ WEBHOOK_POLL_INTERVAL_SECONDS: '30' }).webhookPollIntervalSeconds).toBe(30);
    for (const bad of ['0', '3601', 'soon']) {
      const { problems } = configErrorOf({ WEBHOOK_POLL_INTERVAL_SECONDS: bad });
      expect(problems.length).toBeGreaterThan(0);
      for (const problem of problems) expect(problem).toMatch(/^WEBHOOK_POLL_INTERVAL_SECONDS /);
    }
  });

  // SPEC §15 device authorization
  it('reads DEVICE_POLL_CHECK_SECONDS within 1-3600', () => {
    expect(loadConfig({ DEVICE_POLL_CHECK_SECONDS: '7' }).devicePollCheckSeconds).toBe(7);
    for (const bad of ['0', '3601', 'often']) {
      const { problems } = configErrorOf({ DEVICE_POLL_CHECK_SECONDS: bad });
      expect(problems.length).toBeGreaterThan(0);
      for (const problem of problems) expect(problem).toMatch(/^DEVICE_POLL_CHECK_SECONDS /);
    }
  });

  it('requires ENCRYPTION_KEYS with DATABASE_URL in production only', () => {
    const databaseUrl = 'postgres://outlink@db/outlink';
    const error = configErrorOf({ NODE_ENV: 'production', DATABASE_URL: databaseUrl });
    expect(error.problems).toEqual([expect.stringMatching(/^ENCRYPTION_KEYS is required/)]);

    expect(loadConfig({ DATABASE_URL: databaseUrl }).production).toBe(false);
    expect(loadConfig({ NODE_ENV: 'development', DATABASE_URL: databaseUrl }).databaseUrl).toBe(
      databaseUrl,
    );
    // Embedded production keeps its generated key file; with keys given, PostgreSQL is fine too.
    expect(loadConfig({ NODE_ENV: 'production' }).production).toBe(true);
    expect(
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: databaseUrl,
        ENCRYPTION_KEYS: `k:${KEY_A}`,
      }).encryptionKeys,
    ).toHaveLength(1);
  });

  it('trims trailing slashes from PUBLIC_BASE_URL and builds the redirect URL from it', () => {
    const config = loadConfig({ PUBLIC_BASE_URL: 'https://outlink.example.com/base//' });
    expect(config.publicBaseUrl).toBe('https://outlink.example.com/base');
    expect(config.redirectUrl).toBe('https://outlink.example.com/base/v1/oauth/callback');
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://outlink.example.com/' }).redirectUrl).toBe(
      'https://outlink.example.com/v1/oauth/callback',
    );
    for (const bad of ['outlink.example.com', 'ftp://x', 'https://x/?a=1', 'https://x/#f']) {
      expect(configErrorOf({ PUBLIC_BASE_URL: bad }).problems).toEqual([
        expect.stringMatching(/^PUBLIC_BASE_URL/),
      ]);
    }
  });

  it('never quotes a provided secret in its error message', () => {
    const shortKey = randomBytes(31).toString('base64');
    const adminKey = `olk_short${'x'.repeat(5)}`;
    const error = configErrorOf({
      ENCRYPTION_KEYS: `good:${KEY_A},short:${shortKey},${KEY_B},good:${KEY_A}`,
      ADMIN_API_KEY: adminKey,
      DATABASE_URL: 'mysql://outlink:hunter2-password@db/outlink',
      PORT: 'abc',
    });
    // Each problem was found ...
    expect(error.problems.join('\n')).toMatch(/entry 2: the key decodes to 31 bytes/);
    expect(error.problems.join('\n')).toMatch(/entry 3 is not of the form/);
    expect(error.problems.join('\n')).toMatch(/entry 4: key id "good" is used more than once/);
    expect(error.problems.join('\n')).toMatch(/ADMIN_API_KEY/);
    // ... and none of the values shows.
    for (const secret of [KEY_A, KEY_B, shortKey, adminKey, 'hunter2-password']) {
      expect(error.message).not.toContain(secret);
      expect(error.problems.join('\n')).not.toContain(secret);
    }
  });
});
