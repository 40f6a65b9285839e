import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config.js';
import { PendingTokenWrites } from './pending-token-writes.js';
import { RefreshCall, type RefreshTrigger } from './refresh-call.js';
import {
  assertRenewable,
  backoffError,
  mayServeOnDemand,
  rejectionOutcome,
  type TokenState,
} from './token-state.js';
import { TokenStore, type ClaimedLink } from './token-store.js';
import { TokenWriter } from './token-writer.js';
import { TokenErrors } from './tokens.errors.js';

export interface RefreshRequest {
  trigger: RefreshTrigger;
  /** The caller is served once the token is valid this long; ignored when forced. */
  minValiditySeconds: number;
  /** Call the provider even if the stored token is still valid (POST /refresh). */
  force: boolean;
  actor: string;
  /**
   * A token a resource server refused (POST /token/renew): renew only while it is still the
   * link's token, once per refresh budget; otherwise serve the token the link holds.
   */
  rejectedAccessToken?: string;
}

/** How often a replica waiting on another replica's refresh re-reads the link. */
const WAIT_POLL_MS = 50;
/** How long in-flight refreshes may take to finish at shutdown. */
const SHUTDOWN_GRACE_MS = 15_000;

/**
 * Single-flight token renewal (SPEC §7), and the owner of the refresh lease. Within a replica,
 * concurrent callers for one link share one promise; across replicas, a short lease on the link
 * row decides who calls the provider, and the others wait for the row to carry a fresh token. No
 * connection or transaction is held while the provider answers. The call itself, and what it
 * stores, is RefreshCall's.
 */
@Injectable()
export class TokenRefresher implements BeforeApplicationShutdown {
  private readonly logger = new Logger(TokenRefresher.name);
  /** This replica's identity in lease columns. */
  readonly holder = randomUUID();
  /**
   * The lease outlives the provider timeout with room to spare (30 s at the default 10 s
   * timeout), so a live holder never loses it mid-call, and a crashed one blocks the link only
   * that long.
   */
  private readonly leaseSeconds: number;
  private readonly inFlight = new Map<string, Promise<TokenState>>();
  constructor(
    private readonly store: TokenStore,
    private readonly writer: TokenWriter,
    private readonly refreshCall: RefreshCall,
    private readonly config: AppConfig,
    private readonly pendingWrites: PendingTokenWrites,
  ) {
    this.leaseSeconds = config.providerTimeoutSeconds * 2 + 10;
  }

  /** Renews the link's token, or joins the renewal already running for it. */
  refresh(linkId: string, request: RefreshRequest): Promise<TokenState> {
    return this.singleFlight(linkId, () => this.refreshAcrossReplicas(linkId, request));
  }

  /**
   * Claims up to `limit` links due for a background renewal (other replicas skip them) and
   * renews them at once; failures are recorded on each link. Resolves with how many it claimed.
   */
  async refreshDue(leadSeconds: number, limit: number): Promise<number> {
    const claimed = await this.store.claimDue(this.holder, this.leaseSeconds, leadSeconds, limit);
    await Promise.all(claimed.map((claim) => this.refreshClaimed(claim).catch(() => undefined)));
    return claimed.length;
  }

  async beforeApplicationShutdown(): Promise<void> {
    const running = [...this.inFlight.values()].map((flight) => flight.catch(() => undefined));
    if (running.length === 0) return;
    this.logger.log(`Waiting for ${running.length} refresh(es) to finish`);
    await Promise.race([Promise.all(running), sleep(SHUTDOWN_GRACE_MS)]);
  }

  private async refreshClaimed(claimed: ClaimedLink): Promise<void> {
    const linkId = claimed.link.id;
    if (this.inFlight.has(linkId) || this.pendingWrites.has(linkId)) {
      // An on-demand refresh of this replica got there first, or its tokens are being written.
      await this.store.release(linkId, this.holder);
      return;
    }
    await this.singleFlight(linkId, () =>
      this.refreshCall.run(claimed, this.holder, 'background', 'system'),
    );
  }

  private singleFlight(linkId: string, run: () => Promise<TokenState>): Promise<TokenState> {
    const existing = this.inFlight.get(linkId);
    if (existing) return existing;
    const flight = run().finally(() => this.inFlight.delete(linkId));
    this.inFlight.set(linkId, flight);
    return flight;
  }

  /** The on-demand rule, refresh budget included (SPEC §11). */
  private mayServe(state: TokenState, minValiditySeconds: number): boolean {
    return mayServeOnDemand(state, minValiditySeconds, this.config.minRefreshIntervalSeconds);
  }

  /** Whether `state` answers the request without a call to the provider. */
  private answers(state: TokenState, request: RefreshRequest): boolean {
    if (request.force) return false;
    if (request.rejectedAccessToken === undefined)
      return this.mayServe(state, request.minValiditySeconds);
    const outcome = rejectionOutcome(
      state,
      request.rejectedAccessToken,
      this.config.minRefreshIntervalSeconds,
    );
    switch (outcome) {
      case 'another_token':
        return this.mayServe(state, request.minValiditySeconds);
      case 'too_soon':
        return true;
      case 'renew':
        return false;
    }
  }

  /** Audits a report about the link's current token, decided under the lease (once per decision). */
  private async recordRejection(claimed: ClaimedLink, request: RefreshRequest): Promise<void> {
    if (request.rejectedAccessToken === undefined) return;
    const outcome = rejectionOutcome(
      claimed.state,
      request.rejectedAccessToken,
      this.config.minRefreshIntervalSeconds,
    );
    if (outcome === 'another_token') return;
    await this.writer.recordRejected(claimed.link.id, request.actor, {
      renewed: outcome === 'renew',
    });
  }

  private async refreshAcrossReplicas(
    linkId: string,
    request: RefreshRequest,
  ): Promise<TokenState> {
    if (this.pendingWrites.has(linkId)) throw TokenErrors.tokensAwaitingDatabase();
    const deadline = Date.now() + this.leaseSeconds * 1000;
    for (;;) {
      const claim = await this.store.claim(linkId, this.holder, this.leaseSeconds);
      if ('link' in claim) {
        try {
          await this.recordRejection(claim, request);
        } catch (error) {
          await this.store.release(linkId, this.holder);
          throw error;
        }
        if (this.answers(claim.state, request)) {
          await this.store.release(linkId, this.holder); // another replica refreshed just before
          return claim.state;
        }
        return this.refreshCall.run(claim, this.holder, request.trigger, request.actor);
      }
      if (!claim.exists) throw TokenErrors.notFound();
      // Checked right after a failed claim, never before the next one: a lease that ran out as
      // the deadline passed (its holder crashed) is taken over, not answered with a 503.
      if (Date.now() > deadline)
        throw TokenErrors.providerUnavailable(5, 'another replica is still refreshing');

      // Another replica holds the lease: wait for the token it is fetching (SPEC §7).
      await sleep(WAIT_POLL_MS);
      const state = await this.store.load(linkId);
      if (!state) throw TokenErrors.notFound();
      assertRenewable(state);
      if (this.answers(state, request)) return state;
      const backingOff = backoffError(state);
      if (backingOff) throw backingOff;
    }
  }
}
