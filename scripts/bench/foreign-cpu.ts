import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** Linux clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/** A PostgreSQL backend serving one of the bench's scratch databases. */
function isBenchPostgresBackend(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('outlink_bench_');
  } catch {
    return false;
  }
}

/**
 * CPU time (in ticks) of every process except the ones that belong to the measurement:
 * this process, the servers it started, and the PostgreSQL backends of the bench's database.
 */
function foreignTicks(ownPids: ReadonlySet<number>): Map<number, number> {
  const ticks = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return ticks;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (ownPids.has(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const commEnd = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, commEnd);
    if (command === 'postgres' && isBenchPostgresBackend(pid)) continue;
    const fields = stat.slice(commEnd + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 once pid and comm are cut off.
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/**
 * How much of the machine other processes (other users' test runs, say) used over a window,
 * in percent of all cores. The bench shares a small machine, so every result says how quiet it
 * was while it was measured.
 */
export class ForeignCpuMeter {
  private readonly ownPids = new Set<number>([process.pid]);
  private startTicks = new Map<number, number>();
  private startedAt = 0;

  /** Counts these processes (servers started by the bench) as part of the measurement. */
  own(pid: number): void {
    this.ownPids.add(pid);
  }

  start(): void {
    this.startTicks = foreignTicks(this.ownPids);
    this.startedAt = performance.now();
  }

  /** Percent of all cores used by foreign processes since start(). */
  read(): number {
    const seconds = (performance.now() - this.startedAt) / 1000;
    let used = 0;
    for (const [pid, ticks] of foreignTicks(this.ownPids)) {
      used += ticks - (this.startTicks.get(pid) ?? 0);
    }
    return seconds > 0 ? (used / TICKS_PER_SECOND / seconds / cpus().length) * 100 : 0;
  }

  /**
   * Waits until foreign processes use less than `maxPercent` over one second, for at most
   * `maxWaitSeconds`; returns the last reading.
   */
  async waitForQuiet(maxPercent: number, maxWaitSeconds: number): Promise<number> {
    const deadline = Date.now() + maxWaitSeconds * 1000;
    for (;;) {
      this.start();
      await sleep(1000);
      const percent = this.read();
      if (percent < maxPercent || Date.now() >= deadline) return percent;
    }
  }
}
