import type { BenchSettings } from './bench-context.js';
import type { Backend } from './bench-database.js';
import { PROVIDER_LATENCY_MS } from './fake-token-endpoint.js';
import type { FleetResult } from './fleet-refresh.js';
import {
  hotPathTargetMet,
  p99TargetMet,
  P99_TARGET_FACTOR,
  RATIO_TARGET,
  type HotPathResult,
} from './hot-path.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { LoadResult } from './load.js';
import type { StampedeResult } from './stampede.js';

export interface Environment {
  command: string;
  date: string;
  cores: number;
  cpuModel: string;
  totalMemoryBytes: number;
  node: string;
  os: string;
  postgresVersion: string;
  pgliteVersion: string;
  runSeconds: number;
}

export interface BenchResults {
  environment: Environment;
  settings: BenchSettings;
  hotPath: HotPathResult[];
  stampede: StampedeResult[];
  fleet: FleetResult[];
  /** Fleet sizes skipped, with the reason. */
  notMeasured: { backend: Backend; links: number; reason: string }[];
  chartPath: string;
}

const BACKEND_NAME: Record<Backend, string> = { postgresql: 'PostgreSQL', pglite: 'PGlite' };
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-');
const int = (value: number): string => Math.round(value).toLocaleString('en-US');
const mib = (bytes: number | undefined): string =>
  bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const other = (result: LoadResult): string =>
  result.foreignCpuPercent === undefined ? '-' : result.foreignCpuPercent.toFixed(0);
const yesNo = (ok: boolean): string => (ok ? 'met' : '**missed**');

function loadRow(backend: Backend, route: string, result: LoadResult, ratio: string): string {
  const { p50, p90, p99, p999, max } = result.latencyMs;
  return `| ${BACKEND_NAME[backend]} | ${route} | ${int(result.requestsPerSecond)} | ${ms(p50)} | ${ms(p90)} | ${ms(p99)} | ${ms(p999)} | ${ms(max)} | ${result.non2xx + result.errors} | ${result.serverCpuMicrosPerRequest?.toFixed(0) ?? '-'} | ${ratio} | ${other(result)} |`;
}

const code = (text: string): string => `\`${text.replace(/`/g, "'").replace(/\n/g, ' ')}\``;

function problemLines(what: string, problems: { message: string; count: number }[]): string[] {
  if (problems.length === 0) return [];
  return [
    '',
    `Warnings and errors in the service log during ${what}:`,
    '',
    ...problems.map((problem) => `- ${problem.count} x ${code(problem.message)}`),
  ];
}

/** Converts a share of a profile's busy samples into CPU microseconds per answered request. */
function microsPerRequest(summary: ProfileSummary, run: LoadResult): (percent: number) => number {
  const busyMicros = summary.totalSeconds * 1e6 * (1 - summary.idlePercent / 100);
  return (percent) => ((percent / 100) * busyMicros) / run.responses;
}

