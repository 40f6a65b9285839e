import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository, type EntityManager } from 'typeorm';
import type { JsonObject } from '../common/json.js';
import { decodeCursor, toPage } from '../common/cursor.js';
import { LinkEventEntity, type LinkEventType } from './link-event.entity.js';

export const SYSTEM_ACTOR = 'system';

/**
 * Runs inside `record` with the recording transaction's manager, so that what it writes commits
 * or rolls back with the event (SPEC §13: the webhook outbox). `type` is a string because other
 * modules add event types.
 */
export type LinkEventHook = (
  linkId: string,
  type: string,
  detail: JsonObject,
  manager: EntityManager,
) => Promise<void>;

/**
 * Event times strictly increase within a process, so that events written in one transaction
 * (e.g. `revoked` then `deleted`) list in the order they happened; timestamps are kept at
 * millisecond precision because that is what the page cursors carry.
 */
let lastEventTime = 0;
function nextEventTime(): Date {
  lastEventTime = Math.max(Date.now(), lastEventTime + 1);
  return new Date(lastEventTime);
}

/** The audit trail (SPEC §5). Callers pass their transaction's manager so an event and its change commit together. */
@Injectable()
export class LinkEventsService {
  private readonly recordedHooks: LinkEventHook[] = [];

  constructor(
    @InjectRepository(LinkEventEntity) private readonly events: Repository<LinkEventEntity>,
  ) {}

  async record(
    linkId: string,
    type: LinkEventType,
    actor: string,
    detail: JsonObject = {},
    manager: EntityManager = this.events.manager,
  ): Promise<void> {
    await manager.query(
      'INSERT INTO link_events (id, link_id, type, at, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)',
      [randomUUID(), linkId, type, nextEventTime(), actor, JSON.stringify(detail)],
    );
    for (const hook of this.recordedHooks) await hook(linkId, type, detail, manager);
  }

  /**
   * Lets a module act on every recorded event in its transaction (webhooks: one outbox row per
   * subscriber), without links/ depending on it.
   */
  onRecorded(hook: LinkEventHook): void {
    this.recordedHooks.push(hook);
  }

  async list(
    linkId: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ items: LinkEventEntity[]; nextCursor: string | null }> {
    const query = this.events
      .createQueryBuilder('event')
      .where('event.link_id = :linkId', { linkId })
      .orderBy('event.at', 'DESC')
      .addOrderBy('event.id', 'DESC')
      .take(limit + 1);
    if (cursor !== undefined) {
      const position = decodeCursor(cursor);
      query.andWhere('(event.at, event.id) < (:at, :id)', { at: position.at, id: position.id });
    }
    return toPage(await query.getMany(), limit, (event) => event.at);
  }
}
