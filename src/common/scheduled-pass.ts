import type { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';

export interface ScheduledPassOptions<T> {
  /** The SchedulerRegistry interval name. */
  intervalName: string;
  /** One pass, as the timer runs it. */
  pass: () => Promise<T>;
  logger: Logger;
  /** A failed pass is logged at `level` with `message` (the error as `err`) and resolves `result`. */
  onFailure: { level: 'error' | 'warn'; message: string; result: T };
}

/**
 * A pass run on an interval by every replica (the owning module says what a pass does): one pass
 * at a time per instance, a failed pass logged and retried at the next tick, and on shutdown the
 * interval cleared and the running pass awaited. Registered with the SchedulerRegistry rather than
 * with @Interval because each period comes from the config.
 */
export class ScheduledPass<T = void> {
  private running: Promise<T> | undefined;
  private stopped = false;

  constructor(
    private readonly scheduler: SchedulerRegistry,
    private readonly options: ScheduledPassOptions<T>,
  ) {}

  /** Ticks every `periodMs`; a period of 0 leaves the pass off (it still runs when asked). */
  start(periodMs: number): void {
    if (periodMs === 0) return;
    const timer = setInterval(() => void this.run(), periodMs);
    this.scheduler.addInterval(this.options.intervalName, timer);
  }

  /** True once shutdown began: a pass that loops over batches stops after the current one. */
  get stopping(): boolean {
    return this.stopped;
  }

  /**
   * Runs `pass` (the scheduled one unless given) and resolves with its result. While a pass runs,
   * a call (or a tick) starts nothing and joins the running pass instead.
   */
  run(pass: () => Promise<T> = this.options.pass): Promise<T> {
    this.running ??= pass()
      .catch((error: unknown) => {
        const { level, message, result } = this.options.onFailure;
        this.options.logger[level]({ err: error }, message);
        return result;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Clears the interval and waits for the running pass to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', this.options.intervalName))
      this.scheduler.deleteInterval(this.options.intervalName);
    await this.running;
  }
}
