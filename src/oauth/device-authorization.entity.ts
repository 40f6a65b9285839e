import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const DEVICE_AUTHORIZATION_OUTCOMES = [
  'connected',
  'denied',
  'expired',
  'failed',
  'superseded',
  'link_changed',
] as const;
export type DeviceAuthorizationOutcome = (typeof DEVICE_AUTHORIZATION_OUTCOMES)[number];

/**
 * One started device authorization (RFC 8628, SPEC §15). The device code is the credential the
 * token endpoint exchanges for tokens, so it is stored encrypted; the user code is shown to the
 * admin once and not kept. Polling state lives here so any replica can take over: one replica
 * at a time holds the poll lease, and `next_poll_at` carries the provider's interval.
 */
@Entity('device_authorizations')
@Index('ix_device_authorizations_finished_at_next_poll_at', ['finishedAt', 'nextPollAt'])
@Check(
  'chk_device_authorizations_outcome',
  `"outcome" IS NULL OR "outcome" IN ('connected', 'denied', 'expired', 'failed', 'superseded', 'link_changed')`,
)
export class DeviceAuthorizationEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_device_authorizations' })
  id: string;

  @Index('ix_device_authorizations_link_id')
  @Column({ name: 'link_id', type: 'uuid' })
  linkId: string;

  @Column({ name: 'device_code_encrypted', type: 'text', nullable: true, select: false })
  deviceCodeEncrypted: string | null;

  /** The link's config_version when it started; a later change voids this authorization. */
  @Column({ name: 'link_config_version', type: 'integer' })
  linkConfigVersion: number;

  @Column({ name: 'started_by', type: 'varchar', length: 64 })
  startedBy: string;

  /** Seconds between polls: the provider's interval, plus 5 for every slow_down (RFC 8628 §3.5). */
  @Column({ name: 'interval_seconds', type: 'integer' })
  intervalSeconds: number;

  @Column({ name: 'next_poll_at', type: 'timestamptz' })
  nextPollAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** While set and in the future, one replica is asking the token endpoint for this device code. */
  @Column({ name: 'poll_lease_until', type: 'timestamptz', nullable: true })
  pollLeaseUntil: Date | null;

  @Column({ name: 'poll_lease_holder', type: 'uuid', nullable: true })
  pollLeaseHolder: string | null;

  @Column({ name: 'polls', type: 'integer', default: 0 })
  polls: number;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  outcome: DeviceAuthorizationOutcome | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
