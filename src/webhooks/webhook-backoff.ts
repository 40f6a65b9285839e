/** SPEC §13: a delivery is retried for 24 hours after the event, then given up. */
export const DELIVERY_RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
const BASE_DELAY_MS = 5_000;
const MAX_DELAY_MS = 2 * 60 * 60 * 1000;
/** A receiver's Retry-After is honoured up to this; beyond it the backoff decides. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * When to try a failed delivery again, or null to give up (SPEC §13). Exponential in the number
 * of attempts made (5 s doubling to 2 h), with jitter so deliveries to a receiver that just came
 * back do not arrive in step, never sooner than the receiver's Retry-After (up to an hour). The
 * last attempt is made at the end of the 24-hour window at the latest; a failure at or after it
 * gives up. Pure: the clock and the randomness are parameters, so its spec asserts exact values.
 *
 * @param attempts - attempts made so far, the failed one included (1 after the first)
 * @param createdAt - when the event happened (the window starts there)
 * @param now - when the failed attempt ended
 * @param retryAfterSeconds - the receiver's Retry-After, if it sent one
 * @param random - a number in [0, 1)
 */
export function nextDeliveryAttempt(
  attempts: number,
  createdAt: Date,
  now: Date,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
): Date | null {
  const deadline = createdAt.getTime() + DELIVERY_RETRY_WINDOW_MS;
  if (now.getTime() >= deadline) return null;
  const exponential = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  const delay = Math.max(
    jittered,
    Math.min(MAX_RETRY_AFTER_MS, Math.max(0, retryAfterSeconds ?? 0) * 1000),
  );
  return new Date(Math.min(deadline, now.getTime() + delay));
}

/**
 * A Retry-After header in seconds (delta-seconds or an HTTP date), or null when absent or
 * unreadable.
 */
export function parseRetryAfter(header: string | null, now: Date): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date names its weekday and month; Date.parse would also take "-5" as a year.
  const date = /^[A-Za-z]{3}, /.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}
