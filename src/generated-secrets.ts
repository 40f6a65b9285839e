import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApiKey } from './auth/api-key-secret.js';
import { generateEncryptionKeyEntry, parseEncryptionKeys } from './config/encryption-keys.js';
import { AppConfig, ConfigError } from './config/app-config.js';

export const ADMIN_KEY_FILE = 'admin-api-key';
export const ENCRYPTION_KEYS_FILE = 'encryption-keys';

interface SecretFileResult {
  value: string;
  path: string;
  created: boolean;
}

/** Reads a secret file, or creates it (mode 0600, exclusive create) with a generated value. */
function readOrCreateSecretFile(
  dataDir: string,
  name: string,
  generate: () => string,
): SecretFileResult {
  const path = join(dataDir, name);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), path, created: false };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const value = generate();
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, path, created: true };
}

/**
 * Zero-setup start (SPEC §1): in embedded mode, and in development with DATABASE_URL, a missing
 * admin key or encryption key ring is generated into DATA_DIR once and reused afterwards. Logs
 * name the file, never its content. In production with DATABASE_URL, loadConfig has already
 * refused a missing ENCRYPTION_KEYS, because replicas on other machines could not share a file.
 */
export function fillInGeneratedSecrets(
  config: AppConfig,
  log: (message: string) => void,
): AppConfig {
  const mayGenerate = config.databaseUrl === undefined || !config.production;
  if (!mayGenerate) return config;
  const completed = new AppConfig({ ...config });

  if (completed.encryptionKeys.length === 0) {
    const file = readOrCreateSecretFile(config.dataDir, ENCRYPTION_KEYS_FILE, () =>
      generateEncryptionKeyEntry(),
    );
    const parsed = parseEncryptionKeys(file.value);
    if (parsed.problems.length > 0) {
      throw new ConfigError(parsed.problems.map((problem) => `${file.path}: ${problem}`));
    }
    completed.encryptionKeys = parsed.keys;
    log(
      file.created
        ? `Generated an encryption key into ${file.path} (back it up: without it stored secrets cannot be read)`
        : `Using the encryption keys in ${file.path}`,
    );
    if (config.databaseUrl !== undefined) {
      log(
        'ENCRYPTION_KEYS is not set: every replica must use the same keys; set it before running more than one',
      );
    }
  }

  if (completed.adminApiKey === undefined) {
    const file = readOrCreateSecretFile(config.dataDir, ADMIN_KEY_FILE, generateApiKey);
    completed.adminApiKey = file.value;
    log(
      file.created
        ? `Generated an admin API key into ${file.path}`
        : `Using the admin API key in ${file.path}`,
    );
  }
  return completed;
}
