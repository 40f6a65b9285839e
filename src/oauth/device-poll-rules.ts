import type { DeviceAuthorizationOutcome } from './device-authorization.entity.js';

/** RFC 8628 §3.2: without an `interval` from the server, clients wait 5 seconds. */
export const DEFAULT_DEVICE_POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: every `slow_down` adds 5 seconds to the interval, for good. */
export const SLOW_DOWN_INCREMENT_SECONDS = 5;
/** An interval longer than this from a provider is treated as this, so a typo cannot park a poll for days. */
export const MAX_DEVICE_POLL_INTERVAL_SECONDS = 300;

/** What one poll of the token endpoint came back with. */
export type DevicePollAnswer =
  | { kind: 'tokens' }
  | {
      kind: 'error';
      /** the OAuth `error` code, when the provider sent one */
      oauthError: string | null;
      /** unreachable, 5xx, 429, temporarily_unavailable: ask again later */
      transient: boolean;
      retryAfterSeconds: number | null;
    };

export type DevicePollStep =
  | { kind: 'wait'; intervalSeconds: number; nextPollAt: Date }
  | {
      kind: 'finish';
      outcome: Extract<DeviceAuthorizationOutcome, 'connected' | 'denied' | 'expired' | 'failed'>;
    };

/** The interval to start with: the provider's, within sane bounds, else RFC 8628's 5 s. */
export function initialPollInterval(providerInterval: number | null): number {
  if (providerInterval === null || !Number.isFinite(providerInterval) || providerInterval < 1)
    return DEFAULT_DEVICE_POLL_INTERVAL_SECONDS;
  return Math.min(Math.ceil(providerInterval), MAX_DEVICE_POLL_INTERVAL_SECONDS);
}

/**
 * What to do after one poll (RFC 8628 §3.5): keep waiting the interval on
 * `authorization_pending`, wait 5 s longer from now on after `slow_down`, back off on a transient
 * failure, and stop on approval, `access_denied`, `expired_token` or any other refusal.
 *
 * @param answer - what the token endpoint said
 * @param intervalSeconds - the current interval
 * @param now - when the answer came
 */
export function nextDevicePollStep(
  answer: DevicePollAnswer,
  intervalSeconds: number,
  now: Date,
): DevicePollStep {
  const waitFor = (seconds: number): DevicePollStep => ({
    kind: 'wait',
    intervalSeconds: seconds,
    nextPollAt: new Date(now.getTime() + seconds * 1000),
  });
  if (answer.kind === 'tokens') return { kind: 'finish', outcome: 'connected' };
  const { oauthError } = answer;
  if (oauthError === 'authorization_pending') return waitFor(intervalSeconds);
  if (oauthError === 'slow_down') {
    return waitFor(
      Math.min(intervalSeconds + SLOW_DOWN_INCREMENT_SECONDS, MAX_DEVICE_POLL_INTERVAL_SECONDS),
    );
  }
  if (oauthError === 'access_denied') return { kind: 'finish', outcome: 'denied' };
  if (oauthError === 'expired_token') return { kind: 'finish', outcome: 'expired' };
  if (answer.transient) {
    const waitSeconds = Math.max(intervalSeconds, answer.retryAfterSeconds ?? 0);
    return {
      kind: 'wait',
      intervalSeconds,
      nextPollAt: new Date(
        now.getTime() + Math.min(waitSeconds, MAX_DEVICE_POLL_INTERVAL_SECONDS) * 1000,
      ),
    };
  }
  return { kind: 'finish', outcome: 'failed' };
}
