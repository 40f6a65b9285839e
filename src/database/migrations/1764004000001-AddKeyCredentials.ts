import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SPEC §15: a link's private key and certificate (private_key_jwt). */
export class AddKeyCredentials1764004000001 implements MigrationInterface {
  name = 'AddKeyCredentials1764004000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "links" ADD "private_key_encrypted" text NULL, ADD "certificate" text NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "links" DROP COLUMN "certificate", DROP COLUMN "private_key_encrypted"`,
    );
  }
}
