import { beforeEach, describe, expect, it } from '@jest/globals';
import type { Change } from '../database/change-notifications.js';
import { API_KEY_CACHE_TTL_MS, ApiKeyCache, type ChangeFeed } from './api-key-cache.js';
import type { ApiKeyPrincipal } from './api-key-principal.js';

/** Stands in for ChangeNotifications: the test decides what arrives and when the feed is down. */
class FakeFeed implements ChangeFeed {
  reliable = true;
  private readonly subscribers = new Set<(change: Change) => void>();
  private readonly reliabilityListeners = new Set<(reliable: boolean) => void>();

  subscribe(listener: (change: Change) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  onReliabilityChange(listener: (reliable: boolean) => void): () => void {
    this.reliabilityListeners.add(listener);
    return () => this.reliabilityListeners.delete(listener);
  }

  deliver(change: Change): void {
    for (const subscriber of this.subscribers) subscriber(change);
  }

  setReliable(reliable: boolean): void {
    this.reliable = reliable;
    for (const listener of this.reliabilityListeners) listener(reliable);
  }

  get listenerCount(): number {
    return this.subscribers.size + this.reliabilityListeners.size;
  }
}

const principal = (id: string, linkIds: string[] | null = null): ApiKeyPrincipal => ({
  id,
  role: 'consumer',
  linkIds,
});

describe('ApiKeyCache', () => {
  let feed: FakeFeed;
  let now: number;
  let cache: ApiKeyCache;

  beforeEach(() => {
    feed = new FakeFeed();
    now = 1_000_000;
    cache = new ApiKeyCache(feed, { now: () => now });
  });

  function fill(keyHash: string, id: string): void {
    cache.set(keyHash, principal(id), cache.startFill());
  }

  it('serves a filled key until the safety TTL runs out, then asks again', () => {
    fill('hash-a', 'key-a');
    now += API_KEY_CACHE_TTL_MS - 1;
    expect(cache.get('hash-a')).toEqual(principal('key-a'));
    now += 1;
    expect(cache.get('hash-a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not extend the TTL on use', () => {
    fill('hash-a', 'key-a');
    for (let i = 0; i < 5; i++) {
      now += API_KEY_CACHE_TTL_MS / 5 - 1;
      expect(cache.get('hash-a')).toBeDefined();
    }
    now += 5;
    expect(cache.get('hash-a')).toBeUndefined();
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    cache = new ApiKeyCache(feed, { now: () => now, maxEntries: 3 });
    fill('hash-1', 'key-1');
    fill('hash-2', 'key-2');
    fill('hash-3', 'key-3');
    expect(cache.get('hash-1')).toBeDefined(); // key-2 is now the least recently used
    fill('hash-4', 'key-4');
    expect(cache.size).toBe(3);
    expect(cache.get('hash-2')).toBeUndefined();
    for (const hash of ['hash-1', 'hash-3', 'hash-4']) expect(cache.get(hash)).toBeDefined();
  });

  it('drops a key when its revocation arrives, and only that key', () => {
    fill('hash-a', 'key-a');
    fill('hash-b', 'key-b');
    feed.deliver({ kind: 'api_key', id: 'key-a' });
    expect(cache.get('hash-a')).toBeUndefined();
    expect(cache.get('hash-b')).toBeDefined();
  });

  it('ignores changes to links', () => {
    fill('hash-a', 'key-a');
    feed.deliver({ kind: 'link', id: 'key-a' });
    expect(cache.get('hash-a')).toBeDefined();
  });

  it('discards a fill whose database read started before a revocation arrived', () => {
    const started = cache.startFill();
    // The row was read; the revocation commits and arrives before the result is cached.
    feed.deliver({ kind: 'api_key', id: 'key-a' });
    cache.set('hash-a', principal('key-a'), started);
    expect(cache.get('hash-a')).toBeUndefined();
  });

  it('serves and keeps nothing while the feed is unreliable, and starts empty when it is back', () => {
    fill('hash-a', 'key-a');
    const startedBeforeOutage = cache.startFill();
    feed.setReliable(false);
    expect(cache.get('hash-a')).toBeUndefined();
    fill('hash-b', 'key-b');
    expect(cache.size).toBe(0);

    feed.setReliable(true);
    expect(cache.get('hash-a')).toBeUndefined();
    cache.set('hash-c', principal('key-c'), startedBeforeOutage);
    expect(cache.size).toBe(0);
    fill('hash-d', 'key-d');
    expect(cache.get('hash-d')).toBeDefined();
  });

  it('clears itself when the feed goes down even if nobody asks meanwhile', () => {
    fill('hash-a', 'key-a');
    feed.setReliable(false);
    expect(cache.size).toBe(0);
  });

  it('keeps one entry per key id', () => {
    fill('hash-old', 'key-a');
    fill('hash-new', 'key-a');
    expect(cache.size).toBe(1);
    feed.deliver({ kind: 'api_key', id: 'key-a' });
    expect(cache.size).toBe(0);
  });

  it('hands out principals that callers cannot alter', () => {
    cache.set('hash-a', principal('key-a', ['link-1']), cache.startFill());
    const served = cache.get('hash-a')!;
    expect(() => served.linkIds!.push('link-2')).toThrow(TypeError);
    expect(() => {
      (served as { role: string }).role = 'admin';
    }).toThrow(TypeError);
  });

  it('stops following the feed, and caching, once closed', () => {
    fill('hash-a', 'key-a');
    cache.close();
    expect(feed.listenerCount).toBe(0);
    expect(cache.size).toBe(0);
    fill('hash-b', 'key-b');
    expect(cache.get('hash-b')).toBeUndefined();
  });
});
