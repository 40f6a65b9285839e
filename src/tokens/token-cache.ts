import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ChangeNotifications } from '../database/change-notifications.js';
import type { TokenState } from './token-state.js';

/** Enough for the fleets Outlink is built for; the oldest entries go first beyond it. */
const MAX_ENTRIES = 200_000;

/**
 * The per-replica cache that lets a warm token request skip the database (SPEC §7). Entries
 * are dropped when any replica reports a change to the link (refresh, re-authorization, patch,
 * deletion), and the whole cache is bypassed while change notifications may be missed.
 */
@Injectable()
export class TokenCache implements OnModuleDestroy {
  private readonly entries = new Map<string, TokenState>();
  private readonly unsubscribe: (() => void)[];

  constructor(private readonly notifications: ChangeNotifications) {
    this.unsubscribe = [
      notifications.subscribe((change) => {
        if (change.kind === 'link') this.entries.delete(change.id);
      }),
      notifications.onReliabilityChange(() => this.entries.clear()),
    ];
  }

  get(linkId: string): TokenState | undefined {
    return this.notifications.reliable ? this.entries.get(linkId) : undefined;
  }

  /** Only connected links with a token are worth keeping; anything else is read again. */
  set(state: TokenState): void {
    if (!this.notifications.reliable || state.status !== 'connected' || state.accessToken === null)
      return;
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(state.linkId)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(state.linkId, state);
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }
}
