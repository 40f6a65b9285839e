import { Injectable, type OnModuleInit } from '@nestjs/common';
import {
  DataSource,
  type EntityManager,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
import type { JsonObject } from '../common/json.js';
import { LinkEventsService } from '../links/link-events.service.js';
import {
  ALL_EVENTS,
  linkEventPayload,
  webhookEventFor,
  type LinkSnapshot,
  type WebhookPayload,
} from './webhook-events.js';

type Wake = () => void;

/**
 * Writes webhook deliveries in the transaction of the change they announce (SPEC §13: a
 * transactional outbox), one row per subscribed, active webhook, and wakes this replica's
 * dispatcher once that transaction has committed, so a delivery does not wait for the next poll.
 */
@Injectable()
export class WebhookOutbox implements OnModuleInit, EntitySubscriberInterface {
  /** Transactions that added rows and have not committed yet. */
  private readonly awaitingCommit = new WeakSet<QueryRunner>();
  private readonly wakeListeners: Wake[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly linkEvents: LinkEventsService,
  ) {}

  onModuleInit(): void {
    this.linkEvents.onRecorded(async (linkId, type, detail, manager) => {
      await this.enqueueLinkEvent(linkId, type, detail, manager);
    });
    // TypeORM has no per-transaction commit callback; a subscriber hears every commit.
    this.dataSource.subscribers.push(this);
  }

  /** Called once rows a transaction added are visible to every replica. */
  onWake(listener: Wake): void {
    this.wakeListeners.push(listener);
  }

  /** @returns how many deliveries were written (one per subscribed, active webhook) */
  async enqueueLinkEvent(
    linkId: string,
    linkEventType: string,
    detail: JsonObject,
    manager: EntityManager,
  ): Promise<number> {
    const type = webhookEventFor(linkEventType, detail);
    if (type === null) return 0;
    const [row]: {
      name: string;
      status: string;
      last_error: JsonObject | null;
      deleted: boolean;
    }[] = await manager.query(
      'SELECT name, status, last_error, deleted_at IS NOT NULL AS deleted FROM links WHERE id = $1',
      [linkId],
    );
    if (!row) return 0;
    const link: LinkSnapshot = {
      id: linkId,
      name: row.name,
      status: row.status,
      deleted: row.deleted,
      lastError: row.last_error,
    };
    const at = new Date();
    return this.insert(manager, linkEventPayload(type, detail, link, at), linkId, at);
  }

  /** A `webhook.test` delivery to one webhook, whatever it subscribes to. */
  async enqueueTest(
    manager: EntityManager,
    webhookId: string,
    payload: WebhookPayload,
  ): Promise<string | undefined> {
    const [row]: { id: string }[] = await manager.query(
      `INSERT INTO webhook_deliveries
              (id, webhook_id, event_type, link_id, payload, status, attempts, next_attempt_at, created_at)
       SELECT gen_random_uuid(), id, $2::text, NULL, $3, 'pending', 0, $4, $4
         FROM webhooks WHERE id = $1 AND status = 'active'
       RETURNING id`,
      [webhookId, payload.type, JSON.stringify(payload), new Date(payload.timestamp)],
    );
    if (row) this.wakeAfterCommit(manager);
    return row?.id;
  }

  private async insert(
    manager: EntityManager,
    payload: WebhookPayload,
    linkId: string,
    at: Date,
  ): Promise<number> {
    // created_at from the clock in milliseconds: the precision of the delivery log's cursors.
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO webhook_deliveries
              (id, webhook_id, event_type, link_id, payload, status, attempts, next_attempt_at, created_at)
       SELECT gen_random_uuid(), id, $1::text, $2::uuid, $3, 'pending', 0, $4, $4
         FROM webhooks
        WHERE status = 'active' AND events && ARRAY[$1::text, $5::text]
       RETURNING id`,
      [payload.type, linkId, JSON.stringify(payload), at, ALL_EVENTS],
    );
    if (rows.length > 0) this.wakeAfterCommit(manager);
    return rows.length;
  }

  private wakeAfterCommit(manager: EntityManager): void {
    const runner = manager.queryRunner;
    if (runner?.isTransactionActive) this.awaitingCommit.add(runner);
    else this.wake();
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    // Also called when a savepoint is released: only the outermost commit makes rows visible.
    if (event.queryRunner.isTransactionActive || !this.awaitingCommit.has(event.queryRunner))
      return;
    this.awaitingCommit.delete(event.queryRunner);
    this.wake();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) this.awaitingCommit.delete(event.queryRunner);
  }

  private wake(): void {
    for (const listener of this.wakeListeners) listener();
  }
}
