// `npm run keys:rotate`: re-encrypts every encrypted column under the first key of
// ENCRYPTION_KEYS (SPEC §8).
//
// Rotating a key without downtime:
//   1. Prepend a new key to ENCRYPTION_KEYS on every replica and restart them all: from then on
//      they encrypt under the new key and still decrypt under the old one. Generate a key with
//      e.g. `echo "k$(date +%Y%m%d):$(openssl rand -base64 32)"`. In embedded mode without
//      ENCRYPTION_KEYS the ring lives in DATA_DIR/encryption-keys; prepend the entry there.
//   2. Run `npm run keys:rotate` with the same configuration (DATABASE_URL, ENCRYPTION_KEYS,
//      DATA_DIR). The service may keep running with DATABASE_URL; in embedded mode stop it first,
//      since only one process can open DATA_DIR.
//   3. Once it reports every column done, remove the old key from ENCRYPTION_KEYS everywhere and
//      restart the replicas again.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AppConfig, ConfigError, loadConfig } from '../config/app-config.js';
import { fillInGeneratedSecrets } from '../config/generated-secrets.js';
import { KeyRing } from '../crypto/key-ring.js';
import { reencryptColumns } from '../crypto/key-rotation.js';
import { dataSourceOptions, type DatabaseTarget } from '../database/data-source-options.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../database/embedded-postgres.js';
import { ENCRYPTED_COLUMNS } from '../database/encrypted-columns.js';
import { runMigrationsExclusively } from '../database/migration-runner.js';

const log = (message: string): void => console.log(message);

function readConfig(): AppConfig | undefined {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return undefined;
  }
}

async function openEmbedded(dataDir: string): Promise<EmbeddedPostgres | undefined> {
  try {
    return await startEmbeddedPostgres(dataDir, { log });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(
      'keys:rotate could not open the embedded database. In embedded mode (no DATABASE_URL) ' +
        'only one process can use DATA_DIR: stop the service, run keys:rotate, then start it again.',
    );
    return undefined;
  }
}

async function rotate(target: DatabaseTarget, keyRing: KeyRing): Promise<void> {
  const dataSource = new DataSource(dataSourceOptions(target));
  await dataSource.initialize();
  try {
    const applied = await runMigrationsExclusively(dataSource);
    if (applied.length > 0) log(`Applied ${applied.length} pending migration(s) first.`);

    log(`Re-encrypting every encrypted column under key "${keyRing.currentKeyId}"...`);
    const results = await reencryptColumns(dataSource, keyRing, ENCRYPTED_COLUMNS);
    if (results.length === 0) log('No encrypted columns are registered yet: nothing to do.');
    for (const { column, reencrypted, skipped } of results) {
      const raced =
        skipped > 0 ? `, ${skipped} changed meanwhile by the service and left as written` : '';
      log(`  ${column}: ${reencrypted} re-encrypted${raced}`);
    }
    const reencrypted = results.reduce((sum, result) => sum + result.reencrypted, 0);
    const skipped = results.reduce((sum, result) => sum + result.skipped, 0);
    log(`Done: ${reencrypted} value(s) re-encrypted; current key "${keyRing.currentKeyId}".`);
    if (skipped > 0) {
      log(
        'Some rows changed while rotating. Run keys:rotate again: it reports 0 re-encrypted once every ' +
          'replica writes under the new key.',
      );
    } else {
      log(
        'Once every replica runs with this key first, older keys can be removed from ENCRYPTION_KEYS.',
      );
    }
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<number> {
  let config = readConfig();
  if (config === undefined) return 1;

  let embedded: EmbeddedPostgres | undefined;
  let target: DatabaseTarget;
  if (config.databaseUrl === undefined) {
    // The data-dir lock comes first, as in main.ts, so that nothing is touched while the service runs.
    embedded = await openEmbedded(config.dataDir);
    if (embedded === undefined) return 1;
    target = { url: embedded.url, embedded: true };
    log(`Embedded PostgreSQL (PGlite) in ${config.dataDir}`);
  } else {
    target = { url: config.databaseUrl, embedded: false };
  }
  try {
    config = fillInGeneratedSecrets(config, log);
    await rotate(target, new KeyRing(config.encryptionKeys));
    return 0;
  } finally {
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
