import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { resolve } from 'node:path';
import { parseEncryptionKeys, type EncryptionKey } from './encryption-keys.js';
import { NOTHING_ALLOWED, parseOutboundAllow, type OutboundAllowList } from './outbound-allow.js';
import { EnvDto, type LogLevel } from './env.dto.js';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js';

/** A start-up configuration problem: the message lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The validated, typed configuration. A class so that it doubles as the DI token; its values
 * come from the environment once, at boot (loadConfig), or from a test.
 */
export class AppConfig {
  port: number;
  host: string;
  publicBaseUrl: string;
  /** Unset means embedded PGlite under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  adminApiKey?: string;
  /** Empty until generated-secrets fills it in for embedded or development mode. */
  encryptionKeys: EncryptionKey[];
  allowInsecureEndpoints: boolean;
  /** Host names and CIDRs the outbound policy lets Outlink connect to although not public. */
  outboundAllow: OutboundAllowList;
  refreshLeadSeconds: number;
  refreshCheckIntervalSeconds: number;
  /** Tokens without an expiry count as expired at this age; 0: only a forced refresh renews them. */
  assumedTokenLifetimeSeconds: number;
  providerTimeoutSeconds: number;
  /** Provider calls one replica's background refresher makes at once. */
  refreshConcurrency: number;
  authFailuresPerMinute: number;
  /** Fastify's trustProxy: whose X-Forwarded-For gives the client address (limits, logs). */
  trustProxy: TrustProxy;
  /** A still-valid token obtained less than this ago is not refreshed on demand (SPEC §11). */
  minRefreshIntervalSeconds: number;
  /** Link events older than this are purged; 0 keeps them forever. */
  eventRetentionDays: number;
  // SPEC §13 webhooks
  /** How often each replica looks for due webhook deliveries. */
  webhookPollIntervalSeconds: number;
  // SPEC §15 device authorization
  /** How often each replica looks for device authorizations due to be polled. */
  devicePollCheckSeconds: number;
  logLevel: LogLevel;
  production: boolean;

  get redirectUrl(): string {
    return `${this.publicBaseUrl}/v1/oauth/callback`;
  }

  constructor(values: Omit<AppConfig, 'redirectUrl'>) {
    Object.assign(this, values);
  }
}

function flattenValidationErrors(errors: ValidationError[]): string[] {
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) ? message : `${error.property}: ${message}`,
    ),
  );
}

/**
 * Validates the environment and builds the AppConfig.
 * @throws ConfigError listing every problem, so an operator fixes them all in one go.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const dto = plainToInstance(EnvDto, env, { exposeDefaultValues: true });
  const problems = flattenValidationErrors(validateSync(dto, { forbidUnknownValues: false }));

  let encryptionKeys: EncryptionKey[] = [];
  if (dto.ENCRYPTION_KEYS !== undefined) {
    const parsed = parseEncryptionKeys(dto.ENCRYPTION_KEYS);
    encryptionKeys = parsed.keys;
    problems.push(...parsed.problems.map((problem) => `ENCRYPTION_KEYS: ${problem}`));
  }
  const { trustProxy, problems: trustProxyProblems } = parseTrustProxy(dto.TRUST_PROXY);
  problems.push(...trustProxyProblems.map((problem) => `TRUST_PROXY: ${problem}`));
  let outboundAllow = NOTHING_ALLOWED;
  if (dto.OUTBOUND_ALLOW !== undefined) {
    const parsed = parseOutboundAllow(dto.OUTBOUND_ALLOW);
    outboundAllow = parsed.allow;
    problems.push(...parsed.problems.map((problem) => `OUTBOUND_ALLOW: ${problem}`));
  }
  const production = dto.NODE_ENV === 'production';
  if (production && dto.DATABASE_URL !== undefined && dto.ENCRYPTION_KEYS === undefined) {
    problems.push(
      'ENCRYPTION_KEYS is required with DATABASE_URL in production: every replica must share the same keys',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return new AppConfig({
    port: dto.PORT,
    host: dto.HOST,
    publicBaseUrl: (dto.PUBLIC_BASE_URL ?? `http://localhost:${dto.PORT}`).replace(/\/+$/, ''),
    databaseUrl: dto.DATABASE_URL,
    dataDir: resolve(dto.DATA_DIR),
    adminApiKey: dto.ADMIN_API_KEY,
    encryptionKeys,
    allowInsecureEndpoints: dto.ALLOW_INSECURE_ENDPOINTS,
    outboundAllow,
    refreshLeadSeconds: dto.REFRESH_LEAD_SECONDS,
    refreshCheckIntervalSeconds: dto.REFRESH_CHECK_INTERVAL_SECONDS,
    assumedTokenLifetimeSeconds: dto.ASSUMED_TOKEN_LIFETIME_SECONDS,
    providerTimeoutSeconds: dto.PROVIDER_TIMEOUT_SECONDS,
    refreshConcurrency: dto.REFRESH_CONCURRENCY,
    authFailuresPerMinute: dto.AUTH_FAILURES_PER_MINUTE,
    trustProxy,
    minRefreshIntervalSeconds: dto.MIN_REFRESH_INTERVAL_SECONDS,
    eventRetentionDays: dto.EVENT_RETENTION_DAYS,
    // SPEC §13 webhooks
    webhookPollIntervalSeconds: dto.WEBHOOK_POLL_INTERVAL_SECONDS,
    // SPEC §15 device authorization
    devicePollCheckSeconds: dto.DEVICE_POLL_CHECK_SECONDS,
    logLevel: dto.LOG_LEVEL,
    production,
  });
}
