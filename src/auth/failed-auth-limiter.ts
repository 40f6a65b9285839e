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
 * Counts failed authentications per client address in fixed one-minute windows (SPEC §8).
 * Hand-written because @nestjs/throttler limits all requests, not failures: a busy consumer with
 * a good key must never be throttled by this. Per replica, by design: no shared component.
 */
@Injectable()
export class FailedAuthLimiter {
  private readonly windows = new Map<string, FailureWindow>();

  constructor(private readonly config: AppConfig) {}

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  retryAfterSeconds(address: string, now = Date.now()): number {
    const window = this.windows.get(address);
    if (!window || now - window.startedAt >= WINDOW_MS) return 0;
    if (window.failures < this.config.authFailuresPerMinute) return 0;
    return Math.ceil((window.startedAt + WINDOW_MS - now) / 1000);
  }

  recordFailure(address: string, now = Date.now()): void {
    const window = this.windows.get(address);
    if (window && now - window.startedAt < WINDOW_MS) {
      window.failures++;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= MAX_TRACKED_ADDRESSES) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(address, { startedAt: now, failures: 1 });
  }
}
