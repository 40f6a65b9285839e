import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { WEBHOOK_SECRET } from '../database/encrypted-columns.js';
import type { OutgoingMessage } from './webhook-sender.js';

/** Longer than an attempt can take (10 s) plus writing its result, so a live holder keeps it. */
export const DELIVERY_LEASE_SECONDS = 30;

/** A due delivery whose lease this replica holds. */
export interface ClaimedDelivery extends Omit<OutgoingMessage, 'secret'> {
  webhookId: string;
  /** Decrypted only when sent (secretOf), so one unreadable secret holds up no other delivery. */
  secretEncrypted: string;
  eventType: string;
  /** Attempts started, this one included. */
  attempts: number;
  createdAt: Date;
}

interface ClaimedRow {
  id: string;
  webhook_id: string;
  event_type: string;
  payload: string;
  attempts: number;
  created_at: Date;
  url: string;
  secret_encrypted: string;
}

export interface AttemptRecord {
  statusCode: number | null;
  error: string | null;
}

/**
 * The outbox's claims and results (SPEC §13). Claims are short statements (no connection is held
 * while a receiver answers): any replica takes due rows that nobody else is taking (SKIP LOCKED)
 * or holds a live lease on; a replica that dies mid-delivery leaves a lease that runs out, and
 * another replica sends the message again, with the same id.
 */
@Injectable()
export class WebhookDeliveryStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
  ) {}

  async claimDue(holder: string, limit: number): Promise<ClaimedDelivery[]> {
    const [rows]: [ClaimedRow[], number] = await this.dataSource.query(
      `UPDATE webhook_deliveries AS delivery
          SET lease_until = now() + make_interval(secs => $1), lease_holder = $2,
              attempts = delivery.attempts + 1, last_attempt_at = now()
         FROM webhooks AS webhook
        WHERE webhook.id = delivery.webhook_id
          AND delivery.id IN (
            SELECT due.id FROM webhook_deliveries AS due
              JOIN webhooks AS target ON target.id = due.webhook_id AND target.status = 'active'
             WHERE due.status = 'pending' AND due.next_attempt_at <= now()
               AND (due.lease_until IS NULL OR due.lease_until < now())
             ORDER BY due.next_attempt_at
             LIMIT $3
               FOR UPDATE OF due SKIP LOCKED)
       RETURNING delivery.id, delivery.webhook_id, delivery.event_type, delivery.payload,
                 delivery.attempts, delivery.created_at, webhook.url, webhook.secret_encrypted`,
      [DELIVERY_LEASE_SECONDS, holder, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      webhookId: row.webhook_id,
      eventType: row.event_type,
      payload: row.payload,
      attempts: row.attempts,
      createdAt: new Date(row.created_at),
      url: row.url,
      secretEncrypted: row.secret_encrypted,
    }));
  }

  /** @throws DecryptionError when no key of ENCRYPTION_KEYS opens it */
  secretOf(delivery: ClaimedDelivery): string {
    return this.keyRing.decrypt(
      delivery.secretEncrypted,
      encryptionContext(WEBHOOK_SECRET, delivery.webhookId),
    );
  }

  /**
   * A 2xx answer. Written even if the webhook was disabled meanwhile: the receiver has it.
   * @returns false when the lease was lost (another replica sends it again, with the same id)
   */
  async recordDelivered(id: string, holder: string, attempt: AttemptRecord): Promise<boolean> {
    return this.finish(
      id,
      holder,
      `status = 'delivered', delivered_at = now(), next_attempt_at = NULL`,
      attempt,
    );
  }

  /** A failed attempt to retry at `nextAttemptAt`; a delivery cancelled meanwhile stays so. */
  async recordRetry(
    id: string,
    holder: string,
    attempt: AttemptRecord,
    nextAttemptAt: Date,
  ): Promise<boolean> {
    return this.finish(id, holder, `next_attempt_at = $5`, attempt, [nextAttemptAt], true);
  }

  /** A failed attempt after the 24-hour window: given up. */
  async recordGaveUp(id: string, holder: string, attempt: AttemptRecord): Promise<boolean> {
    return this.finish(id, holder, `status = 'failed', next_attempt_at = NULL`, attempt, [], true);
  }

  /**
   * 410 Gone: disables the webhook and cancels everything it was still to be sent, in one
   * transaction, so no replica calls the receiver again.
   * @returns false when the webhook was already disabled or deleted
   */
  async disableWebhook(delivery: ClaimedDelivery, attempt: AttemptRecord): Promise<boolean> {
    const reason = `The receiver answered ${attempt.statusCode} Gone to delivery ${delivery.id}.`;
    return this.dataSource.transaction(async (manager) => {
      const [, disabled]: [unknown, number] = await manager.query(
        `UPDATE webhooks SET status = 'disabled', disabled_at = now(), disabled_reason = $2
          WHERE id = $1 AND status = 'active'`,
        [delivery.webhookId, reason],
      );
      // Deliveries other replicas are sending keep their lease: a 2xx they get is still recorded.
      await manager.query(
        `UPDATE webhook_deliveries
            SET status = 'cancelled', next_attempt_at = NULL,
                lease_until = CASE WHEN id = $2 THEN NULL ELSE lease_until END,
                lease_holder = CASE WHEN id = $2 THEN NULL ELSE lease_holder END,
                last_status_code = CASE WHEN id = $2 THEN $3 ELSE last_status_code END,
                last_error = CASE WHEN id = $2 THEN $4 ELSE 'Not sent: the webhook was disabled.' END
          WHERE webhook_id = $1 AND status = 'pending'`,
        [delivery.webhookId, delivery.id, attempt.statusCode, reason],
      );
      return disabled > 0;
    });
  }

  private async finish(
    id: string,
    holder: string,
    assignments: string,
    attempt: AttemptRecord,
    extra: unknown[] = [],
    onlyIfPending = false,
  ): Promise<boolean> {
    const [, updated]: [unknown, number] = await this.dataSource.query(
      `UPDATE webhook_deliveries
          SET ${assignments}, last_status_code = $3, last_error = $4,
              lease_until = NULL, lease_holder = NULL
        WHERE id = $1 AND lease_holder = $2 ${onlyIfPending ? `AND status = 'pending'` : ''}`,
      [id, holder, attempt.statusCode, attempt.error, ...extra],
    );
    return updated > 0;
  }
}
