import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';

const WINDOW_MS = 60_000;
/** Bounds memory under a spray from many addresses; the oldest windows are dropped first. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface FailureWindow {
  startedAt: number;
  failures: number;
}

/**
 * Counts failed authentications per client address in fixed one-minute windows (SPEC §8, §11).
 * It is consulted only after a key has failed: a request with a valid key is always served, so
 * junk from behind the same address (an ingress, a NAT) cannot lock consumers out.
 * Hand-written because @nestjs/throttler limits all requests, not failures. Per replica, by
 * design: no shared component.
 */
@Injectable()
export class FailedAuthLimiter {
  private readonly windows = new Map<string, FailureWindow>();

  constructor(private readonly config: AppConfig) {}

  /**
   * Counts one failed attempt. Returns 0 while the address is within its allowance, otherwise the
   * seconds until its window ends (the Retry-After of the 429 that refuses this attempt).
   */
  recordFailure(address: string, now = Date.now()): number {
    const window = this.windows.get(address);
    if (window && now - window.startedAt < WINDOW_MS) {
      window.failures++;
      if (window.failures <= this.config.authFailuresPerMinute) return 0;
      return Math.ceil((window.startedAt + WINDOW_MS - now) / 1000);
    }
    this.windows.delete(address);
    if (this.windows.size >= MAX_TRACKED_ADDRESSES) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(address, { startedAt: now, failures: 1 });
    return 0; // AUTH_FAILURES_PER_MINUTE is at least 1
  }
}
