import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', '']);

/** Environment strings to booleans; anything else stays a string so @IsBoolean reports it. */
function toBoolean({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}

/** Environment strings to integers; anything else stays a string so @IsInt reports it. */
function toInteger({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  return /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

function emptyToUndefined({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable Outlink reads (SPEC §1), validated once at boot. Business code never
 * reads process.env; it gets the typed AppConfig built from this.
 */
export class EnvDto {
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsOptional()
  @IsString()
  @MinLength(1)
  HOST: string = '0.0.0.0';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message: 'PUBLIC_BASE_URL must be an absolute http(s) URL without query or fragment',
  })
  PUBLIC_BASE_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// or postgresql:// connection string',
  })
  DATABASE_URL?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  DATA_DIR: string = './data';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^olk_[A-Za-z0-9]{32,}$/, {
    message: 'ADMIN_API_KEY must be "olk_" followed by at least 32 letters or digits',
  })
  ADMIN_API_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  ENCRYPTION_KEYS?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  ALLOW_INSECURE_ENDPOINTS: boolean = false;

  /** Exceptions to the outbound policy: host names and CIDRs, parsed by loadConfig. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  OUTBOUND_ALLOW?: string;

  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(86400)
  REFRESH_LEAD_SECONDS: number = 300;

  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(86400)
  REFRESH_CHECK_INTERVAL_SECONDS: number = 30;

  /** For tokens issued without expires_in: the age at which they count as expired; 0 = never. */
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(31536000)
  ASSUMED_TOKEN_LIFETIME_SECONDS: number = 0;

  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(120)
  PROVIDER_TIMEOUT_SECONDS: number = 10;

  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(256)
  REFRESH_CONCURRENCY: number = 16;

  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100000)
  AUTH_FAILURES_PER_MINUTE: number = 20;

  /** Which proxies' X-Forwarded-For to believe; parsed by parseTrustProxy in loadConfig. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  TRUST_PROXY?: string;

  /** A still-valid token younger than this is not refreshed on demand again; 0: no budget. */
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(86400)
  MIN_REFRESH_INTERVAL_SECONDS: number = 30;

  /** Link events older than this many days are purged; 0: kept forever. */
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(36500)
  EVENT_RETENTION_DAYS: number = 180;

  // SPEC §13 webhooks
  /** How often each replica looks for due webhook deliveries (its own commits wake it at once). */
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(3600)
  WEBHOOK_POLL_INTERVAL_SECONDS: number = 5;

  // SPEC §15 device authorization
  /** How often each replica looks for device authorizations due to be polled (RFC 8628). */
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(3600)
  DEVICE_POLL_CHECK_SECONDS: number = 1;

  @IsOptional()
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @IsOptional()
  @IsString()
  @MaxLength(32)
  NODE_ENV: string = 'development';
}
