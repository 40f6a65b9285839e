import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The forecast (SPEC §13): when a link's refresh token and client secret expire, and which
 * `expiring` notices were sent, one row per link, subject, expiry and threshold (14, 3, 1 days).
 */
export class AddLinkForecast1764003000001 implements MigrationInterface {
  name = 'AddLinkForecast1764003000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "links" ADD "refresh_token_expires_at" timestamptz NULL, ADD "client_secret_expires_at" timestamptz NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE "link_expiry_notices" (
        "link_id" uuid NOT NULL,
        "subject" varchar(32) NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "days_ahead" integer NOT NULL,
        "notified_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_link_expiry_notices" PRIMARY KEY ("link_id", "subject", "expires_at", "days_ahead")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "link_expiry_notices"`);
    await queryRunner.query(
      `ALTER TABLE "links" DROP COLUMN "client_secret_expires_at", DROP COLUMN "refresh_token_expires_at"`,
    );
  }
}
