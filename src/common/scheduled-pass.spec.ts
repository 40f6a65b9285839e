import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ScheduledPass } from './scheduled-pass.js';

const PERIOD_MS = 1_000;

/** A pass the test ends by hand, counting how often it started. */
function controlledPass() {
  const ends: { resolve: (sent: number) => void; reject: (error: Error) => void }[] = [];
  const pass = jest.fn(
    () => new Promise<number>((resolve, reject) => ends.push({ resolve, reject })),
  );
  return { pass, ends };
}

describe('ScheduledPass', () => {
  let scheduler: SchedulerRegistry;
  let logger: { error: jest.Mock; warn: jest.Mock };

  beforeEach(() => {
    jest.useFakeTimers();
    scheduler = new SchedulerRegistry();
    logger = { error: jest.fn(), warn: jest.fn() };
  });

  afterEach(() => {
    for (const name of scheduler.getIntervals()) scheduler.deleteInterval(name);
    jest.useRealTimers();
  });

  const scheduled = (pass: () => Promise<number>) =>
    new ScheduledPass<number>(scheduler, {
      intervalName: 'test-pass',
      pass,
      logger: logger as unknown as Logger,
      onFailure: { level: 'warn', message: 'Test pass failed; retrying later', result: 0 },
    });

  it('ticks every period, starts no second pass while one runs, and the tick after it ends does', async () => {
    const { pass, ends } = controlledPass();
    scheduled(pass).start(PERIOD_MS);
    expect(scheduler.doesExist('interval', 'test-pass')).toBe(true);

    await jest.advanceTimersByTimeAsync(PERIOD_MS - 1);
    expect(pass).toHaveBeenCalledTimes(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(pass).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(3 * PERIOD_MS);
    expect(pass).toHaveBeenCalledTimes(1);

    ends[0].resolve(1);
    await jest.advanceTimersByTimeAsync(PERIOD_MS);
    expect(pass).toHaveBeenCalledTimes(2);
  });

  it('joins a running pass when asked to run: the caller gets that pass result', async () => {
    const { pass, ends } = controlledPass();
    const other = jest.fn(() => Promise.resolve(99));
    const scheduledPass = scheduled(pass);

    const first = scheduledPass.run();
    const joined = scheduledPass.run(other);
    ends[0].resolve(3);

    await expect(first).resolves.toBe(3);
    await expect(joined).resolves.toBe(3);
    expect(pass).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
    // Once the pass ended, the next call runs the pass it was given.
    await expect(scheduledPass.run(other)).resolves.toBe(99);
  });

  it('on shutdown clears the interval and waits for the running pass', async () => {
    const { pass, ends } = controlledPass();
    const scheduledPass = scheduled(pass);
    scheduledPass.start(PERIOD_MS);
    await jest.advanceTimersByTimeAsync(PERIOD_MS);
    expect(pass).toHaveBeenCalledTimes(1);

    let stopped = false;
    const stopping = scheduledPass.stop().then(() => (stopped = true));
    expect(scheduledPass.stopping).toBe(true);
    expect(scheduler.doesExist('interval', 'test-pass')).toBe(false);
    await jest.advanceTimersByTimeAsync(5 * PERIOD_MS);
    expect(stopped).toBe(false);

    ends[0].resolve(1);
    await stopping;
    expect(stopped).toBe(true);
    await jest.advanceTimersByTimeAsync(5 * PERIOD_MS);
    expect(pass).toHaveBeenCalledTimes(1);
  });

  it('logs a failed pass, resolves its failure result, and the next tick runs again', async () => {
    const { pass, ends } = controlledPass();
    const scheduledPass = scheduled(pass);
    scheduledPass.start(PERIOD_MS);
    await jest.advanceTimersByTimeAsync(PERIOD_MS);
    const failure = new Error('database gone');
    const result = scheduledPass.run();
    ends[0].reject(failure);

    await expect(result).resolves.toBe(0);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith({ err: failure }, 'Test pass failed; retrying later');
    expect(logger.error).not.toHaveBeenCalled();

    await jest.advanceTimersByTimeAsync(PERIOD_MS);
    expect(pass).toHaveBeenCalledTimes(2);
    ends[1].resolve(2);
    await expect(scheduledPass.run()).resolves.toBe(2);
  });

  it('logs at the level it is given', async () => {
    const failure = new Error('provider down');
    const scheduledPass = new ScheduledPass(scheduler, {
      intervalName: 'test-pass',
      pass: () => Promise.reject(failure),
      logger: logger as unknown as Logger,
      onFailure: { level: 'error', message: 'Test pass failed', result: undefined },
    });

    await expect(scheduledPass.run()).resolves.toBeUndefined();
    expect(logger.error).toHaveBeenCalledWith({ err: failure }, 'Test pass failed');
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('a period of 0 schedules nothing, but a pass still runs when asked', async () => {
    const { pass, ends } = controlledPass();
    const scheduledPass = scheduled(pass);
    scheduledPass.start(0);
    expect(scheduler.doesExist('interval', 'test-pass')).toBe(false);
    await jest.advanceTimersByTimeAsync(10 * PERIOD_MS);
    expect(pass).not.toHaveBeenCalled();

    const result = scheduledPass.run();
    ends[0].resolve(4);
    await expect(result).resolves.toBe(4);
    await scheduledPass.stop();
  });
});
