const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10 * 60 * 1000;

/**
 * When to call a failing provider again (SPEC §7): exponential in the number of consecutive
 * transient failures, with jitter so replicas and links do not retry in step, and never sooner
 * than the provider's Retry-After.
 */
export function nextAttemptDelayMs(
  consecutiveFailures: number,
  retryAfterSeconds: number | null,
  random = Math.random,
): number {
  const exponential = Math.min(
    MAX_DELAY_MS,
    BASE_DELAY_MS * 2 ** Math.max(0, consecutiveFailures - 1),
  );
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000);
}
