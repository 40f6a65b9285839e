import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedSocketPath } from '../../src/database/embedded-postgres.js';
import { ensureBuilt } from '../support/child-replica.js';
import { startEmbeddedOutlink, type EmbeddedOutlinkProcess } from '../support/pid-namespace.js';
import { pgliteTemplateDir } from '../support/test-database.js';

// Issue 9, point 7: the data-dir lock held a pid, and a container whose process is PID 1 again
// after a crash found "its own" pid in the lock and exited: a crash loop. These tests start
// `node dist/main.js` as PID 1 of fresh PID namespaces (unshare, as root: the tests run as root
// here) on one DATA_DIR, as Docker restarts a container on its volume.
describe('the DATA_DIR lock across PID reuse', () => {
  let dataDir: string;
  let lockPath: string;
  const started: EmbeddedOutlinkProcess[] = [];
  const start = async (asPid1: boolean): Promise<EmbeddedOutlinkProcess> => {
    const outlink = await startEmbeddedOutlink({ dataDir, asPid1 });
    started.push(outlink);
    return outlink;
  };

  beforeAll(() => ensureBuilt(), 120_000);

  // A copy of the migrated template: initialising a fresh PGlite dir would take ~7 s per test.
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'outlink-lock-'));
    lockPath = join(dataDir, 'outlink.lock');
    cpSync(join(await pgliteTemplateDir(), 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
  }, 120_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((outlink) => outlink.crash()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts again as PID 1 after a crash as PID 1, and serves', async () => {
    const crashed = await start(true);
    await crashed.listening;
    expect(readFileSync(lockPath, 'utf8')).toMatch(/^(pid )?1\b/);
    await crashed.crash();
    // The crash leaves the lock naming PID 1, and the embedded database's socket file behind.
    expect(readFileSync(lockPath, 'utf8')).toMatch(/^(pid )?1\b/);
    expect(existsSync(embeddedSocketPath(dataDir))).toBe(true);

    const restarted = await start(true);
    await restarted.listening;
    const ready = await fetch(`${restarted.url}/health/ready`);
    expect(ready.status).toBe(200);
  }, 60_000);

  it('still refuses a second live process, naming the lock and its holder', async () => {
    const holder = await start(true);
    await holder.listening;

    // Another PID 1 (the holder's own number in its namespace) and a plain process both stop.
    for (const asPid1 of [true, false]) {
      const second = await start(asPid1);
      expect(await second.ended).toEqual({ code: 1, signal: null });
      expect(second.output()).toContain(`lock ${lockPath}`);
      expect(second.output()).toMatch(/held by pid 1 on /);
      expect(second.output()).not.toContain('Outlink is listening');
    }
    expect((await fetch(`${holder.url}/health/ready`)).status).toBe(200);
  }, 60_000);
});