function hotPathSection(results: BenchResults): string[] {
  const { settings } = results;
  const lines = [
    '## 1. Hot path: warm `GET /v1/links/{id}/token` vs a bare Nest route',
    '',
    `${settings.connections} connections, ${settings.warmupSeconds} s warm-up then ${settings.durationSeconds} s measured per route, a random link of 100 per request, \`minValidity=60\`, tokens valid 1 h (served from the replica's cache). Consumer API key granted every link. Latencies in ms.`,
    '',
    "| back end | route | req/s | p50 | p90 | p99 | p99.9 | max | non-2xx/errors | server CPU µs/request | ratio (req/s) | other processes' CPU % |",
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of results.hotPath) {
    lines.push(loadRow(run.backend, 'token (LOG_LEVEL=warn)', run.token, run.ratio.toFixed(2)));
    lines.push(loadRow(run.backend, 'bare constant JSON', run.bare, '1'));
    lines.push(loadRow(run.backend, 'token, 1 connection', run.oneConnection.token, '-'));
    lines.push(loadRow(run.backend, 'bare, 1 connection', run.oneConnection.bare, '-'));
    if (run.tokenAtInfo) {
      const ratio = (run.tokenAtInfo.requestsPerSecond / run.bare.requestsPerSecond).toFixed(2);
      lines.push(loadRow(run.backend, 'token (LOG_LEVEL=info)', run.tokenAtInfo, ratio));
    }
  }
  const postgres = results.hotPath.find((run) => run.backend === 'postgresql');
  if (postgres) {
    lines.push(
      '',
      `**Target on PostgreSQL** (ratio >= ${RATIO_TARGET}, p99 <= ${P99_TARGET_FACTOR} x the bare route's): ratio ${postgres.ratio.toFixed(2)} ${yesNo(postgres.ratio >= RATIO_TARGET)}, p99 ${ms(postgres.token.latencyMs.p99)} ms against ${ms(P99_TARGET_FACTOR * postgres.bare.latencyMs.p99)} ms ${yesNo(p99TargetMet(postgres))} — overall ${hotPathTargetMet(postgres) ? '**met**' : '**missed**'}.`,
    );
  }
  lines.push(
    '',
    `Reading the latencies: the saturated runs are closed-loop (each of the ${settings.connections} connections sends its next request as soon as the previous answer arrives), so by Little's law the mean latency is ${settings.connections} / throughput, and the p99 mostly queueing in front of a busy server: it follows the throughput${postgres ? ` (the bare route managed ${int(postgres.bare.requestsPerSecond)} req/s with a p99 of ${ms(postgres.bare.latencyMs.p99)} ms in this run)` : ''}. The "1 connection" rows send one request at a time (the next leaves when the answer arrives): nothing queues, so they show the latency of the route itself. "Server CPU µs/request" is the service process's own CPU time (user + system, from /proc) divided by the answers: unlike requests/s it barely depends on what else runs on the machine, and bare CPU / token CPU is the ratio to expect with the load generator on another host.`,
    '',
    `![Hot-path latency percentiles](${results.chartPath})`,
    '',
    'Why LOG_LEVEL=warn: at `info` Fastify writes two JSON log lines per request (incoming request, request completed) through pino to stdout, and that serialisation and I/O would dominate a sub-millisecond handler; production deployments under this kind of load run at `warn` or ship logs asynchronously. The `info` row shows what it costs.',
  );
  for (const run of results.hotPath) {
    if (!run.profile) continue;
    const { summary, run: profiled, bare } = run.profile;
    const tokenMicros = microsPerRequest(summary, profiled);
    const bareMicros = microsPerRequest(bare.summary, bare.run);
    const bareStages = new Map(bare.summary.stages.map((entry) => [entry.name, entry.percent]));
    lines.push(
      '',
      `### CPU profile of the service (${BACKEND_NAME[run.backend]}, separate run under \`node --cpu-prof\`)`,
      '',
      `${profiled.requestsPerSecond.toFixed(0)} req/s while profiled (the bare route, profiled the same way: ${bare.run.requestsPerSecond.toFixed(0)} req/s); ${summary.totalSeconds.toFixed(1)} s of samples ${summary.windowed ? 'within the measured run (start-up and shutdown left out)' : '(whole process life)'}, ${summary.idlePercent.toFixed(1)} % idle. The .cpuprofile files are written to \`benchmarks/profiles/\` (git-ignored; open them in Chrome DevTools).`,
      '',
      `Busy CPU per request while profiled: **token ${tokenMicros(100).toFixed(0)} µs, bare ${bareMicros(100).toFixed(0)} µs**. Each stage's inclusive share of the busy samples, and what that is per request; stages can nest, so the rows do not add up. The bare column shows what the same work costs any Nest + Fastify route.`,
      '',
      '| stage (inclusive) | token: % of busy | token: µs/request | bare: µs/request |',
      '|---|---:|---:|---:|',
      ...summary.stages.map((entry) => {
        const barePercent = bareStages.get(entry.name);
        const bareCell = barePercent === undefined ? '-' : bareMicros(barePercent).toFixed(1);
        return `| ${entry.name} | ${entry.percent.toFixed(1)} | ${tokenMicros(entry.percent).toFixed(1)} | ${bareCell} |`;
      }),
      '',
      "The socket-write row is mostly time the process waited for a core (V8's profiler samples wall-clock time, and autocannon and PostgreSQL share the 2 cores): `strace -c -f -p <pid>` under the same load counts one `writev` per answer on both routes, at the same cost per call.",
      '',
      `**What is left.** The bare route is Nest's minimum: routing, one handler, serialisation. A warm token request makes no database round trip (the replica's cache answers), and since issue 10 stays inside Nest's guard, exception filter and logging while doing the minimum there (see the step table below): what remains is Nest's guard and router pipeline itself, the API-key guard (SHA-256 of the presented key, the cached principal), the request log context (an AsyncLocalStorage, which on Node 20 gives every promise of the request an async_hooks cost), a bigger reply, and prom-client's histogram; together about ${(tokenMicros(100) / bareMicros(100)).toFixed(1)} times the bare route's CPU in this profile. Unqueued (the "1 connection" rows), the token route's p99 is ${ms(run.oneConnection.token.latencyMs.p99)} ms.`,
      '',
      '| self time by module (token) | % |',
      '|---|---:|',
      ...summary.topModules.map((entry) => `| ${entry.name} | ${entry.percent.toFixed(1)} |`),
      '',
      '| self time by function (token) | % |',
      '|---|---:|',
      ...summary.topFunctions.map(
        (entry) => `| \`${entry.name.replace(/\|/g, '\\|')}\` | ${entry.percent.toFixed(1)} |`,
      ),
    );
  }
  return lines;
}

