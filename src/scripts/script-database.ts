// What the command-line tools (`keys:rotate`, `migration:run`) share: the configuration read and
// validated as the service reads it, and the database it names opened the way the service opens
// it (embedded PGlite behind the data-dir lock, or DATABASE_URL).
import { AppConfig, ConfigError, loadConfig } from '../config/app-config.js';
import { fillInGeneratedSecrets } from '../generated-secrets.js';
import type { DatabaseTarget } from '../database/data-source-options.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../database/embedded-postgres.js';

export const log = (message: string): void => console.log(message);

export interface ScriptOptions {
  /** As `npm run <name>`, for messages. */
  name: string;
  /** Reads (or, on a fresh data dir, generates) the key files as the service does. */
  needsSecrets: boolean;
}

/**
 * Runs `work` against the configured database and resolves with the process exit code: 1 with a
 * message when the configuration is invalid or the embedded database is in use, 0 on success.
 */
export async function runWithConfiguredDatabase(
  options: ScriptOptions,
  work: (target: DatabaseTarget, config: AppConfig) => Promise<void>,
): Promise<number> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 1;
  }

  let embedded: EmbeddedPostgres | undefined;
  let target: DatabaseTarget;
  if (config.databaseUrl === undefined) {
    // The data-dir lock comes first, as in main.ts, so that nothing is touched while the service runs.
    try {
      embedded = await startEmbeddedPostgres(config.dataDir, { log });
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      console.error(
        `${options.name} could not open the embedded database. In embedded mode (no DATABASE_URL) ` +
          `only one process can use DATA_DIR: stop the service, run ${options.name}, then start it again.`,
      );
      return 1;
    }
    target = { url: embedded.url, embedded: true };
    log(`Embedded PostgreSQL (PGlite) in ${config.dataDir}`);
  } else {
    target = { url: config.databaseUrl, embedded: false };
  }
  try {
    if (options.needsSecrets) config = fillInGeneratedSecrets(config, log);
    await work(target, config);
    return 0;
  } finally {
    await embedded?.stop();
  }
}

/** Ends the process with the tool's exit code; an unexpected error prints its message only. */
export function exitWith(result: Promise<number>): void {
  result.then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
