import { describe, expect, it } from '@jest/globals';
import {
  initialPollInterval,
  nextDevicePollStep,
  type DevicePollAnswer,
} from './device-poll-rules.js';

const now = new Date('2026-11-30T02:00:00.000Z');
const after = (seconds: number): Date => new Date(now.getTime() + seconds * 1000);
const refused = (
  oauthError: string | null,
  transient = false,
  retryAfterSeconds: number | null = null,
): DevicePollAnswer => ({
  kind: 'error',
  oauthError,
  transient,
  retryAfterSeconds,
});

describe('device authorization polling rules (RFC 8628 §3.5)', () => {
  it('starts with the provider interval, or 5 s when it names none or nonsense', () => {
    expect(initialPollInterval(7)).toBe(7);
    expect(initialPollInterval(2.2)).toBe(3);
    expect(initialPollInterval(null)).toBe(5);
    expect(initialPollInterval(0)).toBe(5);
    expect(initialPollInterval(86400)).toBe(300);
  });

  it('connects once tokens come', () => {
    expect(nextDevicePollStep({ kind: 'tokens' }, 5, now)).toEqual({
      kind: 'finish',
      outcome: 'connected',
    });
  });

  it('waits the interval while authorization is pending', () => {
    expect(nextDevicePollStep(refused('authorization_pending'), 5, now)).toEqual({
      kind: 'wait',
      intervalSeconds: 5,
      nextPollAt: after(5),
    });
  });

  it('adds 5 s to the interval for good on slow_down', () => {
    const first = nextDevicePollStep(refused('slow_down'), 5, now);
    expect(first).toEqual({ kind: 'wait', intervalSeconds: 10, nextPollAt: after(10) });
    expect(nextDevicePollStep(refused('authorization_pending'), 10, now)).toMatchObject({
      intervalSeconds: 10,
      nextPollAt: after(10),
    });
    expect(nextDevicePollStep(refused('slow_down'), 298, now)).toMatchObject({
      intervalSeconds: 300,
    });
  });

  it('stops on access_denied, expired_token and other refusals', () => {
    expect(nextDevicePollStep(refused('access_denied'), 5, now)).toEqual({
      kind: 'finish',
      outcome: 'denied',
    });
    expect(nextDevicePollStep(refused('expired_token'), 5, now)).toEqual({
      kind: 'finish',
      outcome: 'expired',
    });
    expect(nextDevicePollStep(refused('invalid_grant'), 5, now)).toEqual({
      kind: 'finish',
      outcome: 'failed',
    });
    expect(nextDevicePollStep(refused(null), 5, now)).toEqual({
      kind: 'finish',
      outcome: 'failed',
    });
  });

  it('backs off on a transient failure by the interval or Retry-After, keeping the interval', () => {
    expect(nextDevicePollStep(refused('temporarily_unavailable', true), 5, now)).toEqual({
      kind: 'wait',
      intervalSeconds: 5,
      nextPollAt: after(5),
    });
    expect(nextDevicePollStep(refused(null, true, 60), 5, now)).toEqual({
      kind: 'wait',
      intervalSeconds: 5,
      nextPollAt: after(60),
    });
  });
});
