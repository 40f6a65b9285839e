import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Device authorizations being polled (RFC 8628, SPEC §15), owned by oauth/. */
export class CreateDeviceAuthorizations1764005000001 implements MigrationInterface {
  name = 'CreateDeviceAuthorizations1764005000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "device_authorizations" (
        "id" uuid NOT NULL,
        "link_id" uuid NOT NULL,
        "device_code_encrypted" text NULL,
        "link_config_version" integer NOT NULL,
        "started_by" varchar(64) NOT NULL,
        "interval_seconds" integer NOT NULL,
        "next_poll_at" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "poll_lease_until" timestamptz NULL,
        "poll_lease_holder" uuid NULL,
        "polls" integer NOT NULL DEFAULT 0,
        "finished_at" timestamptz NULL,
        "outcome" varchar(32) NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_device_authorizations" PRIMARY KEY ("id"),
        CONSTRAINT "chk_device_authorizations_outcome" CHECK ("outcome" IS NULL OR "outcome" IN ('connected', 'denied', 'expired', 'failed', 'superseded', 'link_changed'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_device_authorizations_link_id" ON "device_authorizations" ("link_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_device_authorizations_finished_at_next_poll_at" ON "device_authorizations" ("finished_at", "next_poll_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "device_authorizations"`);
  }
}
