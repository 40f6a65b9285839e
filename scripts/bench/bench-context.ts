import { join } from 'node:path';
import type { KeyRing } from '../../src/crypto/key-ring.js';
import type { Backend, BenchDatabase } from './bench-database.js';
import type { FakeTokenEndpoint } from './fake-token-endpoint.js';
import type { ForeignCpuMeter } from './foreign-cpu.js';
import { startServer, type ServerProcess } from './server-process.js';

export interface BenchSettings {
  /** Measured seconds per route of the hot path. */
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  stampedeRequests: number;
  fleetSizes: Record<Backend, number[]>;
  /** Token requests per second sent during a fleet refresh (20 connections share it). */
  fleetLoadRate: number;
  fleetTimeoutSeconds: number;
  refreshLeadSeconds: number;
  refreshConcurrency: number;
  /** auto: profile the service when the PostgreSQL hot-path target is missed. */
  profile: 'auto' | 'always' | 'never';
  /** Before a measurement, wait up to this long for other processes to use < 10 % of the CPU. */
  quietWaitSeconds: number;
}

/** What every scenario shares: the keys, the fake provider, where files go. */
export interface BenchContext {
  root: string;
  /** Scratch directory for the services' logs. */
  workDir: string;
  /** Where CPU profiles are written (git-ignored). */
  profileDir: string;
  encryptionKeys: string;
  keyRing: KeyRing;
  adminKey: string;
  consumerKey: string;
  provider: FakeTokenEndpoint;
  providerUrl: string;
  settings: BenchSettings;
  /** How busy other processes keep the machine. */
  meter: ForeignCpuMeter;
}

let serviceRuns = 0;

/** The real service, `node dist/main.js`, as production runs it, on the given database. */
export async function startService(
  context: BenchContext,
  database: BenchDatabase,
  name: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  serviceRuns++;
  const service = await startServer({
    script: join(context.root, 'dist/main.js'),
    nodeArgs,
    readyPath: '/health/ready',
    logPath: join(context.workDir, `${String(serviceRuns).padStart(2, '0')}-${name}.log`),
    env: {
      ...database.serverEnv,
      NODE_ENV: 'production',
      ENCRYPTION_KEYS: context.encryptionKeys,
      ADMIN_API_KEY: context.adminKey,
      ALLOW_INSECURE_ENDPOINTS: 'true',
      // The bench's token endpoint listens on loopback, which the outbound policy refuses.
      OUTBOUND_ALLOW: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  context.meter.own(service.pid);
  return service;
}

export const QUIET_PERCENT = 10;

/** Waits (bounded) for a quiet machine, then starts counting other processes' CPU. */
export async function settle(context: BenchContext): Promise<void> {
  const percent = await context.meter.waitForQuiet(
    QUIET_PERCENT,
    context.settings.quietWaitSeconds,
  );
  if (percent >= QUIET_PERCENT)
    console.log(
      `  (other processes still use ${percent.toFixed(0)} % of the CPU: measuring anyway)`,
    );
  context.meter.start();
}

export const bearer = (key: string): Record<string, string> => ({
  authorization: `Bearer ${key}`,
});

export const tokenPath = (linkId: string): string => `/v1/links/${linkId}/token?minValidity=60`;

export function randomItem<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}
