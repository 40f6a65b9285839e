import type { ChangeNotifications } from '../database/change-notifications.js';
import type { ApiKeyPrincipal } from './api-key-principal.js';

/** What the cache needs of ChangeNotifications (a fake in unit tests). */
export type ChangeFeed = Pick<
  ChangeNotifications,
  'reliable' | 'subscribe' | 'onReliabilityChange'
>;

/** A safety net only: revocations reach the cache through ChangeNotifications within a second. */
export const API_KEY_CACHE_TTL_MS = 5 * 60_000;
export const API_KEY_CACHE_MAX_ENTRIES = 10_000;

export interface ApiKeyCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  /** Milliseconds; injectable so tests need not wait for the TTL. */
  now?: () => number;
}

interface CachedKey {
  principal: ApiKeyPrincipal;
  expiresAt: number;
}

/**
 * This replica's copy of the API keys it has recently authenticated, keyed by key hash, so that
 * the hot path (SPEC §7) costs no database round trip per request.
 *
 * It stays correct because every revocation on any replica is published through
 * ChangeNotifications and drops the key here, and because it serves and keeps nothing while the
 * feed is unreliable. Unknown keys are never cached: a key created a moment ago must work on every
 * replica at once, and a cache of misses would be an unbounded target for anyone sending junk.
 */
export class ApiKeyCache {
  /** In recency order, least recently used first, so the first entry is the one to evict. */
  private readonly entries = new Map<string, CachedKey>();
  private readonly hashById = new Map<string, string>();
  /**
   * Bumped by every drop and clear. A fill that started before a bump may carry a row that is
   * already deleted (read, then the revocation arrived before the result was cached): it is
   * discarded rather than cached for the rest of the TTL.
   */
  private generation = 0;
  /** After close() nothing tells this cache of revocations any more, so it holds nothing. */
  private closed = false;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly feed: ChangeFeed,
    options: ApiKeyCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? API_KEY_CACHE_TTL_MS;
    this.maxEntries = options.maxEntries ?? API_KEY_CACHE_MAX_ENTRIES;
    this.now = options.now ?? Date.now;
    this.unsubscribe = [
      feed.subscribe((change) => {
        if (change.kind === 'api_key') this.dropKey(change.id);
      }),
      // Down: changes may be missed from now on. Back up: some may have been missed meanwhile.
      feed.onReliabilityChange(() => this.clear()),
    ];
  }

  get size(): number {
    return this.entries.size;
  }

  /** The principal of a cached key hash, or undefined (then ask the database). */
  get(keyHash: string): ApiKeyPrincipal | undefined {
    if (this.closed || !this.feed.reliable) return undefined;
    const entry = this.entries.get(keyHash);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(keyHash, entry.principal.id);
      return undefined;
    }
    this.entries.delete(keyHash);
    this.entries.set(keyHash, entry);
    return entry.principal;
  }

  /** Call just before the database read whose result is then passed to `set`. */
  startFill(): number {
    return this.generation;
  }

  set(keyHash: string, principal: ApiKeyPrincipal, fill: number): void {
    if (this.closed || !this.feed.reliable || fill !== this.generation) return;
    const previousHash = this.hashById.get(principal.id);
    if (previousHash !== undefined) this.remove(previousHash, principal.id);
    // Callers share the cached object: freeze it so that none can change another's principal.
    if (principal.linkIds !== null) Object.freeze(principal.linkIds);
    Object.freeze(principal);
    this.entries.set(keyHash, { principal, expiresAt: this.now() + this.ttlMs });
    this.hashById.set(principal.id, keyHash);
    for (const [oldestHash, oldest] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      this.remove(oldestHash, oldest.principal.id);
    }
  }

  /** Forgets the key with this id (revoked on some replica). */
  dropKey(id: string): void {
    this.generation++;
    const keyHash = this.hashById.get(id);
    if (keyHash !== undefined) this.remove(keyHash, id);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
    this.hashById.clear();
  }

  /** Stops following the feed and forgets everything. */
  close(): void {
    this.closed = true;
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.clear();
  }

  private remove(keyHash: string, id: string): void {
    this.entries.delete(keyHash);
    if (this.hashById.get(id) === keyHash) this.hashById.delete(id);
  }
}
