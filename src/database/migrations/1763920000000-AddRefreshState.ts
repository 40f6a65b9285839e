import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Columns for the refresh lease, backoff and the background refresher's claim query (SPEC §7). */
export class AddRefreshState1763920000000 implements MigrationInterface {
  name = 'AddRefreshState1763920000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "links"
        ADD "refresh_lease_until" timestamptz NULL,
        ADD "refresh_lease_holder" uuid NULL,
        ADD "refresh_not_before" timestamptz NULL,
        ADD "refresh_failures" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(
      `CREATE INDEX "ix_links_status_access_token_expires_at" ON "links" ("status", "access_token_expires_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_links_status_access_token_expires_at"`);
    await queryRunner.query(`
      ALTER TABLE "links"
        DROP COLUMN "refresh_lease_until",
        DROP COLUMN "refresh_lease_holder",
        DROP COLUMN "refresh_not_before",
        DROP COLUMN "refresh_failures"`);
  }
}
