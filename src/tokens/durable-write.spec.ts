import { describe, expect, it } from '@jest/globals';
import { writeWhileDatabaseReturns } from './durable-write.js';

const unreachable = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('writeWhileDatabaseReturns', () => {
  it('retries while the database is unreachable, with growing delays capped at 500 ms', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await writeWhileDatabaseReturns(
      () => {
        calls++;
        return calls < 6 ? Promise.reject(unreachable()) : Promise.resolve('written');
      },
      { sleep: (ms) => (delays.push(ms), Promise.resolve()) },
    );
    expect(result).toBe('written');
    expect(delays).toEqual([100, 200, 400, 500, 500]);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    await expect(
      writeWhileDatabaseReturns(() => {
        calls++;
        return Promise.reject(new Error('duplicate key value violates unique constraint'));
      }),
    ).rejects.toThrow('duplicate key');
    expect(calls).toBe(1);
  });

  it('gives up with the last error once told to stop', async () => {
    let stop = false;
    const retries: number[] = [];
    await expect(
      writeWhileDatabaseReturns(() => Promise.reject(unreachable()), {
        sleep: () => Promise.resolve(),
        shouldStop: () => stop,
        onRetry: (_error, attempt) => {
          retries.push(attempt);
          if (attempt === 3) stop = true;
        },
      }),
    ).rejects.toThrow('ECONNREFUSED');
    expect(retries).toEqual([1, 2, 3]);
  });
});
