import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per application instance (not prom-client's global one), so that
 * several instances in one process, as in the tests, do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'outlink_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Token answers served from the cache since the last scrape (see tokenRequests). */
  private cachedTokenAnswers = 0;

  readonly tokenRequests: Counter<'result'> = new Counter({
    name: 'outlink_token_requests_total',
    help: 'GET /v1/links/{id}/token answers by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
    // The cache hits, counted as a plain number per request and added here when scraped.
    collect: () => this.addCachedTokenAnswers(),
  });

  readonly refreshes = new Counter({
    name: 'outlink_refreshes_total',
    help: 'Calls to a token endpoint to renew a token, by trigger (on_demand, background, manual) and result',
    labelNames: ['trigger', 'result'] as const,
    registers: [this.registry],
  });

  readonly refreshDuration = new Histogram({
    name: 'outlink_refresh_duration_seconds',
    help: 'Latency of token endpoint calls that renew a token',
    labelNames: ['trigger'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'outlink_' });
  }

  /**
   * One token answer from the replica's cache: the hot path (SPEC §7). A number, not a
   * prom-client inc(), which checks and hashes its labels on every call (issue 10).
   */
  countCachedTokenAnswer(): void {
    this.cachedTokenAnswers++;
  }

  private addCachedTokenAnswers(): void {
    if (this.cachedTokenAnswers === 0) return;
    this.tokenRequests.inc({ result: 'cached' }, this.cachedTokenAnswers);
    this.cachedTokenAnswers = 0;
  }

  /**
   * The histogram's child per label combination, made once: every request is observed, and
   * building and checking the labels object each time was a visible cost of the hot path
   * (issue 10). Bounded like the labels themselves.
   */
  private readonly httpObservers = new Map<string, (seconds: number) => void>();

  /** Route patterns, not raw URLs, keep label cardinality bounded (ids would explode it). */
  observeHttpRequest(
    method: string,
    route: string | undefined,
    status: number,
    seconds: number,
  ): void {
    const key = `${method} ${status} ${route}`;
    let observe = this.httpObservers.get(key);
    if (observe === undefined) {
      observe = this.httpRequestDuration.labels({
        method,
        route: route ?? 'unmatched',
        status: String(status),
      }).observe;
      this.httpObservers.set(key, observe);
    }
    observe(seconds);
  }
}
