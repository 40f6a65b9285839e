import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import {
  ChangeNotifications,
  LISTENER_APPLICATION_NAME,
  type Change,
} from '../../src/database/change-notifications.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL } from '../support/test-database.js';

interface Received {
  change: Change;
  at: number;
}

/** Everything a replica's subscribers are told, with the time it arrived. */
function record(notifications: ChangeNotifications): Received[] {
  const received: Received[] = [];
  notifications.subscribe((change) => received.push({ change, at: performance.now() }));
  return received;
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

async function listenerPids(dataSource: DataSource): Promise<number[]> {
  const rows: { pid: number }[] = await dataSource.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
    [LISTENER_APPLICATION_NAME],
  );
  return rows.map((row) => row.pid);
}

/**
 * A TCP proxy to PostgreSQL whose open connections can be made to go silent: bytes stop flowing
 * but nothing is closed, as when a network path dies without a FIN or RST.
 */
async function startSilenceableProxy(
  targetUrl: string,
): Promise<{ url: string; silence(): void; close(): Promise<void> }> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let silenced: Socket[] = [];
  const server = createServer((inbound) => {
    const outbound = new Socket();
    outbound.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    silence: () => {
      silenced = [...sockets];
      for (const socket of silenced) {
        socket.unpipe();
        socket.pause();
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const linkChange = (): Change => ({ kind: 'link', id: randomUUID() });
const ids = (received: Received[]): string[] => received.map((entry) => entry.change.id);

(TEST_DATABASE_URL ? describe : describe.skip)(
  'change notifications across replicas (postgresql)',
  () => {
    let a: TestApp;
    let b: TestApp;
    let bClosed = false;
    let aNotifications: ChangeNotifications;
    let bNotifications: ChangeNotifications;
    let bListenerPid: number;
    let receivedOnA: Received[];
    let receivedOnB: Received[];

    beforeAll(async () => {
      a = await startTestApp();
      const pidsBeforeB = await listenerPids(a.dataSource);
      b = await startTestApp({ database: a.database });
      const newPids = (await listenerPids(a.dataSource)).filter(
        (pid) => !pidsBeforeB.includes(pid),
      );
      expect(newPids).toHaveLength(1);
      bListenerPid = newPids[0];
      aNotifications = a.app.get(ChangeNotifications);
      bNotifications = b.app.get(ChangeNotifications);
      receivedOnA = record(aNotifications);
      receivedOnB = record(bNotifications);
    });
    /**
     * Nest's Logger is process-wide, so with two apps in one jest process a message may land in
     * either app's capture: look at both.
     */
    const allLogs = (): string => `${a.logs.text}\n${b.logs.text}`;

    afterAll(async () => {
      if (!bClosed) await b?.closeApp();
      await a?.close();
    });

    it('is reliable once both replicas listen, on a connection of its own', () => {
      expect(aNotifications.reliable).toBe(true);
      expect(bNotifications.reliable).toBe(true);
    });

    it('delivers a change published on A to B within 1 second, and to A itself at once', async () => {
      const delays: number[] = [];
      for (let i = 0; i < 20; i++) {
        const change = linkChange();
        const publishedAt = performance.now();
        await aNotifications.publish(change);
        expect(ids(receivedOnA)).toContain(change.id);
        expect(await waitFor(() => ids(receivedOnB).includes(change.id), 1_000)).toBe(true);
        const arrival = receivedOnB.find((entry) => entry.change.id === change.id)!;
        delays.push(arrival.at - publishedAt);
      }
      const sorted = [...delays].sort((x, y) => x - y);
      console.log(
        `NOTIFY propagation A -> B over 20 changes: median ${sorted[10].toFixed(1)} ms, max ${sorted[19].toFixed(1)} ms`,
      );
      expect(Math.max(...delays)).toBeLessThan(1_000);
    });

    it('delivers a change published in a transaction when it commits, and never if it rolls back', async () => {
      const rolledBack = linkChange();
      await expect(
        a.dataSource.transaction(async (manager) => {
          await aNotifications.publish(rolledBack, manager);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');

      const committed = linkChange();
      await a.dataSource.transaction(async (manager) => {
        await aNotifications.publish(committed, manager);
        await sleep(300);
        expect(ids(receivedOnB)).not.toContain(committed.id);
      });
      expect(await waitFor(() => ids(receivedOnB).includes(committed.id), 1_000)).toBe(true);
      // PostgreSQL delivers notifications in commit order: had the rolled-back one been sent, it
      // would have arrived before this one.
      expect(ids(receivedOnB)).not.toContain(rolledBack.id);
    });

    it('ignores malformed payloads without logging them', async () => {
      for (const payload of ['not json', '{"kind":"user","id":"x"}', '{"kind":"link"}'])
        await a.dataSource.query(`SELECT pg_notify('outlink_changes', $1)`, [payload]);
      const valid = linkChange();
      await aNotifications.publish(valid);
      expect(await waitFor(() => ids(receivedOnB).includes(valid.id), 1_000)).toBe(true);
      expect(ids(receivedOnB)).not.toContain('x');
      expect(receivedOnB.every((entry) => typeof entry.change.id === 'string')).toBe(true);
      expect(allLogs()).toContain('Ignored a malformed change notification');
      expect(allLogs()).not.toContain('not json');
    });

    it("becomes unreliable when B's listener connection is killed, and recovers within a few seconds", async () => {
      const bTransitions: { reliable: boolean; at: number }[] = [];
      const aTransitions: boolean[] = [];
      bNotifications.onReliabilityChange((reliable) =>
        bTransitions.push({ reliable, at: performance.now() }),
      );
      aNotifications.onReliabilityChange((reliable) => aTransitions.push(reliable));

      const killedAt = performance.now();
      const [{ terminated }]: { terminated: boolean }[] = await a.dataSource.query(
        'SELECT pg_terminate_backend($1) AS terminated',
        [bListenerPid],
      );
      expect(terminated).toBe(true);
      expect(await waitFor(() => bTransitions.some((t) => !t.reliable), 2_000)).toBe(true);
      expect(await waitFor(() => bNotifications.reliable, 5_000)).toBe(true);
      expect(bTransitions.map((t) => t.reliable)).toEqual([false, true]);
      const lostAfter = bTransitions[0].at - killedAt;
      const recoveredAfter = bTransitions[1].at - killedAt;
      console.log(
        `Listener killed: unreliable after ${lostAfter.toFixed(1)} ms, reliable again after ${recoveredAfter.toFixed(1)} ms`,
      );
      expect(aTransitions).toEqual([]);
      expect(allLogs()).toContain('Lost the change-notification connection');

      const pids = await listenerPids(a.dataSource);
      expect(pids).not.toContain(bListenerPid);
      expect(pids).toHaveLength(2);

      const afterRecovery = linkChange();
      await aNotifications.publish(afterRecovery);
      expect(await waitFor(() => ids(receivedOnB).includes(afterRecovery.id), 1_000)).toBe(true);
    });

    it('notices a listener connection that went silent (no FIN, no RST) through its heartbeat', async () => {
      const proxy = await startSilenceableProxy(a.database.target.url);
      const notifications = new ChangeNotifications(
        { url: proxy.url, embedded: false },
        a.dataSource,
      );
      const transitions: { reliable: boolean; at: number }[] = [];
      notifications.onReliabilityChange((reliable) =>
        transitions.push({ reliable, at: performance.now() }),
      );
      const received = record(notifications);
      try {
        await notifications.onApplicationBootstrap();
        expect(notifications.reliable).toBe(true);

        const silencedAt = performance.now();
        proxy.silence();
        expect(await waitFor(() => !notifications.reliable, 10_000)).toBe(true);
        // New connections through the proxy work: it reconnects and is reliable again.
        expect(await waitFor(() => notifications.reliable, 5_000)).toBe(true);
        console.log(
          `Silent listener: unreliable after ${(transitions[1].at - silencedAt).toFixed(0)} ms, ` +
            `reliable again after ${(transitions[2].at - silencedAt).toFixed(0)} ms`,
        );
        expect(transitions.map((t) => t.reliable)).toEqual([true, false, true]);

        const change = linkChange();
        await aNotifications.publish(change);
        expect(await waitFor(() => ids(received).includes(change.id), 1_000)).toBe(true);
      } finally {
        await notifications.onApplicationShutdown();
        await proxy.close();
      }
    }, 30_000);

    it('closes its listener connection when the app shuts down', async () => {
      const before = await listenerPids(a.dataSource);
      await b.closeApp();
      bClosed = true;
      expect(bNotifications.reliable).toBe(false);
      // The backend leaves pg_stat_activity a moment after the client has gone.
      const gone = async (): Promise<boolean> =>
        (await listenerPids(a.dataSource)).length === before.length - 1;
      expect(await waitFor(gone, 2_000)).toBe(true);
      expect(aNotifications.reliable).toBe(true);
    });
  },
);

(TEST_DATABASE_URL ? describe.skip : describe)(
  'change notifications in one process (pglite)',
  () => {
    let t: TestApp;
    let notifications: ChangeNotifications;

    beforeAll(async () => {
      t = await startTestApp();
      notifications = t.app.get(ChangeNotifications);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('is always reliable: one process over one session', () => {
      expect(notifications.reliable).toBe(true);
    });

    it("delivers a change to the replica's own subscribers before publish() settles", async () => {
      const received = record(notifications);
      const change = linkChange();
      const publishing = notifications.publish(change);
      expect(received).toEqual([]); // never synchronously, inside the caller
      await publishing;
      expect(ids(received)).toEqual([change.id]);
    });

    it('publishes inside a transaction without asking the pool for a second connection', async () => {
      // The embedded pool has one connection, held by the transaction: a publish that went through
      // the pool would wait for it forever.
      const received = record(notifications);
      const change = linkChange();
      await t.dataSource.transaction((manager) => notifications.publish(change, manager));
      expect(ids(received)).toEqual([change.id]);
    });

    it('stops delivering to a subscriber that unsubscribed', async () => {
      const received: Change[] = [];
      const unsubscribe = notifications.subscribe((change) => received.push(change));
      unsubscribe();
      await notifications.publish(linkChange());
      expect(received).toEqual([]);
    });
  },
);
