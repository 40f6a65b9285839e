import { describe, expect, it } from '@jest/globals';
import {
  DELIVERY_RETRY_WINDOW_MS,
  nextDeliveryAttempt,
  parseRetryAfter,
} from './webhook-backoff.js';

const CREATED = new Date('2025-11-20T10:00:00.000Z');
const after = (ms: number): Date => new Date(CREATED.getTime() + ms);
const delayOf = (attempts: number, random: number, retryAfter: number | null = null): number =>
  nextDeliveryAttempt(attempts, CREATED, CREATED, retryAfter, () => random)!.getTime() -
  CREATED.getTime();

describe('nextDeliveryAttempt', () => {
  it('doubles from 5 s with each attempt, within the jitter band', () => {
    expect(delayOf(1, 0)).toBe(2_500);
    expect(delayOf(1, 1)).toBe(5_000);
    expect(delayOf(2, 0)).toBe(5_000);
    expect(delayOf(2, 1)).toBe(10_000);
    expect(delayOf(5, 1)).toBe(80_000);
    expect(delayOf(5, 0.5)).toBe(60_000);
  });

  it('is capped at two hours', () => {
    expect(delayOf(30, 1)).toBe(2 * 60 * 60 * 1000);
    expect(delayOf(1000, 1)).toBe(2 * 60 * 60 * 1000);
  });

  it("waits at least the receiver's Retry-After, up to an hour", () => {
    expect(delayOf(1, 1, 120)).toBe(120_000);
    expect(delayOf(1, 1, 86_400)).toBe(60 * 60 * 1000);
    expect(delayOf(20, 1, 120)).toBe(2 * 60 * 60 * 1000);
  });

  it('makes the last attempt at the end of the 24-hour window, then gives up', () => {
    const nearTheEnd = after(DELIVERY_RETRY_WINDOW_MS - 60_000);
    expect(nextDeliveryAttempt(15, CREATED, nearTheEnd, null, () => 1)).toEqual(
      after(DELIVERY_RETRY_WINDOW_MS),
    );
    expect(
      nextDeliveryAttempt(16, CREATED, after(DELIVERY_RETRY_WINDOW_MS), null, () => 0),
    ).toBeNull();
    expect(nextDeliveryAttempt(2, CREATED, after(DELIVERY_RETRY_WINDOW_MS + 1), null)).toBeNull();
  });

  it('retries for 24 hours: about twenty attempts at the longest jitter', () => {
    let now = CREATED;
    let attempts = 1;
    for (;;) {
      const next = nextDeliveryAttempt(attempts, CREATED, now, null, () => 1);
      if (next === null) break;
      now = next;
      attempts += 1;
    }
    expect(now).toEqual(after(DELIVERY_RETRY_WINDOW_MS));
    expect(attempts).toBeGreaterThanOrEqual(18);
    expect(attempts).toBeLessThanOrEqual(25);
  });
});

describe('parseRetryAfter', () => {
  const NOW = new Date('2025-11-20T10:00:00.000Z');
  it('reads seconds and HTTP dates, and ignores anything else', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('Thu, 20 Nov 2025 10:01:00 GMT', NOW)).toBe(60);
    expect(parseRetryAfter('Thu, 20 Nov 2025 09:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeNull();
    expect(parseRetryAfter('-5', NOW)).toBeNull();
    expect(parseRetryAfter(null, NOW)).toBeNull();
  });
});
