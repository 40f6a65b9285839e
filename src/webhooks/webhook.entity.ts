import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const WEBHOOK_STATUSES = ['active', 'disabled'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/**
 * A receiver of link events (SPEC §13). Its signing secret is a key-ring envelope bound to this
 * row (database/encrypted-columns.ts), never selected unless asked for. A receiver answering
 * 410 Gone disables it for good: nothing is sent to it any more.
 */
@Entity('webhooks')
@Index('ix_webhooks_created_at_id', ['createdAt', 'id'])
@Check('chk_webhooks_status', `"status" IN ('active', 'disabled')`)
export class WebhookEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_webhooks' })
  id: string;

  @Column({ type: 'text' })
  url: string;

  /** Webhook event types, or `["*"]` for all. */
  @Column({ type: 'text', array: true })
  events: string[];

  @Column({ type: 'varchar', length: 500, nullable: true })
  description: string | null;

  @Column({ name: 'secret_encrypted', type: 'text', select: false })
  secretEncrypted: string;

  @Column({ type: 'varchar', length: 16 })
  status: WebhookStatus;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  /** The API key id that created it. */
  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy: string;

  /** Set by the service in milliseconds, the precision of the page cursors. */
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
