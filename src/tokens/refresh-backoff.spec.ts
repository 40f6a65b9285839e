import { describe, expect, it } from '@jest/globals';
import { nextAttemptDelayMs } from './refresh-backoff.js';

describe('nextAttemptDelayMs', () => {
  it('doubles with each consecutive failure, within the jitter band', () => {
    expect(nextAttemptDelayMs(1, null, () => 0)).toBe(500);
    expect(nextAttemptDelayMs(1, null, () => 1)).toBe(1000);
    expect(nextAttemptDelayMs(4, null, () => 0)).toBe(4000);
    expect(nextAttemptDelayMs(4, null, () => 1)).toBe(8000);
  });

  it('is capped at ten minutes', () => {
    expect(nextAttemptDelayMs(40, null, () => 1)).toBe(600_000);
  });

  it('never retries before Retry-After', () => {
    expect(nextAttemptDelayMs(1, 30, () => 1)).toBe(30_000);
    expect(nextAttemptDelayMs(20, 30, () => 1)).toBe(600_000);
  });
});
