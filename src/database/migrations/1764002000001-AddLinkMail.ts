import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SPEC §12 mail check: the mail servers of a link, its last check and the background claim. */
export class AddLinkMail1764002000001 implements MigrationInterface {
  name = 'AddLinkMail1764002000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "links" ADD "mail" jsonb`);
    await queryRunner.query(`ALTER TABLE "links" ADD "mail_check" jsonb`);
    await queryRunner.query(`ALTER TABLE "links" ADD "mail_check_due_at" TIMESTAMP WITH TIME ZONE`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "links" DROP COLUMN "mail_check_due_at"`);
    await queryRunner.query(`ALTER TABLE "links" DROP COLUMN "mail_check"`);
    await queryRunner.query(`ALTER TABLE "links" DROP COLUMN "mail"`);
  }
}
