import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One started authorization (SPEC §6): the state is the credential of the public callback, so
 * only its SHA-256 is stored; it is single-use (used_at) and expires after 10 minutes.
 */
@Entity('authorization_requests')
export class AuthorizationRequestEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_authorization_requests' })
  id: string;

  @Index('ix_authorization_requests_link_id')
  @Column({ name: 'link_id', type: 'uuid' })
  linkId: string;

  @Index('uq_authorization_requests_state_hash', { unique: true })
  @Column({ name: 'state_hash', type: 'char', length: 64 })
  stateHash: string;

  @Column({ name: 'code_verifier_encrypted', type: 'text', nullable: true, select: false })
  codeVerifierEncrypted: string | null;

  @Column({ name: 'redirect_uri', type: 'text' })
  redirectUri: string;

  /** The link's config_version when authorization started; a later change voids this request. */
  @Column({ name: 'link_config_version', type: 'integer' })
  linkConfigVersion: number;

  @Column({ name: 'started_by', type: 'varchar', length: 64 })
  startedBy: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  /** The admin allowed the consent to come from another account than the link's (SPEC §12). */
  @Column({ name: 'allow_account_change', type: 'boolean', default: false })
  allowAccountChange: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
