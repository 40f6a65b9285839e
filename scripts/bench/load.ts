import autocannon from 'autocannon';

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  /** Responses received (any status). */
  responses: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** Milliseconds, from every response's own timing (not autocannon's 1 ms histogram). */
  latencyMs: LatencySummary;
  /** Monotonic microseconds the measured run spanned, when someone recorded them. */
  window?: { startedMicros: number; endedMicros: number };
  /** Server CPU time per response in microseconds, when measured: robust to a busy machine. */
  serverCpuMicrosPerRequest?: number;
  /** Percent of the machine other processes used meanwhile, when measured. */
  foreignCpuPercent?: number;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  /** Seconds; or give `amount`. */
  durationSeconds?: number;
  amount?: number;
  /** Requests per second over all connections; unlimited when absent. */
  rate?: number;
  headers?: Record<string, string>;
  /** Called for every request: lets each one go to a random link. */
  path: () => string;
  /** Sees every response body (costs the load generator some CPU: only where needed). */
  onResponse?: (status: number, body: string) => void;
  /** Resolves when the run should end early (runs given a long duration). */
  stopWhen?: Promise<unknown>;
}

export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index];
}

export function summarise(samples: number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const total = samples.reduce((sum, value) => sum + value, 0);
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
    mean: samples.length > 0 ? total / samples.length : Number.NaN,
  };
}

/** One autocannon run, used as a library in this process. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        ...(options.amount !== undefined
          ? { amount: options.amount }
          : { duration: options.durationSeconds ?? 10 }),
        timeout: 30,
        ...(options.rate !== undefined && { overallRate: options.rate }),
        headers: options.headers,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => ({ ...request, path: options.path() }),
            ...(options.onResponse && {
              onResponse: (status: number, body: string) => options.onResponse!(status, body),
            }),
          },
        ],
      },
      (error, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const durationSeconds = result.duration;
        resolve({
          responses: samples.length,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          durationSeconds,
          requestsPerSecond: samples.length / durationSeconds,
          latencyMs: summarise(samples),
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      samples.push(responseTime);
    });
    void options.stopWhen?.then(() => instance.stop());
  });
}
