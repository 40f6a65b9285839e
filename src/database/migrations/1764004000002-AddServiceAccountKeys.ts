import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SPEC §15: a jwt_bearer link's service account key and subject. */
export class AddServiceAccountKeys1764004000002 implements MigrationInterface {
  name = 'AddServiceAccountKeys1764004000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "links" ADD "service_account_key_encrypted" text NULL,
         ADD "has_service_account_key" boolean NOT NULL DEFAULT false,
         ADD "subject" varchar(320) NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "links" DROP COLUMN "subject", DROP COLUMN "has_service_account_key",
         DROP COLUMN "service_account_key_encrypted"`,
    );
  }
}
