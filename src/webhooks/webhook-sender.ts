import { Injectable, Logger } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { OutboundHttp } from '../outbound/outbound-http.js';
import { OutboundError, OutboundResponseRefused } from '../outbound/outbound.errors.js';
import { parseRetryAfter } from './webhook-backoff.js';

/** SPEC §13: a receiver has 10 seconds to answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** One message to one receiver, as stored in the outbox. */
export interface OutgoingMessage {
  /** The delivery id: the `webhook-id` header, the same on every attempt. */
  id: string;
  url: string;
  /** `whsec_...`, decrypted for this attempt only. */
  secret: string;
  /** The exact body. */
  payload: string;
}

export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number }
  /** 410 Gone: the receiver asks never to be called again. */
  | { kind: 'gone'; statusCode: number }
  | {
      kind: 'failed';
      statusCode: number | null;
      /** Safe to show an admin: names no secret, no resolved address. */
      error: string;
      retryAfterSeconds: number | null;
    };

/** What an HTTP answer means for a delivery (SPEC §13): 2xx delivered, 410 disables, else retry. */
export function outcomeOfAnswer(
  statusCode: number,
  retryAfterSeconds: number | null = null,
): AttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode };
  if (statusCode === 410) return { kind: 'gone', statusCode };
  return {
    kind: 'failed',
    statusCode,
    error: `The receiver answered HTTP ${statusCode}.`,
    retryAfterSeconds,
  };
}

/**
 * Sends one attempt of a delivery, signed as Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`) by the `standardwebhooks` package, through
 * OutboundHttp: the outbound policy is checked on the address actually connected to, redirects
 * are not followed and answers over 1 MiB are refused (SPEC §11).
 */
@Injectable()
export class WebhookSender {
  private readonly logger = new Logger(WebhookSender.name);

  constructor(private readonly http: OutboundHttp) {}

  async send(message: OutgoingMessage, now: Date = new Date()): Promise<AttemptOutcome> {
    // The timestamp is the attempt's, as Standard Webhooks has it: receivers reject old ones.
    const signature = new Webhook(message.secret).sign(message.id, now, message.payload);
    try {
      const response = await this.http.fetch(message.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Outlink-Webhooks/1',
          'webhook-id': message.id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: message.payload,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      return outcomeOfAnswer(
        response.status,
        parseRetryAfter(response.headers.get('retry-after'), new Date()),
      );
    } catch (error) {
      return this.failure(message, error);
    }
  }

  private failure(message: OutgoingMessage, error: unknown): AttemptOutcome {
    // The receiver got the message and said so; only its answer was too long to read.
    if (
      error instanceof OutboundResponseRefused &&
      error.reason === 'too_large' &&
      error.status >= 200 &&
      error.status < 300
    )
      return { kind: 'delivered', statusCode: error.status };
    if (error instanceof OutboundError)
      return {
        kind: 'failed',
        statusCode: error instanceof OutboundResponseRefused ? error.status : null,
        error: `${error.message}.`,
        retryAfterSeconds: null,
      };
    // One sentence for every network failure, so the log does not tell a closed port from a
    // silent one; the cause is logged at debug (without the URL, which may carry a token).
    this.logger.debug(
      { err: error, delivery: message.id },
      'A webhook delivery attempt got no answer',
    );
    return {
      kind: 'failed',
      statusCode: null,
      error: `The receiver could not be reached or did not answer within ${DELIVERY_TIMEOUT_MS / 1000} s.`,
      retryAfterSeconds: null,
    };
  }
}