function stampedeSection(results: BenchResults): string[] {
  const lines = [
    '## 2. Stampede: one expired link, a burst of concurrent requests',
    '',
    `${results.settings.stampedeRequests} requests at once (autocannon, ${results.settings.stampedeRequests} connections, one request each) on one link whose access token expired a second earlier, on a fresh service process (nothing cached: neither the API key nor the token). The provider is the bench's token endpoint (answers after ${PROVIDER_LATENCY_MS} ms, rotates refresh tokens and refuses a replayed one).`,
    '',
    "| back end | answers | statuses | req/s | p50 ms | p99 ms | max ms | refresh grants at the provider | replays | distinct access tokens served | expiresIn < 60 | other processes' CPU % |",
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of results.stampede) {
    const { latencyMs } = run.load;
    const statuses = Object.entries(run.statuses)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    lines.push(
      `| ${BACKEND_NAME[run.backend]} | ${run.load.responses} | ${statuses} | ${int(run.load.requestsPerSecond)} | ${ms(latencyMs.p50)} | ${ms(latencyMs.p99)} | ${ms(latencyMs.max)} | **${run.grants}** ${run.grants === 1 ? '(ok)' : '(**must be 1**)'} | ${run.replays} | ${run.distinctAccessTokens} | ${run.shortValidity} | ${other(run.load)} |`,
    );
  }
  for (const run of results.stampede) {
    const failures = Object.entries(run.failures);
    if (failures.length > 0) {
      lines.push('', `Non-200 answers on ${BACKEND_NAME[run.backend]}:`, '');
      for (const [body, count] of failures) lines.push(`- ${count} x ${code(body)}`);
    }
    lines.push(...problemLines(`the ${BACKEND_NAME[run.backend]} stampede`, run.logProblems));
  }
  return lines;
}

function fleetSection(results: BenchResults): string[] {
  const { settings } = results;
  const lines = [
    '## 3. Fleet refresh',
    '',
    `Links seeded connected with tokens expiring between 5 s and ${settings.refreshLeadSeconds - 5} s from now (all within REFRESH_LEAD_SECONDS=${settings.refreshLeadSeconds}); the service started with REFRESH_CHECK_INTERVAL_SECONDS=1, **REFRESH_CONCURRENCY=${settings.refreshConcurrency}**, ALLOW_INSECURE_ENDPOINTS=true, against the bench's token endpoint (every refresh_token grant answered after ${PROVIDER_LATENCY_MS} ms with a new access token, expires_in 3600, and a rotated refresh token). Meanwhile 20 autocannon connections request tokens of random links with \`minValidity=60\` at ${settings.fleetLoadRate} req/s in total; links not yet renewed are renewed on demand by those requests. Time to fresh runs from the first grant the provider received until no link expires within the lead (PostgreSQL: \`SELECT count(*) FROM links WHERE access_token_expires_at < now() + lead\` polled every 200 ms; PGlite: the service's \`outlink_refreshes_total{result="success"}\` reaching the fleet size, because the bench must not open a second connection to PGlite while the service uses it — the SQL count is checked after the service stops). Peak RSS is the service process's VmHWM (on PGlite it includes the embedded database's worker thread).`,
    '',
    "| back end | links | seed s | time to all fresh s | refreshes/s | grants | replays | refreshed twice | background / on demand | stale after | peak RSS | token answers | non-200 | expiresIn < 60 | token p99 ms | other processes' CPU % |",
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of results.fleet) {
    const non200 = Object.entries(run.statuses)
      .filter(([status]) => status !== '200')
      .reduce((total, [, count]) => total + count, 0);
    lines.push(
      `| ${BACKEND_NAME[run.backend]} | ${int(run.links)} | ${run.seedSeconds.toFixed(1)} | ${run.completed ? run.secondsToFresh.toFixed(1) : `not done in ${settings.fleetTimeoutSeconds}`} | ${int(run.refreshesPerSecond)} | ${int(run.grants)} | ${run.replays} | ${run.linksRefreshedTwice} | ${int(run.backgroundRefreshes)} / ${int(run.onDemandRefreshes)} | ${run.staleAfter} | ${mib(run.peakRssBytes)} | ${int(run.load.responses)} | ${non200 + run.load.errors} | ${run.shortValidity} | ${ms(run.load.latencyMs.p99)} | ${other(run.load)} |`,
    );
  }
  for (const skipped of results.notMeasured) {
    lines.push(
      `| ${BACKEND_NAME[skipped.backend]} | ${int(skipped.links)} | not measured: ${skipped.reason} ||||||||||||||`,
    );
  }

  for (const run of results.fleet) {
    lines.push(
      ...problemLines(
        `the ${BACKEND_NAME[run.backend]} ${int(run.links)}-link fleet`,
        run.logProblems,
      ),
    );
  }
  lines.push(
    '',
    '### How the cost grows with the fleet',
    '',
    'Relative to the smallest fleet of the same back end: linear growth keeps "time per 1,000 links" flat.',
    '',
    '| back end | links | x links | time to fresh s | x time | ms per 1,000 links | refreshes/s | peak RSS | RSS per 1,000 links above the smallest |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const backend of ['postgresql', 'pglite'] as const) {
    const runs = results.fleet.filter((run) => run.backend === backend && run.completed);
    const base = runs[0];
    if (!base) continue;
    for (const run of runs) {
      const extraRss =
        run === base || run.peakRssBytes === undefined || base.peakRssBytes === undefined
          ? '-'
          : `${((run.peakRssBytes - base.peakRssBytes) / 2 ** 20 / ((run.links - base.links) / 1000)).toFixed(2)} MiB`;
      lines.push(
        `| ${BACKEND_NAME[backend]} | ${int(run.links)} | ${(run.links / base.links).toFixed(0)} | ${run.secondsToFresh.toFixed(1)} | ${(run.secondsToFresh / base.secondsToFresh).toFixed(1)} | ${((run.secondsToFresh * 1e6) / run.links).toFixed(0)} | ${int(run.refreshesPerSecond)} | ${mib(run.peakRssBytes)} | ${extraRss} |`,
      );
    }
  }
  return lines;
}

