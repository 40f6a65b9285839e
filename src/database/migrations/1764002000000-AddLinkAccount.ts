import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §12 account binding: who consented to a link's grant, and whether an authorization may
 * bind it to someone else.
 */
export class AddLinkAccount1764002000000 implements MigrationInterface {
  name = 'AddLinkAccount1764002000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "links" ADD "account" jsonb`);
    await queryRunner.query(
      `ALTER TABLE "authorization_requests" ADD "allow_account_change" boolean NOT NULL DEFAULT false`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "authorization_requests" DROP COLUMN "allow_account_change"`,
    );
    await queryRunner.query(`ALTER TABLE "links" DROP COLUMN "account"`);
  }
}
