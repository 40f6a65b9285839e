import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LinkEventsService } from '../links/link-events.service.js';
import type { MailCheck } from '../links/link-mail-settings.js';

/** Longest server response kept in an event's reason (the link keeps them whole). */
const MAX_REASON_LENGTH = 300;

/**
 * The only writer of a link's `mail_check` and `mail_check_due_at` columns (SPEC §12): the last
 * result and its event commit together, so the webhook outbox sees exactly what the link shows.
 */
@Injectable()
export class MailCheckStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: LinkEventsService,
  ) {}

  /** Stores the result and its event; nothing when the link was deleted meanwhile. */
  async save(
    linkId: string,
    check: MailCheck,
    actor: string,
    nextDueAt: Date | null,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const [, updated]: [unknown, number] = await manager.query(
        `UPDATE links SET mail_check = $2, mail_check_due_at = $3 WHERE id = $1 AND deleted_at IS NULL`,
        [linkId, JSON.stringify(check), nextDueAt],
      );
      if (updated === 0) return;
      const failures = check.results.filter((result) => !result.ok);
      const detail = {
        results: check.results.map(({ protocol, ok, mechanism, serverResponse }) => ({
          protocol,
          ok,
          mechanism,
          serverResponse: serverResponse.slice(0, MAX_REASON_LENGTH),
        })),
      };
      if (failures.length === 0) {
        await this.events.record(linkId, 'mail_check_succeeded', actor, detail, manager);
        return;
      }
      await this.events.record(
        linkId,
        'mail_check_failed',
        actor,
        {
          ...detail,
          reason: failures
            .map((failure) => `${failure.protocol}: ${failure.serverResponse}`)
            .join('; ')
            .slice(0, MAX_REASON_LENGTH),
          actor: 'outlink_admin',
          action: `Check the mailbox login (mail.user, or the account that consented) and the mail servers, then POST /v1/links/${linkId}/mail-check.`,
        },
        manager,
      );
    });
  }

  /**
   * Claims up to `limit` links whose background check is due, pushing their due time forward so
   * no other replica claims them too (SKIP LOCKED, as the background refresh claims links).
   */
  async claimDue(intervalSeconds: number, limit: number): Promise<string[]> {
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `WITH due AS MATERIALIZED (
         SELECT id FROM links
          WHERE deleted_at IS NULL AND status = 'connected' AND mail IS NOT NULL
            AND (mail_check_due_at IS NULL OR mail_check_due_at <= now())
          ORDER BY mail_check_due_at NULLS FIRST
          LIMIT $2
          FOR UPDATE SKIP LOCKED)
       UPDATE links SET mail_check_due_at = now() + make_interval(secs => $1)
         FROM due WHERE links.id = due.id
       RETURNING links.id`,
      [intervalSeconds, limit],
    );
    return rows.map((row) => row.id);
  }
}
