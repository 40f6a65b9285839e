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

  /** Records `times` failures; the retry-after the last one got. */
  function fail(address: string, times: number, now = T0): number {
    let retryAfter = 0;
    for (let i = 0; i < times; i++) retryAfter = limiter.recordFailure(address, now);
    return retryAfter;
  }

  it('allows LIMIT failures, then refuses the next ones with the rest of the minute as retryAfter', () => {
    expect(fail('10.0.0.1', LIMIT)).toBe(0);
    expect(limiter.recordFailure('10.0.0.1', T0)).toBe(60);
    expect(limiter.recordFailure('10.0.0.1', T0 + 15_500)).toBe(45);
    expect(limiter.recordFailure('10.0.0.1', T0 + 59_001)).toBe(1);
  });

  it('counts failures spread over the minute in the window of the first one', () => {
    for (let i = 0; i < LIMIT; i++)
      expect(limiter.recordFailure('10.0.0.2', T0 + i * 10_000)).toBe(0);
    expect(limiter.recordFailure('10.0.0.2', T0 + 40_000)).toBe(20);
  });

  it('starts a fresh count when the minute is over', () => {
    fail('10.0.0.3', LIMIT + 3);
    expect(limiter.recordFailure('10.0.0.3', T0 + 59_999)).toBe(1);
    const later = T0 + 60_000;
    expect(fail('10.0.0.3', LIMIT, later)).toBe(0);
    expect(limiter.recordFailure('10.0.0.3', later + 1_000)).toBe(59);
  });

  it('keeps addresses independent', () => {
    fail('10.0.0.4', LIMIT);
    expect(limiter.recordFailure('10.0.0.4', T0)).toBeGreaterThan(0);
    expect(limiter.recordFailure('10.0.0.5', T0)).toBe(0);
    expect(limiter.recordFailure('2001:db8::4', T0)).toBe(0);
  });

  it(`tracks at most ${MAX_TRACKED_ADDRESSES} addresses, forgetting the oldest first`, () => {
    // Two addresses at their limit, then a spray of one failure each from many others.
    fail('198.51.100.1', LIMIT);
    fail('198.51.100.2', LIMIT, T0 + 1);
    const spray = (count: number): void => {
      for (let i = 0; i < count; i++) limiter.recordFailure(`spray-${i}`, T0 + 2);
    };

    // Up to the bound, every window is still there (a further failure of each is refused) ...
    spray(MAX_TRACKED_ADDRESSES - 2);
    expect(limiter.recordFailure('198.51.100.1', T0 + 2)).toBe(60);
    expect(limiter.recordFailure('198.51.100.2', T0 + 2)).toBe(60);

    // ... one more address pushes out exactly the oldest one, whose next failure counts afresh
    // (and, being a new address again, pushes out 198.51.100.2, the next oldest).
    limiter.recordFailure('spray-extra-1', T0 + 2);
    expect(limiter.recordFailure('198.51.100.1', T0 + 2)).toBe(0);
    expect(limiter.recordFailure('198.51.100.2', T0 + 2)).toBe(0);

    // The newest windows are all kept: LIMIT - 1 more failures use up the latest sprayed address.
    expect(fail('spray-extra-1', LIMIT - 1, T0 + 3)).toBe(0);
    expect(limiter.recordFailure('spray-extra-1', T0 + 3)).toBeGreaterThan(0);
  });
});
