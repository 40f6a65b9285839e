import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An `expiring` notice that was sent (SPEC §13). Its key is the claim: a replica that inserts it
 * announces it, a replica that finds it there does not, so each notice goes out once. Written
 * only by LinkExpiryNotices.
 */
@Entity('link_expiry_notices')
export class LinkExpiryNoticeEntity {
  @PrimaryColumn({
    name: 'link_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_link_expiry_notices',
  })
  linkId: string;

  /** What expires: `refresh_token` or `client_secret`. */
  @PrimaryColumn({
    type: 'varchar',
    length: 32,
    primaryKeyConstraintName: 'pk_link_expiry_notices',
  })
  subject: string;

  @PrimaryColumn({
    name: 'expires_at',
    type: 'timestamptz',
    primaryKeyConstraintName: 'pk_link_expiry_notices',
  })
  expiresAt: Date;

  @PrimaryColumn({
    name: 'days_ahead',
    type: 'integer',
    primaryKeyConstraintName: 'pk_link_expiry_notices',
  })
  daysAhead: number;

  @Column({ name: 'notified_at', type: 'timestamptz', default: () => 'now()' })
  notifiedAt: Date;
}
