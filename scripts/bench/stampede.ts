import { bearer, settle, startService, tokenPath, type BenchContext } from './bench-context.js';
import type { Backend, BenchDatabase } from './bench-database.js';
import { runLoad, type LoadResult } from './load.js';
import { logProblems } from './server-process.js';

export interface StampedeResult {
  backend: Backend;
  load: LoadResult;
  /** HTTP status -> answers. */
  statuses: Record<string, number>;
  /** Different access tokens handed out: 1 when every caller got the one refresh's result. */
  distinctAccessTokens: number;
  /** Answers with expiresIn < 60 despite minValidity=60: must be 0. */
  shortValidity: number;
  grants: number;
  replays: number;
  /** Bodies of non-200 answers (cut short), with how often each came. */
  failures: Record<string, number>;
  /** Warnings and errors the service logged. */
  logProblems: { message: string; count: number }[];
}

/**
 * SPEC §7's single flight: a burst of concurrent requests on one link whose token has just
 * expired, against a fresh service process (nothing cached), must cause exactly one refresh.
 */
export async function runStampede(
  context: BenchContext,
  database: BenchDatabase,
  linkId: string,
): Promise<StampedeResult> {
  const backend = database.backend;
  const requests = context.settings.stampedeRequests;
  console.log(`[stampede/${backend}] ${requests} concurrent requests on one expired link`);
  context.provider.reset();
  await database.withPool((pool) =>
    pool.query(
      `UPDATE links SET access_token_expires_at = now() - interval '1 second',
              last_refreshed_at = now() - interval '3601 seconds'
        WHERE id = $1`,
      [linkId],
    ),
  );
  const service = await startService(context, database, `stampede-${backend}`);
  const statuses: Record<string, number> = {};
  const accessTokens = new Set<string>();
  let shortValidity = 0;
  const failures: Record<string, number> = {};
  let result: StampedeResult;
  try {
    await settle(context);
    const load = await runLoad({
      baseUrl: service.baseUrl,
      connections: requests,
      amount: requests,
      headers: bearer(context.consumerKey),
      path: () => tokenPath(linkId),
      onResponse: (status, body) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status !== 200) {
          const key = `${status} ${body.slice(0, 300)}`;
          failures[key] = (failures[key] ?? 0) + 1;
          return;
        }
        const answer = JSON.parse(body) as { accessToken: string; expiresIn: number };
        accessTokens.add(answer.accessToken);
        if (answer.expiresIn < 60) shortValidity++;
      },
    });
    load.foreignCpuPercent = context.meter.read();
    const { grants, replays } = context.provider.snapshot;
    console.log(
      `[stampede/${backend}] ${load.responses} answers ${JSON.stringify(statuses)} in ${load.durationSeconds.toFixed(2)} s, p99 ${load.latencyMs.p99.toFixed(1)} ms; ${grants} refresh grant(s), ${replays} replay(s)`,
    );
    result = {
      backend,
      load,
      statuses,
      distinctAccessTokens: accessTokens.size,
      shortValidity,
      grants,
      replays,
      failures,
      logProblems: [],
    };
  } finally {
    await service.stop();
  }
  result.logProblems = logProblems(service.logPath);
  return result;
}
