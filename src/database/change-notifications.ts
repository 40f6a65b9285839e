import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import pg from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { DATABASE_TARGET, type DatabaseTarget } from './data-source-options.js';

export type ChangeKind = 'link' | 'api_key';

/** Something a per-replica cache may hold a stale copy of. */
export interface Change {
  kind: ChangeKind;
  id: string;
}

export const CHANGES_CHANNEL = 'outlink_changes';
/** Tells the listener connection apart in pg_stat_activity (operators, and the tests that kill it). */
export const LISTENER_APPLICATION_NAME = 'outlink-listener';

const CHANGE_KINDS: readonly string[] = ['link', 'api_key'] satisfies ChangeKind[];
const MAX_ID_LENGTH = 128;
const RECONNECT_INITIAL_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * A connection that died without a FIN or RST (failover, network partition) raises no error for
 * hours; a periodic round trip finds it, so that caches stop trusting a silent listener.
 */
const HEARTBEAT_INTERVAL_MS = 2_000;
const HEARTBEAT_TIMEOUT_MS = 2_000;

/** The change a notification payload names, or undefined for anything else. */
export function parseChange(payload: string | undefined): Change | undefined {
  if (payload === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { kind, id } = parsed as Record<string, unknown>;
  if (typeof kind !== 'string' || !CHANGE_KINDS.includes(kind)) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return undefined;
  return { kind: kind as ChangeKind, id };
}

/**
 * Tells every replica's caches what changed (SPEC §7: a deletion, re-authorization, refresh or
 * API-key revocation on any replica reaches every other replica within 1 second).
 *
 * On PostgreSQL the carrier is LISTEN/NOTIFY: a NOTIFY sent in a transaction is delivered when it
 * commits and never if it rolls back, and it needs no component beside the database. Each replica
 * holds one dedicated connection outside TypeORM's pool (a pooled one would be handed to queries
 * and could not stay in LISTEN). While that connection is down, changes can be missed, so
 * `reliable` is false and caches must serve nothing cached.
 *
 * Embedded mode is one process over one PGlite session, where NOTIFY would not reach another
 * connection anyway: delivering in-process is exact there.
 *
 * Subscribers must be idempotent: the publishing replica sees a change twice on PostgreSQL (at
 * once, and again through its own NOTIFY after the commit), and sees it even when the publishing
 * transaction then rolls back. Dropping a cache entry twice, or needlessly, is harmless; the
 * second delivery also drops anything a concurrent request cached from the pre-commit state.
 */
@Injectable()
export class ChangeNotifications implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ChangeNotifications.name);
  private readonly subscribers = new Set<(change: Change) => void>();
  private readonly reliabilityListeners = new Set<(reliable: boolean) => void>();
  private isReliable: boolean;
  /** The live listener connection; a client that is no longer this one is ignored. */
  private listener: pg.Client | undefined;
  private stopped = false;
  private reconnectDelayMs = RECONNECT_INITIAL_DELAY_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DATABASE_TARGET) private readonly target: DatabaseTarget,
    private readonly dataSource: DataSource,
  ) {
    this.isReliable = target.embedded;
  }

  /**
   * False while the PostgreSQL listener connection is down: caches must then bypass themselves
   * (serve nothing cached) and clear, because changes may be missed. Always true in embedded mode.
   */
  get reliable(): boolean {
    return this.isReliable;
  }

  async onApplicationBootstrap(): Promise<void> {
    // A failed first attempt schedules retries; the replica serves meanwhile, uncached.
    if (!this.target.embedded) await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    const client = this.listener;
    this.listener = undefined;
    if (!this.target.embedded) this.setReliable(false);
    await client?.end().catch(() => undefined);
  }

  /**
   * Announces a change to every replica. Given the `manager` of a transaction, other replicas
   * hear of it when that transaction commits, and never if it rolls back; this replica's
   * subscribers hear of it before the returned promise settles.
   */
  async publish(change: Change, manager?: EntityManager): Promise<void> {
    const { kind, id } = change;
    if (this.target.embedded) {
      // Keep the delivery asynchronous, as on PostgreSQL, so no subscriber runs inside the caller.
      await Promise.resolve();
    } else {
      await (manager ?? this.dataSource.manager).query('SELECT pg_notify($1, $2)', [
        CHANGES_CHANNEL,
        JSON.stringify({ kind, id }),
      ]);
    }
    this.deliver({ kind, id });
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  /** Called on every switch of `reliable`; a listener should clear its cache on either. */
  onReliabilityChange(listener: (reliable: boolean) => void): () => void {
    this.reliabilityListeners.add(listener);
    return () => this.reliabilityListeners.delete(listener);
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.target.url,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    this.listener = client;
    client.on('error', (error) => this.lose(client, error));
    client.on('end', () => this.lose(client, undefined));
    client.on('notification', (message) => {
      if (this.listener === client && message.channel === CHANGES_CHANNEL)
        this.receive(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      this.lose(client, error);
      return;
    }
    if (this.listener !== client) return; // lost, or shut down, while connecting
    this.reconnectDelayMs = RECONNECT_INITIAL_DELAY_MS;
    this.heartbeatTimer = setInterval(() => void this.checkAlive(client), HEARTBEAT_INTERVAL_MS);
    this.heartbeatTimer.unref();
    // Changes made while the connection was down were missed: the listeners clear on this call.
    this.setReliable(true);
    this.logger.log('Listening for changes from other replicas');
  }

  private async checkAlive(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('no answer to a heartbeat')), HEARTBEAT_TIMEOUT_MS);
    });
    try {
      await Promise.race([client.query('SELECT 1'), timeout]);
    } catch (error) {
      this.lose(client, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Handles the loss of `client` once, however many of error/end/heartbeat report it. */
  private lose(client: pg.Client, error: unknown): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    clearInterval(this.heartbeatTimer);
    // The 'error' handler stays attached: a late error from this client must not crash the process.
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.setReliable(false);
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
    // pg's messages name hosts and SQLSTATEs, never the password of the connection string.
    const reason = error instanceof Error ? error.message : 'connection closed';
    this.logger.warn(
      `Lost the change-notification connection (${reason}); caches are bypassed until it is back; retrying in ${delay} ms`,
    );
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private receive(payload: string | undefined): void {
    const change = parseChange(payload);
    // The payload is not logged: anyone with database access can NOTIFY this channel.
    if (change === undefined) this.logger.warn('Ignored a malformed change notification');
    else this.deliver(change);
  }

  private deliver(change: Change): void {
    for (const subscriber of this.subscribers) {
      try {
        subscriber(change);
      } catch (error) {
        this.logger.error({ err: error }, 'A change subscriber failed');
      }
    }
  }

  private setReliable(reliable: boolean): void {
    if (this.isReliable === reliable) return;
    this.isReliable = reliable;
    for (const listener of this.reliabilityListeners) {
      try {
        listener(reliable);
      } catch (error) {
        this.logger.error({ err: error }, 'A reliability listener failed');
      }
    }
  }
}
