import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { LINK_STATUSES } from '../links/link.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** outlink_links{status}: read from the database at scrape time, so every replica reports the same. */
@Injectable()
export class LinkStatusGauge {
  constructor(metrics: MetricsService, dataSource: DataSource) {
    new Gauge({
      name: 'outlink_links',
      help: 'Links by status',
      labelNames: ['status'] as const,
      registers: [metrics.registry],
      async collect() {
        const rows: { status: string; count: string }[] = await dataSource.query(
          'SELECT status, count(*) AS count FROM links WHERE deleted_at IS NULL GROUP BY status',
        );
        this.reset();
        for (const status of LINK_STATUSES) {
          this.set({ status }, Number(rows.find((row) => row.status === status)?.count ?? 0));
        }
      },
    });
  }
}
