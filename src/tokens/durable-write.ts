import { isDatabaseUnavailable } from '../common/database-unavailable.js';

const FIRST_RETRY_DELAY_MS = 100;
/**
 * Short on purpose: once the database is back, the write must land before the refresh lease, which
 * ran on through the outage, can be taken by another replica that would send the old refresh token.
 */
const MAX_RETRY_DELAY_MS = 500;

export interface DurableWriteOptions {
  /** Told of each failed attempt that will be retried. */
  onRetry?: (error: unknown, attempt: number) => void;
  /** Stops retrying (shutdown): the last error is thrown. */
  shouldStop?: () => boolean;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `write` until it succeeds, retrying for as long as the database is unreachable (SPEC §11,
 * durable rotation): tokens a provider has issued exist nowhere else, so giving up would lose a
 * rotated refresh token and, on the next refresh, make the provider revoke the grant. Any other
 * error is a bug or a refused write and is thrown at once.
 */
export async function writeWhileDatabaseReturns<T>(
  write: () => Promise<T>,
  options: DurableWriteOptions = {},
): Promise<T> {
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delayMs = FIRST_RETRY_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || options.shouldStop?.()) throw error;
      options.onRetry?.(error, attempt);
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