/** The hand-kept table of the speed work (benchmarks/hot-path-profile.md), one level down. */
function profileStepsSection(steps: string | undefined): string[] {
  if (steps === undefined) return [];
  return ['', steps.trim().replace(/^(#+) /gm, '#$1 ')];
}

export function renderMarkdown(results: BenchResults, profileSteps?: string): string {
  const { environment: env, settings } = results;
  return [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (`scripts/bench/`), which overwrites this file on every run.',
    '',
    `- Command: \`${env.command}\``,
    `- Date: ${env.date}`,
    `- Machine: ${env.cores} cores, ${env.cpuModel}, ${(env.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB memory, ${env.os}`,
    `- Node ${env.node}; PostgreSQL ${env.postgresVersion}; PGlite ${env.pgliteVersion}`,
    `- Run time of the bench script: ${(env.runSeconds / 60).toFixed(1)} min (plus the build)`,
    '',
    '## How it is measured',
    '',
    "- The service runs as its own process, `node dist/main.js`, configured through its environment as in production (`NODE_ENV=production`, `LOG_LEVEL=warn`, `ENCRYPTION_KEYS` shared with the bench). A fresh process per measurement. The bare baseline is another process (`dist-bench/scripts/bench/bare-server.js`): one Nest controller returning constant JSON on the Fastify adapter with the service's adapter options (pino logger at the same level, request ids, body limit, poisoning checks), and nothing else.",
    '- autocannon runs as a library in the bench process; the fake token endpoint runs there too. On this machine the load generator and the server share the cores, so absolute numbers are lower than on separate hosts: compare the ratio, measured back to back in one run.',
    "- Links are seeded straight into the database (connected, tokens encrypted with the service's KeyRing and `links:<id>:access_token_encrypted` contexts), and the consumer key is inserted as its SHA-256 hash, so no provider is needed for the warm path.",
    "- Latency percentiles are computed from every response's own timing (autocannon's `response` event, sub-millisecond), not from autocannon's 1 ms-resolution histogram.",
    '- The machine is shared with other work (test suites of other sessions). Before each measurement the bench waits (at most `quietWaitSeconds`) until other processes use < 10 % of the CPU, and every table says how much of the machine other processes used during the measurement ("other processes\' CPU %": every process except the bench, its servers and the PostgreSQL backends of the bench database). Rows with a high figure are pessimistic.',
    `- PostgreSQL: a scratch database created and dropped by the bench. PGlite: the embedded mode (\`DATA_DIR\` without \`DATABASE_URL\`), a fresh temporary data dir.`,
    `- Settings: ${JSON.stringify(settings)}`,
    '',
    ...hotPathSection(results),
    ...profileStepsSection(profileSteps),
    '',
    ...stampedeSection(results),
    '',
    ...fleetSection(results),
    '',
  ].join('\n');
}
