import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { AppError } from '../common/app-error.js';
import { TokenCache } from './token-cache.js';
import { TokenRefresher } from './token-refresher.js';
import {
  assertRenewable,
  mayServeOnDemand,
  rejectionOutcome,
  type TokenState,
} from './token-state.js';
import { AppConfig } from '../config/app-config.js';
import { TokenStore } from './token-store.js';
import { TokenErrors } from './tokens.errors.js';

/**
 * The hot path of GET /v1/links/{id}/token: the replica's cache, then the database, then one
 * refresh shared by every caller (SPEC §7).
 */
@Injectable()
export class TokenService {
  constructor(
    private readonly cache: TokenCache,
    private readonly store: TokenStore,
    private readonly refresher: TokenRefresher,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  /** A token valid for minValiditySeconds if it can be had. */
  getToken(linkId: string, minValiditySeconds: number): TokenState | Promise<TokenState> {
    return (
      this.cachedToken(linkId, minValiditySeconds) ?? this.loadOrRefresh(linkId, minValiditySeconds)
    );
  }

  /**
   * The replica's cached token when it may be served now, at once and not through a promise:
   * that is most requests, and every promise of a request costs (issue 10).
   */
  cachedToken(linkId: string, minValiditySeconds: number): TokenState | undefined {
    const cached = this.cache.get(linkId);
    if (
      cached === undefined ||
      !mayServeOnDemand(cached, minValiditySeconds, this.config.minRefreshIntervalSeconds)
    )
      return undefined;
    this.metrics.countCachedTokenAnswer();
    return cached;
  }

  /** The stored token, or one refresh shared by every caller, when the cache cannot answer. */
  async loadOrRefresh(linkId: string, minValiditySeconds: number): Promise<TokenState> {
    const budget = this.config.minRefreshIntervalSeconds;
    try {
      const stored = await this.store.load(linkId);
      if (!stored) throw TokenErrors.notFound();
      assertRenewable(stored);
      if (mayServeOnDemand(stored, minValiditySeconds, budget)) {
        this.cache.set(stored);
        this.metrics.tokenRequests.inc({ result: 'stored' });
        return stored;
      }
      const fresh = await this.refresher.refresh(linkId, {
        trigger: 'on_demand',
        minValiditySeconds,
        force: false,
        actor: 'system',
      });
      this.cache.set(fresh);
      this.metrics.tokenRequests.inc({ result: 'refreshed' });
      return fresh;
    } catch (error) {
      this.metrics.tokenRequests.inc({
        result: error instanceof AppError ? error.code : 'internal_error',
      });
      throw error;
    }
  }

  /**
   * POST /v1/links/{id}/token/renew (SPEC §12): a resource server refused `rejectedAccessToken`.
   * A stale report is answered from the database without a lease; a report about the current
   * token goes to the refresher, which decides under the lease, so any number of consumers
   * reporting one token, on any replicas, cause one refresh.
   */
  async renewRejected(
    linkId: string,
    rejectedAccessToken: string,
    minValiditySeconds: number,
    actor: string,
  ): Promise<TokenState> {
    const budget = this.config.minRefreshIntervalSeconds;
    try {
      const stored = await this.store.load(linkId);
      if (!stored) throw TokenErrors.notFound();
      assertRenewable(stored);
      if (
        rejectionOutcome(stored, rejectedAccessToken, budget) === 'another_token' &&
        mayServeOnDemand(stored, minValiditySeconds, budget)
      ) {
        this.cache.set(stored);
        this.metrics.tokenRequests.inc({ result: 'stored' });
        return stored;
      }
      const fresh = await this.refresher.refresh(linkId, {
        trigger: 'rejected',
        minValiditySeconds,
        force: false,
        actor,
        rejectedAccessToken,
      });
      this.cache.set(fresh);
      this.metrics.tokenRequests.inc({ result: 'renewed' });
      return fresh;
    } catch (error) {
      this.metrics.tokenRequests.inc({
        result: error instanceof AppError ? error.code : 'internal_error',
      });
      throw error;
    }
  }

  /** POST /v1/links/{id}/refresh: renew now, whatever the stored token's validity. */
  async forceRefresh(linkId: string, actor: string): Promise<TokenState> {
    const fresh = await this.refresher.refresh(linkId, {
      trigger: 'manual',
      minValiditySeconds: 0,
      force: true,
      actor,
    });
    this.cache.set(fresh);
    return fresh;
  }
}
