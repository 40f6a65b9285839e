import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const API_KEY_ROLES = ['admin', 'consumer'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

@Entity('api_keys')
@Check('chk_api_keys_role', `"role" IN ('admin', 'consumer')`)
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_api_keys' })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: ApiKeyRole;

  /** null grants every link (SPEC §3); only meaningful for consumer keys. */
  @Column({ name: 'link_ids', type: 'uuid', array: true, nullable: true })
  linkIds: string[] | null;

  /** SHA-256 of the key; never selected unless asked for. */
  @Index('uq_api_keys_key_hash', { unique: true })
  @Column({ name: 'key_hash', type: 'char', length: 64, select: false })
  keyHash: string;

  /** The first characters of the key, so an admin can tell keys apart without the secret. */
  @Column({ name: 'key_hint', type: 'varchar', length: 16 })
  keyHint: string;

  /** The bootstrap key from ADMIN_API_KEY (or the generated key file): replaced when that changes. */
  @Column({ name: 'from_environment', type: 'boolean', default: false })
  fromEnvironment: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}
