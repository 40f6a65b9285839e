import { beforeEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/app-config.js';
import { FailedAuthLimiter } from './failed-auth-limiter.js';

const LIMIT = 5;
const T0 = 1_700_000_000_000;
/** The bound documented in the limiter; beyond it the oldest window is forgotten. */
const MAX_TRACKED_ADDRESSES = 10_000;

describe('FailedAuthLimiter', () => {
  let limiter: FailedAuthLimiter;

  beforeEach(() => {
    limiter = new FailedAuthLimiter(loadConfig({ AUTH_FAILURES_PER_MINUTE: String(LIMIT) }));
  });

  function fail(address: string, times: number, now = T0): void {
    for (let i = 0; i < times; i++) limiter.recordFailure(address, now);
  }

  it('does not block below the limit, and blocks at it with the rest of the minute as retryAfter', () => {
    expect(limiter.retryAfterSeconds('10.0.0.1', T0)).toBe(0);
    fail('10.0.0.1', LIMIT - 1);
    expect(limiter.retryAfterSeconds('10.0.0.1', T0)).toBe(0);
    fail('10.0.0.1', 1);
    expect(limiter.retryAfterSeconds('10.0.0.1', T0)).toBe(60);
    expect(limiter.retryAfterSeconds('10.0.0.1', T0 + 15_500)).toBe(45);
    expect(limiter.retryAfterSeconds('10.0.0.1', T0 + 59_001)).toBe(1);
  });

  it('counts failures spread over the minute in the window of the first one', () => {
    for (let i = 0; i < LIMIT; i++) limiter.recordFailure('10.0.0.2', T0 + i * 10_000);
    expect(limiter.retryAfterSeconds('10.0.0.2', T0 + 40_000)).toBe(20);
  });

  it('lets the address in again when the minute is over, with a fresh count', () => {
    fail('10.0.0.3', LIMIT);
    expect(limiter.retryAfterSeconds('10.0.0.3', T0 + 59_999)).toBe(1);
    expect(limiter.retryAfterSeconds('10.0.0.3', T0 + 60_000)).toBe(0);

    // One failure after the window starts a new window; it takes the full count to block again.
    const later = T0 + 60_000;
    fail('10.0.0.3', 1, later);
    expect(limiter.retryAfterSeconds('10.0.0.3', later)).toBe(0);
    fail('10.0.0.3', LIMIT - 1, later + 1_000);
    expect(limiter.retryAfterSeconds('10.0.0.3', later + 1_000)).toBe(59);
  });

  it('keeps addresses independent', () => {
    fail('10.0.0.4', LIMIT);
    fail('10.0.0.5', LIMIT - 1);
    expect(limiter.retryAfterSeconds('10.0.0.4', T0)).toBeGreaterThan(0);
    expect(limiter.retryAfterSeconds('10.0.0.5', T0)).toBe(0);
    expect(limiter.retryAfterSeconds('2001:db8::4', T0)).toBe(0);
  });

  it(`tracks at most ${MAX_TRACKED_ADDRESSES} addresses, forgetting the oldest first`, () => {
    // A blocked address, then a spray of one failure each from many others.
    fail('198.51.100.1', LIMIT);
    fail('198.51.100.2', LIMIT, T0 + 1);
    const spray = (count: number): void => {
      for (let i = 0; i < count; i++) limiter.recordFailure(`spray-${i}`, T0 + 2);
    };

    // Up to the bound, every window is still there ...
    spray(MAX_TRACKED_ADDRESSES - 2);
    expect(limiter.retryAfterSeconds('198.51.100.1', T0 + 2)).toBe(60);
    expect(limiter.retryAfterSeconds('198.51.100.2', T0 + 2)).toBe(60);

    // ... one more address pushes out exactly the oldest one, and the next one the one after.
    limiter.recordFailure('spray-extra-1', T0 + 2);
    expect(limiter.retryAfterSeconds('198.51.100.1', T0 + 2)).toBe(0);
    expect(limiter.retryAfterSeconds('198.51.100.2', T0 + 2)).toBe(60);
    limiter.recordFailure('spray-extra-2', T0 + 2);
    expect(limiter.retryAfterSeconds('198.51.100.2', T0 + 2)).toBe(0);

    // The newest windows are all kept: LIMIT - 1 more failures block the latest sprayed address.
    fail('spray-extra-2', LIMIT - 1, T0 + 3);
    expect(limiter.retryAfterSeconds('spray-extra-2', T0 + 3)).toBeGreaterThan(0);
  });
});
