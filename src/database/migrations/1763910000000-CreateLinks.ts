import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateLinks1763910000000 implements MigrationInterface {
  name = 'CreateLinks1763910000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "links" (
        "id" uuid NOT NULL,
        "name" varchar(200) NOT NULL,
        "provider" varchar(16) NOT NULL,
        "grant_type" varchar(32) NOT NULL,
        "client_id" text NOT NULL,
        "client_secret_encrypted" text NULL,
        "has_client_secret" boolean NOT NULL DEFAULT false,
        "scopes" text array NOT NULL,
        "authorization_endpoint" text NULL,
        "token_endpoint" text NULL,
        "revocation_endpoint" text NULL,
        "issuer" text NULL,
        "discovered_metadata" jsonb NULL,
        "tenant" varchar(255) NULL,
        "cloud" varchar(16) NULL,
        "authorization_params" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "token_endpoint_auth_method" varchar(32) NOT NULL,
        "pkce" boolean NOT NULL DEFAULT true,
        "status" varchar(32) NOT NULL,
        "config_version" integer NOT NULL DEFAULT 1,
        "granted_scopes" text array NULL,
        "access_token_encrypted" text NULL,
        "token_type" varchar(32) NULL,
        "access_token_expires_at" timestamptz NULL,
        "refresh_token_encrypted" text NULL,
        "refresh_token_present" boolean NOT NULL DEFAULT false,
        "last_refreshed_at" timestamptz NULL,
        "last_error" jsonb NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz NULL,
        CONSTRAINT "pk_links" PRIMARY KEY ("id"),
        CONSTRAINT "chk_links_status"
          CHECK ("status" IN ('pending_authorization', 'connected', 'reauthorization_required', 'error'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_links_created_at_id" ON "links" ("created_at", "id")`,
    );

    await queryRunner.query(`
      CREATE TABLE "link_events" (
        "id" uuid NOT NULL,
        "link_id" uuid NOT NULL,
        "type" varchar(32) NOT NULL,
        "at" timestamptz NOT NULL DEFAULT now(),
        "actor" varchar(64) NOT NULL,
        "detail" jsonb NOT NULL DEFAULT '{}'::jsonb,
        CONSTRAINT "pk_link_events" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_link_events_link_id_at_id" ON "link_events" ("link_id", "at", "id")`,
    );

    await queryRunner.query(`
      CREATE TABLE "authorization_requests" (
        "id" uuid NOT NULL,
        "link_id" uuid NOT NULL,
        "state_hash" char(64) NOT NULL,
        "code_verifier_encrypted" text NULL,
        "redirect_uri" text NOT NULL,
        "link_config_version" integer NOT NULL,
        "started_by" varchar(64) NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "used_at" timestamptz NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_authorization_requests" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_authorization_requests_link_id" ON "authorization_requests" ("link_id")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_authorization_requests_state_hash" ON "authorization_requests" ("state_hash")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "authorization_requests"`);
    await queryRunner.query(`DROP TABLE "link_events"`);
    await queryRunner.query(`DROP TABLE "links"`);
  }
}
