import { describe, expect, it } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { RequestLogContext } from './request-log-context.js';

describe('RequestLogContext', () => {
  it('gives everything a request starts, across promises and timers, that request’s id', async () => {
    const context = new RequestLogContext();
    const seen: (string | undefined)[] = [];
    const handle = async (id: string): Promise<void> => {
      const { result, exit } = context.enter(id, async () => {
        await nextTurn();
        seen.push(context.requestId());
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(context.requestId());
      });
      await result;
      exit();
    };
    await Promise.all([handle('a'), handle('b')]);
    expect(seen.sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(context.requestId()).toBeUndefined();
  });

  it('counts the requests in a context and disables the storage when the last one ends', async () => {
    const context = new RequestLogContext();
    const first = context.enter('a', () => 1);
    const second = context.enter('b', () => 2);
    expect([first.result, second.result, context.activeRequests]).toEqual([1, 2, 2]);
    first.exit();
    first.exit(); // idempotent: a request that ends twice (finish, then close) counts once
    expect(context.activeRequests).toBe(1);
    second.exit();
    expect(context.activeRequests).toBe(0);
    expect(context.requestId()).toBeUndefined();
    // Enabled again by the next request.
    await expect(
      context.untilSettled('c', () => Promise.resolve(context.requestId())),
    ).resolves.toBe('c');
    expect(context.activeRequests).toBe(0);
  });

  it('ends the context of work that throws or rejects', async () => {
    const context = new RequestLogContext();
    expect(() =>
      context.enter('a', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await expect(context.untilSettled('b', () => Promise.reject(new Error('no')))).rejects.toThrow(
      'no',
    );
    expect(context.activeRequests).toBe(0);
  });

  it('disables the storage when no request is in a context: no async_hooks cost then (issue 10)', async () => {
    const context = new RequestLogContext();
    const lateLookup = (): Promise<string | undefined> =>
      new Promise((resolve) => setTimeout(() => resolve(context.requestId()), 5));
    // While another request keeps the storage enabled, work that outlives its request keeps its id.
    const other = context.enter('other', () => undefined);
    const kept = context.enter('a', lateLookup);
    kept.exit();
    await expect(kept.result).resolves.toBe('a');
    other.exit();
    // The last request out disabled it: nothing propagates any more.
    const dropped = context.enter('b', lateLookup);
    dropped.exit();
    await expect(dropped.result).resolves.toBeUndefined();
    expect(context.activeRequests).toBe(0);
  });
});
