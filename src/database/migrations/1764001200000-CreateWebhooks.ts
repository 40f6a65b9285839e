import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Webhooks and their outbox / delivery log (SPEC §13). */
export class CreateWebhooks1764001200000 implements MigrationInterface {
  name = 'CreateWebhooks1764001200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "webhooks" (
        "id" uuid NOT NULL,
        "url" text NOT NULL,
        "events" text array NOT NULL,
        "description" varchar(500) NULL,
        "secret_encrypted" text NOT NULL,
        "status" varchar(16) NOT NULL,
        "disabled_at" timestamptz NULL,
        "disabled_reason" text NULL,
        "created_by" varchar(64) NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_webhooks" PRIMARY KEY ("id"),
        CONSTRAINT "chk_webhooks_status" CHECK ("status" IN ('active', 'disabled'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_webhooks_created_at_id" ON "webhooks" ("created_at", "id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" uuid NOT NULL,
        "webhook_id" uuid NOT NULL,
        "event_type" varchar(64) NOT NULL,
        "link_id" uuid NULL,
        "payload" text NOT NULL,
        "status" varchar(16) NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NULL,
        "lease_until" timestamptz NULL,
        "lease_holder" uuid NULL,
        "last_attempt_at" timestamptz NULL,
        "last_status_code" integer NULL,
        "last_error" text NULL,
        "delivered_at" timestamptz NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_webhook_deliveries" PRIMARY KEY ("id"),
        CONSTRAINT "chk_webhook_deliveries_status"
          CHECK ("status" IN ('pending', 'delivered', 'failed', 'cancelled')),
        CONSTRAINT "fk_webhook_deliveries_webhook_id" FOREIGN KEY ("webhook_id")
          REFERENCES "webhooks" ("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_webhook_deliveries_webhook_id_created_at_id" ON "webhook_deliveries" ("webhook_id", "created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_webhook_deliveries_status_next_attempt_at" ON "webhook_deliveries" ("status", "next_attempt_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
  }
}
