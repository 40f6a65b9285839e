import { Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { RetentionPurge } from '../database/retention-purge.js';

/**
 * Purges the delivery log like the audit trail it mirrors: finished deliveries (delivered, given
 * up, cancelled) older than EVENT_RETENTION_DAYS. A pending delivery is never purged: it is still
 * to be sent.
 */
@Injectable()
export class WebhookDeliveryRetention extends RetentionPurge {
  constructor(dataSource: DataSource, scheduler: SchedulerRegistry, config: AppConfig) {
    super(
      {
        intervalName: 'webhook-delivery-retention',
        rows: 'webhook delivery record(s)',
        deleteBatchSql: `DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries
            WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1)
            LIMIT $2)`,
      },
      dataSource,
      scheduler,
      config,
    );
  }
}
