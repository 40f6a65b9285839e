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

  readonly tokenRequests = new Counter({
    name: 'outlink_token_requests_total',
    help: 'GET /v1/links/{id}/token answers by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
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

  /** Route patterns, not raw URLs, keep label cardinality bounded (ids would explode it). */
  observeHttpRequest(
    method: string,
    route: string | undefined,
    status: number,
    seconds: number,
  ): void {
    this.httpRequestDuration.observe(
      { method, route: route ?? 'unmatched', status: String(status) },
      seconds,
    );
  }
}
