import type { JsonObject } from '../common/json.js';

/** What a webhook can subscribe to (SPEC §13); `webhook.test` is sent by the test route only. */
export const LINK_WEBHOOK_EVENT_TYPES = [
  'link.connected',
  'link.reauthorization_required',
  'link.error',
  'link.recovered',
  'link.expiring',
  'link.mail_check_failed',
  'link.deleted',
] as const;
export type LinkWebhookEventType = (typeof LINK_WEBHOOK_EVENT_TYPES)[number];
export const WEBHOOK_TEST_EVENT = 'webhook.test';
export type WebhookEventType = LinkWebhookEventType | typeof WEBHOOK_TEST_EVENT;
/** `events: ["*"]` subscribes to every link event, including those added later. */
export const ALL_EVENTS = '*';

/** Who must act, when the link's lastError does not say (before the failure taxonomy knows). */
const FALLBACK_ADVICE: Partial<Record<LinkWebhookEventType, { actor: string; action: string }>> = {
  'link.reauthorization_required': {
    actor: 'outlink_admin',
    action:
      'Authorize the link again: POST /v1/links/{id}/authorize, then sign in and consent at the provider.',
  },
  'link.error': {
    actor: 'outlink_admin',
    action:
      "Check the link's client id and secret at the provider, then PATCH the link with a new clientSecret.",
  },
};

/**
 * The webhook event a link event announces, or null for those no one is told about (SPEC §13).
 * A link connected from `pending_authorization` is `link.connected`; one coming back from
 * `reauthorization_required` or `error` is `link.recovered`.
 *
 * @param linkEventType - the audit-trail type (a string: other modules add types, e.g. `expiring`)
 * @param detail - the audit-trail detail; `status_changed` carries `{ from, to }`
 */
export function webhookEventFor(
  linkEventType: string,
  detail: JsonObject,
): LinkWebhookEventType | null {
  switch (linkEventType) {
    case 'status_changed':
      if (detail.to === 'connected')
        return detail.from === 'reauthorization_required' || detail.from === 'error'
          ? 'link.recovered'
          : 'link.connected';
      if (detail.to === 'reauthorization_required') return 'link.reauthorization_required';
      if (detail.to === 'error') return 'link.error';
      return null;
    case 'deleted':
      return 'link.deleted';
    case 'expiring':
      return 'link.expiring';
    case 'mail_check_failed':
      return 'link.mail_check_failed';
    default:
      return null;
  }
}

/** The link as the announcing transaction sees it. */
export interface LinkSnapshot {
  id: string;
  name: string;
  status: string;
  deleted: boolean;
  /** `{ code, message, at }`, plus `reason`, `actor`, `action` once the failure taxonomy sets them. */
  lastError: JsonObject | null;
}

export interface WebhookPayload {
  type: WebhookEventType;
  timestamp: string;
  data: JsonObject;
}

const text = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : null;

/**
 * The body of a link event's webhook (SPEC §13):
 * `{ type, timestamp, data: { linkId, linkName, status, previousStatus, reason, actor, action } }`.
 * Only named fields are copied, so nothing else of the link or the event (let alone a secret)
 * can leak into it. A failure's reason, actor and action come from the link's lastError, which
 * the same transaction wrote; a forecast's or a mail check's from the event itself.
 */
export function linkEventPayload(
  type: LinkWebhookEventType,
  detail: JsonObject,
  link: LinkSnapshot,
  at: Date,
): WebhookPayload {
  const failure =
    type === 'link.expiring' || type === 'link.mail_check_failed' ? null : link.lastError;
  const fallback = FALLBACK_ADVICE[type];
  const data: JsonObject = {
    linkId: link.id,
    linkName: link.name,
    status: type === 'link.deleted' ? null : link.status,
    previousStatus: type === 'link.deleted' ? link.status : text(detail.from),
    reason:
      text(failure?.reason) ??
      text(detail.reason) ??
      text(detail.risk) ??
      text(failure?.code) ??
      null,
    actor: text(failure?.actor) ?? text(detail.actor) ?? fallback?.actor ?? null,
    action:
      text(failure?.action) ??
      text(detail.action) ??
      fallback?.action.replace('{id}', link.id) ??
      null,
  };
  if (type === 'link.expiring') {
    data.expiresAt = text(detail.expiresAt);
    data.daysAhead = typeof detail.daysAhead === 'number' ? detail.daysAhead : null;
  }
  return { type, timestamp: at.toISOString(), data };
}

/** The body of `POST /v1/webhooks/{id}/test`. */
export function testPayload(webhookId: string, at: Date): WebhookPayload {
  return {
    type: WEBHOOK_TEST_EVENT,
    timestamp: at.toISOString(),
    data: { webhookId, message: 'A test event from Outlink: this webhook is reachable.' },
  };
}
