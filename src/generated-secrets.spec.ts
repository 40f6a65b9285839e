import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config/app-config.js';
import {
  ADMIN_KEY_FILE,
  ENCRYPTION_KEYS_FILE,
  fillInGeneratedSecrets,
} from './generated-secrets.js';

describe('fillInGeneratedSecrets', () => {
  let root: string;
  let dataDir: string;
  let logLines: string[];
  const log = (message: string): void => {
    logLines.push(message);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'outlink-secrets-'));
    // Not created yet: the first start must create DATA_DIR itself.
    dataDir = join(root, 'data');
    logLines = [];
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const modeOf = (path: string): number => statSync(path).mode & 0o777;

  it('creates the admin key and encryption key files (0600) on the first embedded start, naming only the paths', () => {
    const config = loadConfig({ DATA_DIR: dataDir });
    const completed = fillInGeneratedSecrets(config, log);

    const adminKeyPath = join(dataDir, ADMIN_KEY_FILE);
    const keysPath = join(dataDir, ENCRYPTION_KEYS_FILE);
    expect(modeOf(adminKeyPath)).toBe(0o600);
    expect(modeOf(keysPath)).toBe(0o600);
    expect(modeOf(dataDir) & 0o077).toBe(0);

    expect(completed.adminApiKey).toMatch(/^olk_[A-Za-z0-9]{32,}$/);
    expect(readFileSync(adminKeyPath, 'utf8').trim()).toBe(completed.adminApiKey);
    expect(completed.encryptionKeys).toHaveLength(1);
    expect(completed.encryptionKeys[0].key).toHaveLength(32);
    const keyEntry = readFileSync(keysPath, 'utf8').trim();
    const encodedKey = completed.encryptionKeys[0].key.toString('base64');
    expect(keyEntry).toBe(`${completed.encryptionKeys[0].id}:${encodedKey}`);
    // The input is left as it was.
    expect(config.adminApiKey).toBeUndefined();
    expect(config.encryptionKeys).toEqual([]);

    const logged = logLines.join('\n');
    expect(logged).toContain(adminKeyPath);
    expect(logged).toContain(keysPath);
    expect(logged).not.toContain(completed.adminApiKey);
    expect(logged).not.toContain(encodedKey);
    expect(logged).not.toContain(keyEntry);
  });

  it('reuses the same values on the next start', () => {
    const first = fillInGeneratedSecrets(loadConfig({ DATA_DIR: dataDir }), log);
    logLines = [];
    const second = fillInGeneratedSecrets(loadConfig({ DATA_DIR: dataDir }), log);

    expect(second.adminApiKey).toBe(first.adminApiKey);
    expect(second.encryptionKeys.map((key) => key.id)).toEqual(
      first.encryptionKeys.map((key) => key.id),
    );
    expect(second.encryptionKeys[0].key.equals(first.encryptionKeys[0].key)).toBe(true);
    expect(logLines).toEqual([
      `Using the encryption keys in ${join(dataDir, ENCRYPTION_KEYS_FILE)}`,
      `Using the admin API key in ${join(dataDir, ADMIN_KEY_FILE)}`,
    ]);
  });

  it('generates nothing in production with DATABASE_URL', () => {
    const config = loadConfig({
      DATA_DIR: dataDir,
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://outlink@db/outlink',
      ENCRYPTION_KEYS: `prod:${randomBytes(32).toString('base64')}`,
    });
    const completed = fillInGeneratedSecrets(config, log);

    expect(existsSync(dataDir)).toBe(false);
    expect(completed.adminApiKey).toBeUndefined();
    expect(completed.encryptionKeys.map((key) => key.id)).toEqual(['prod']);
    expect(logLines).toEqual([]);
  });

  it('generates in development with DATABASE_URL, and warns that replicas need shared keys', () => {
    const completed = fillInGeneratedSecrets(
      loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://outlink@db/outlink' }),
      log,
    );
    expect(completed.encryptionKeys).toHaveLength(1);
    expect(existsSync(join(dataDir, ENCRYPTION_KEYS_FILE))).toBe(true);
    expect(logLines.join('\n')).toMatch(/every replica must use the same keys/);
  });

  it('keeps a provided ADMIN_API_KEY and ENCRYPTION_KEYS and writes no file for them', () => {
    const adminKey = `olk_${'P'.repeat(40)}`;
    const provided = randomBytes(32);
    const completed = fillInGeneratedSecrets(
      loadConfig({
        DATA_DIR: dataDir,
        ADMIN_API_KEY: adminKey,
        ENCRYPTION_KEYS: `mine:${provided.toString('base64')}`,
      }),
      log,
    );
    expect(completed.adminApiKey).toBe(adminKey);
    expect(completed.encryptionKeys.map((key) => key.id)).toEqual(['mine']);
    expect(completed.encryptionKeys[0].key.equals(provided)).toBe(true);
    expect(existsSync(join(dataDir, ADMIN_KEY_FILE))).toBe(false);
    expect(existsSync(join(dataDir, ENCRYPTION_KEYS_FILE))).toBe(false);
    expect(logLines).toEqual([]);
  });

  it('does not overwrite generated files when values are provided later', () => {
    const generated = fillInGeneratedSecrets(loadConfig({ DATA_DIR: dataDir }), log);
    const adminFile = readFileSync(join(dataDir, ADMIN_KEY_FILE), 'utf8');
    const keysFile = readFileSync(join(dataDir, ENCRYPTION_KEYS_FILE), 'utf8');

    const adminKey = `olk_${'Q'.repeat(40)}`;
    const completed = fillInGeneratedSecrets(
      loadConfig({
        DATA_DIR: dataDir,
        ADMIN_API_KEY: adminKey,
        ENCRYPTION_KEYS: `later:${randomBytes(32).toString('base64')}`,
      }),
      log,
    );
    expect(completed.adminApiKey).toBe(adminKey);
    expect(completed.adminApiKey).not.toBe(generated.adminApiKey);
    expect(completed.encryptionKeys.map((key) => key.id)).toEqual(['later']);
    expect(readFileSync(join(dataDir, ADMIN_KEY_FILE), 'utf8')).toBe(adminFile);
    expect(readFileSync(join(dataDir, ENCRYPTION_KEYS_FILE), 'utf8')).toBe(keysFile);
  });

  it('refuses a damaged key file without quoting it', () => {
    const damaged = randomBytes(20).toString('base64');
    fillInGeneratedSecrets(loadConfig({ DATA_DIR: dataDir }), log);
    writeFileSync(join(dataDir, ENCRYPTION_KEYS_FILE), `k1:${damaged}\n`);
    let caught: unknown;
    try {
      fillInGeneratedSecrets(loadConfig({ DATA_DIR: dataDir }), log);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).name).toBe('ConfigError');
    expect((caught as Error).message).toContain(join(dataDir, ENCRYPTION_KEYS_FILE));
    expect((caught as Error).message).not.toContain(damaged);
  });
});
