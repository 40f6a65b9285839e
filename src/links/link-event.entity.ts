import type { JsonObject } from '../common/json.js';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const LINK_EVENT_TYPES = [
  'created',
  'updated',
  'authorization_started',
  'authorized',
  'authorization_failed',
  'refreshed',
  'refresh_failed',
  'status_changed',
  'revoked',
  'deleted',
  // SPEC §13 forecast
  'expiring',
  'token_rejected',
  // SPEC §13 overlapping client secrets
  'client_secret_promoted',
] as const;
export type LinkEventType = (typeof LINK_EVENT_TYPES)[number];

/** The audit trail of a link (SPEC §5). `detail` never holds a secret. */
@Entity('link_events')
@Index('ix_link_events_link_id_at_id', ['linkId', 'at', 'id'])
@Index('ix_link_events_at', ['at'])
export class LinkEventEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_link_events' })
  id: string;

  @Column({ name: 'link_id', type: 'uuid' })
  linkId: string;

  @Column({ type: 'varchar', length: 32 })
  type: LinkEventType;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  /** The API key id that caused it, or "system". */
  @Column({ type: 'varchar', length: 64 })
  actor: string;

  @Column({ type: 'jsonb', default: {} })
  detail: JsonObject;
}
