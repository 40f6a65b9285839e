import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Overlapping client secrets (SPEC §13): the next secret, encrypted, and when it expires. */
export class AddNextClientSecret1764003000002 implements MigrationInterface {
  name = 'AddNextClientSecret1764003000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "links" ADD "next_client_secret_encrypted" text NULL,
        ADD "has_next_client_secret" boolean NOT NULL DEFAULT false,
        ADD "next_client_secret_expires_at" timestamptz NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "links" DROP COLUMN "next_client_secret_expires_at",
        DROP COLUMN "has_next_client_secret", DROP COLUMN "next_client_secret_encrypted"`,
    );
  }
}
