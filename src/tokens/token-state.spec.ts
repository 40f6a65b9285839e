import { describe, expect, it } from '@jest/globals';
import {
  CLOCK_SKEW_MS,
  isSameToken,
  isValidFor,
  mayServeOnDemand,
  rejectionOutcome,
  renewByOf,
} from './token-state.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const at = (secondsFromNow: number): Date => new Date(NOW + secondsFromNow * 1000);
const token = (renewInSeconds: number | null, obtainedSecondsAgo: number | null = 0) => ({
  accessToken: 'at',
  renewBy: renewInSeconds === null ? null : at(renewInSeconds),
  obtainedAt: obtainedSecondsAgo === null ? null : at(-obtainedSecondsAgo),
});

describe('isValidFor', () => {
  it('allows exactly the clock skew as margin and nothing more', () => {
    const skew = CLOCK_SKEW_MS / 1000;
    expect(isValidFor(token(60 + skew), 60, NOW)).toBe(true);
    expect(isValidFor(token(60 + skew - 0.001), 60, NOW)).toBe(false);
    expect(isValidFor(token(skew), 0, NOW)).toBe(true);
    expect(isValidFor(token(0), 0, NOW)).toBe(false);
  });

  it('treats a token without renewBy as valid for any time, and no token as invalid', () => {
    expect(isValidFor(token(null), 3600, NOW)).toBe(true);
    expect(isValidFor({ accessToken: null, renewBy: null }, 0, NOW)).toBe(false);
  });
});

describe('mayServeOnDemand (refresh budget)', () => {
  it('serves a token valid for minValidity whatever its age', () => {
    expect(mayServeOnDemand(token(600, 3000), 60, 30, NOW)).toBe(true);
  });

  it('serves a still-valid but too short token while it is younger than the budget', () => {
    expect(mayServeOnDemand(token(3599, 0), 3600, 30, NOW)).toBe(true);
    expect(mayServeOnDemand(token(3570, 29.999), 3600, 30, NOW)).toBe(true);
    expect(mayServeOnDemand(token(3569, 30), 3600, 30, NOW)).toBe(false);
  });

  it('never serves an expired token, however young', () => {
    expect(mayServeOnDemand(token(0, 0), 0, 30, NOW)).toBe(false);
    expect(mayServeOnDemand(token(-5, 1), 60, 30, NOW)).toBe(false);
  });

  it('has no budget at 0, and none for a token of unknown age', () => {
    expect(mayServeOnDemand(token(3599, 0), 3600, 0, NOW)).toBe(false);
    expect(mayServeOnDemand(token(3599, null), 3600, 30, NOW)).toBe(false);
  });
});

describe('renewByOf', () => {
  it("is the provider's expiry when there is one", () => {
    expect(renewByOf(at(300), at(-10), 3600)).toEqual(at(300));
  });

  it('is the assumed lifetime after issue for a token without expiry, or never', () => {
    expect(renewByOf(null, at(-10), 3600)).toEqual(at(3590));
    expect(renewByOf(null, at(-10), 0)).toBeNull();
    expect(renewByOf(null, null, 3600)).toBeNull();
  });
});

describe('isSameToken', () => {
  it('matches the held token only, whatever the lengths', () => {
    expect(isSameToken({ accessToken: 'at' }, 'at')).toBe(true);
    expect(isSameToken({ accessToken: 'at' }, 'a')).toBe(false);
    expect(isSameToken({ accessToken: 'at' }, 'at-but-longer')).toBe(false);
    expect(isSameToken({ accessToken: null }, '')).toBe(false);
  });
});

describe('rejectionOutcome (SPEC §12 renew)', () => {
  it('serves the held token when the rejected one is not it', () => {
    expect(rejectionOutcome(token(600, 3000), 'old', 30, NOW)).toBe('another_token');
  });

  it('renews the held token once it is older than the budget', () => {
    expect(rejectionOutcome(token(600, 30), 'at', 30, NOW)).toBe('renew');
    expect(rejectionOutcome(token(600, 29.999), 'at', 30, NOW)).toBe('too_soon');
  });

  it('always renews an expired token, one of unknown age, or with the budget off', () => {
    expect(rejectionOutcome(token(0, 1), 'at', 30, NOW)).toBe('renew');
    expect(rejectionOutcome(token(600, null), 'at', 30, NOW)).toBe('renew');
    expect(rejectionOutcome(token(600, 0), 'at', 0, NOW)).toBe('renew');
  });
});
