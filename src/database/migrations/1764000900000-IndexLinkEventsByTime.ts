import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Lets the event-retention purge find old events without scanning the whole table (SPEC §11). */
export class IndexLinkEventsByTime1764000900000 implements MigrationInterface {
  name = 'IndexLinkEventsByTime1764000900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "ix_link_events_at" ON "link_events" ("at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_link_events_at"`);
  }
}
