import { Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { RetentionPurge } from '../database/retention-purge.js';

/** Purges link events older than EVENT_RETENTION_DAYS (SPEC §11). */
@Injectable()
export class LinkEventRetention extends RetentionPurge {
  constructor(dataSource: DataSource, scheduler: SchedulerRegistry, config: AppConfig) {
    super(
      {
        intervalName: 'link-event-retention',
        rows: 'link event(s)',
        deleteBatchSql: `DELETE FROM link_events WHERE id IN (
           SELECT id FROM link_events WHERE at < now() - make_interval(days => $1) LIMIT $2)`,
      },
      dataSource,
      scheduler,
      config,
    );
  }
}
