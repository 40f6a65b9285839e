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
import { KeyRing } from '../crypto/key-ring.js';
import { reencryptColumns } from '../crypto/key-rotation.js';
import { dataSourceOptions, type DatabaseTarget } from '../database/data-source-options.js';
import { ENCRYPTED_COLUMNS } from '../database/encrypted-columns.js';
import { runMigrationsExclusively } from '../database/migration-runner.js';
import { exitWith, log, runWithConfiguredDatabase } from './script-database.js';

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

exitWith(
  runWithConfiguredDatabase({ name: 'keys:rotate', needsSecrets: true }, (target, config) =>
    rotate(target, new KeyRing(config.encryptionKeys)),
  ),
);
