import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { WebhookEntity } from './webhook.entity.js';

/**
 * `pending`: waiting for its next attempt; `delivered`: a 2xx answer; `failed`: given up after
 * 24 h; `cancelled`: never to be sent, because the webhook was disabled (410 Gone).
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * The outbox and the delivery log in one (SPEC §13): a row is written in the transaction of the
 * change it announces, claimed by any replica (SKIP LOCKED plus a lease, so a replica that dies
 * mid-delivery loses nothing), and keeps the outcome of its attempts. Its id is the
 * `webhook-id` header, the same on every attempt, so receivers can drop duplicates.
 */
@Entity('webhook_deliveries')
@Index('ix_webhook_deliveries_webhook_id_created_at_id', ['webhookId', 'createdAt', 'id'])
@Index('ix_webhook_deliveries_status_next_attempt_at', ['status', 'nextAttemptAt'])
@Check(
  'chk_webhook_deliveries_status',
  `"status" IN ('pending', 'delivered', 'failed', 'cancelled')`,
)
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_webhook_deliveries' })
  id: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  /** Deleting a webhook deletes its log and whatever it had not been sent yet. */
  @ManyToOne(() => WebhookEntity, {
    onDelete: 'CASCADE',
    createForeignKeyConstraints: true,
  })
  @JoinColumn({
    name: 'webhook_id',
    foreignKeyConstraintName: 'fk_webhook_deliveries_webhook_id',
  })
  webhook?: WebhookEntity;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType: string;

  /** The link the event is about; null for `webhook.test`. */
  @Column({ name: 'link_id', type: 'uuid', nullable: true })
  linkId: string | null;

  /** The exact JSON body, kept as text so that every attempt sends (and signs) the same bytes. */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16 })
  status: DeliveryStatus;

  /** Attempts started (counted when claimed, so an attempt cut short by a crash counts too). */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** When a pending delivery is due; null once it is finished. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  /** While in the future, one replica is sending it. */
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'lease_holder', type: 'uuid', nullable: true })
  leaseHolder: string | null;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  /** The HTTP status of the last answer; null when there was none. */
  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  /** When the event happened: the start of the 24-hour retry window. */
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
