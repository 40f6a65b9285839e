import { hashApiKey } from './api-key-secret.js';

const LAST_PRESENTED = Symbol('outlink.lastPresentedKey');
type RemembersLastKey = { [LAST_PRESENTED]?: { key: string; hash: string } };

/**
 * The SHA-256 of a presented API key (what the database and the key cache know), remembered on
 * the connection it came from: a consumer sends the same key on every request of a keep-alive
 * connection, and hashing it each time was a visible cost of the token route (issue 10). A key
 * is compared only with the one presented before on the same connection, in constant time (a
 * proxy's connection may carry several callers' keys), and goes with the connection.
 */
export function presentedKeyHash(connection: object | undefined, key: string): string {
  const remembered = (connection as RemembersLastKey | undefined)?.[LAST_PRESENTED];
  if (remembered !== undefined && sameKey(remembered.key, key)) return remembered.hash;
  const hash = hashApiKey(key);
  if (connection !== undefined) (connection as RemembersLastKey)[LAST_PRESENTED] = { key, hash };
  return hash;
}

/** Constant time for equal lengths (crypto.timingSafeEqual wants buffers, which cost more). */
function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
