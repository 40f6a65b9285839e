import { Injectable, Logger } from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { LINK_REFRESH_TOKEN } from '../database/encrypted-columns.js';
import { LinkClientSecrets } from '../links/link-client-secrets.js';
import { nextSecretSettingsFor, oauthSettingsFor } from '../links/link-oauth-settings.js';
import type { LinkEntity } from '../links/link.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ProviderClient } from '../providers/provider-client.js';
import type { ProviderClientSettings, TokenSet } from '../providers/provider-client.types.js';
import { ProviderCallError } from '../providers/provider-error.js';
import { PendingTokenWrites } from './pending-token-writes.js';
import { describeRefreshFailure, noRefreshTokenFailure } from './refresh-failure.js';
import { assertRenewable, backoffError, isValidFor, type TokenState } from './token-state.js';
import { TokenStore, type ClaimedLink } from './token-store.js';
import { TokenWriter } from './token-writer.js';
import { TokenErrors } from './tokens.errors.js';

export type RefreshTrigger = 'on_demand' | 'background' | 'manual' | 'rejected';

/**
 * One renewal at the provider for a link whose refresh lease this replica holds (TokenRefresher
 * decides who calls and when): the grant's request, with the overlapping next secret as a
 * fallback (SPEC §13), and the outcome stored, new tokens or the diagnosed failure. The lease is
 * released (or cleared by the write) whatever happens.
 */
@Injectable()
export class RefreshCall {
  private readonly logger = new Logger(RefreshCall.name);

  constructor(
    private readonly store: TokenStore,
    private readonly writer: TokenWriter,
    private readonly oauth: ProviderClient,
    private readonly keyRing: KeyRing,
    private readonly metrics: MetricsService,
    private readonly pendingWrites: PendingTokenWrites,
    private readonly clientSecrets: LinkClientSecrets,
  ) {}

  /**
   * Calls the provider for a claimed link and stores the outcome; the lease is released either way.
   *
   * @param holder - this replica's identity in the link's lease columns (TokenRefresher.holder)
   */
  async run(
    claimed: ClaimedLink,
    holder: string,
    trigger: RefreshTrigger,
    actor: string,
  ): Promise<TokenState> {
    const { link, state } = claimed;
    try {
      assertRenewable(state);
      const backingOff = backoffError(state);
      if (backingOff) throw backingOff;
    } catch (error) {
      await this.store.release(link.id, holder);
      throw error;
    }
    if (link.grantType === 'authorization_code' && !link.refreshTokenEncrypted) {
      return this.failWithoutRefreshToken(claimed, holder, actor);
    }

    const endTimer = this.metrics.refreshDuration.startTimer({ trigger });
    let tokens: TokenSet;
    let promoteNextSecret = false;
    try {
      try {
        tokens = await this.requestTokens(link, oauthSettingsFor(link, this.keyRing));
      } catch (error) {
        // Overlapping secrets (SPEC §13): the provider may already have retired the current one.
        // The lease outlives two provider calls, so the retry still holds it.
        const next = nextSecretSettingsFor(link, this.keyRing);
        if (!(error instanceof ProviderCallError) || error.kind !== 'invalid_client' || !next)
          throw error;
        this.logger.log(`Link ${link.id}: the client secret was refused; trying the next one`);
        tokens = await this.requestTokens(link, next);
        promoteNextSecret = true;
      }
    } catch (error) {
      endTimer();
      if (!(error instanceof ProviderCallError)) {
        await this.store.release(link.id, holder);
        throw error;
      }
      return this.recordFailure(claimed, holder, error, trigger, actor);
    }
    endTimer();
    const refreshed = await this.commitRefreshed(claimed, holder, tokens, trigger, actor);
    if (promoteNextSecret) await this.promoteNextSecret(claimed, actor);
    return refreshed;
  }

  /** The link's grant, asked once with `settings`. */
  private requestTokens(link: LinkEntity, settings: ProviderClientSettings): Promise<TokenSet> {
    switch (link.grantType) {
      case 'client_credentials':
        return this.oauth.clientCredentials(settings, link.scopes);
      case 'jwt_bearer': // SPEC §15: a fresh assertion per token
        return this.oauth.jwtBearer(settings, link.scopes);
      case 'authorization_code':
        return this.oauth.refresh(
          settings,
          this.keyRing.decrypt(
            link.refreshTokenEncrypted!,
            encryptionContext(LINK_REFRESH_TOKEN, link.id),
          ),
        );
    }
  }

  /** Counts, diagnoses and stores a refusal or outage of the provider, then throws its error. */
  private async recordFailure(
    claimed: ClaimedLink,
    holder: string,
    error: ProviderCallError,
    trigger: RefreshTrigger,
    actor: string,
  ): Promise<never> {
    const { link } = claimed;
    this.metrics.refreshes.inc({ trigger, result: error.kind });
    const failure = describeRefreshFailure(error, link);
    const detail = {
      trigger,
      kind: error.kind,
      error: error.oauthError,
      httpStatus: error.httpStatus,
      reason: failure.lastError.reason ?? null,
      actor: failure.lastError.actor ?? null,
      action: failure.lastError.action ?? null,
    };
    await this.writer.saveFailure(claimed, holder, { ...failure, detail }, actor);
    this.logger.warn(`Refresh of link ${link.id} failed (${error.kind}): ${error.message}`);
    throw failure.error;
  }

  /**
   * The provider accepted the next secret: it becomes the current one. Best effort: should this
   * fail, the next refresh tries the current secret, then the next one, and promotes again.
   */
  private async promoteNextSecret(claimed: ClaimedLink, actor: string): Promise<void> {
    const { link } = claimed;
    try {
      await this.clientSecrets.promote(
        link.id,
        actor,
        'invalid_client',
        link.nextClientSecretEncrypted!,
      );
    } catch (error) {
      this.logger.warn(
        { err: error },
        `Promoting the next client secret of link ${link.id} failed`,
      );
    }
  }

  /** Stores what the provider issued; a database outage does not lose it (PendingTokenWrites). */
  private async commitRefreshed(
    claimed: ClaimedLink,
    holder: string,
    tokens: TokenSet,
    trigger: RefreshTrigger,
    actor: string,
  ): Promise<TokenState> {
    const save = (): Promise<TokenState | undefined> =>
      this.writer.saveRefreshed(claimed, tokens, holder, actor, trigger);
    let saved: TokenState | undefined;
    try {
      saved = await save();
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.pendingWrites.keep(claimed.link.id, save, trigger);
      throw TokenErrors.tokensAwaitingDatabase();
    }
    if (!saved) throw TokenErrors.notFound(); // deleted while the provider answered
    this.metrics.refreshes.inc({ trigger, result: 'success' });
    return saved;
  }

  /** An authorization-code link without a refresh token cannot renew; once expired it needs consent again. */
  private async failWithoutRefreshToken(
    claimed: ClaimedLink,
    holder: string,
    actor: string,
  ): Promise<never> {
    const failure = noRefreshTokenFailure();
    if (isValidFor(claimed.state, 0)) {
      await this.store.release(claimed.link.id, holder);
    } else {
      const detail = { kind: 'no_refresh_token' };
      await this.writer.saveFailure(claimed, holder, { ...failure, detail }, actor);
    }
    throw failure.error;
  }
}
