import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { IsNull, LessThan, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import { KeyRing } from '../crypto/key-ring.js';
import { AUTHORIZATION_CODE_VERIFIER } from '../database/encrypted-columns.js';
import { LinkEventsService } from '../links/link-events.service.js';
import { oauthSettingsFor } from '../links/link-oauth-settings.js';
import type { LinkEntity } from '../links/link.entity.js';
import { LinksService } from '../links/links.service.js';
import { TokenWriter } from '../tokens/token-writer.js';
import { getProviderPreset, type ProviderId } from '../providers/provider-preset.js';
import { AuthorizationRequestEntity } from './authorization-request.entity.js';
import { generatePkce, generateState } from '../providers/authorization-request-secrets.js';
import { ProviderClient } from '../providers/provider-client.js';
import type { TokenSet } from '../providers/provider-client.types.js';
import { ProviderCallError } from '../providers/provider-error.js';
import { actionForLink, diagnoseProviderFailure } from '../providers/provider-failures.js';
import { grantLastError } from './granted-tokens.js';
import { DiagnosedAuthorizationError, OAuthErrors } from './oauth.errors.js';

export const AUTHORIZATION_TTL_MS = 10 * 60 * 1000;
/** Finished or abandoned authorizations are kept a day for diagnosis, then purged. */
const AUTHORIZATION_RETENTION_MS = 24 * 60 * 60 * 1000;

/** What the provider sent to the callback, already reduced to bounded strings. */
export interface CallbackParameters {
  state: string | null;
  code: string | null;
  error: string | null;
  errorDescription: string | null;
  /** The raw query string, handed to openid-client as the provider sent it (iss, session_state...). */
  rawQuery: string;
}

export interface CompletedAuthorization {
  link: LinkEntity;
  /** Set when the provider sent no refresh token: what the admin should change. */
  advice: string | null;
}

function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

/** The authorization-code flow (SPEC §6): start it for a link, and complete it at the callback. */
@Injectable()
export class AuthorizationService implements OnModuleInit {
  constructor(
    @InjectRepository(AuthorizationRequestEntity)
    private readonly requests: Repository<AuthorizationRequestEntity>,
    private readonly links: LinksService,
    private readonly events: LinkEventsService,
    private readonly keyRing: KeyRing,
    private readonly oauth: ProviderClient,
    private readonly config: AppConfig,
    private readonly tokens: TokenWriter,
  ) {}

  onModuleInit(): void {
    // A deleted link's pending authorizations go with it, PKCE verifiers included (SPEC §5).
    this.links.onDelete(async (linkId, manager) => {
      await manager.delete(AuthorizationRequestEntity, { linkId });
    });
  }

  /**
   * @param options.allowAccountChange - accept consent by another account than the one the link
   *   is bound to (SPEC §12)
   */
  async start(
    linkId: string,
    actor: string,
    options: { allowAccountChange: boolean } = { allowAccountChange: false },
  ): Promise<{ authorizationUrl: string; expiresAt: Date }> {
    const link = await this.links.getWithSecrets(linkId);
    if (link.grantType !== 'authorization_code' || !link.authorizationEndpoint)
      throw OAuthErrors.notAuthorizationCode();

    const state = generateState();
    const pkce = link.pkce ? await generatePkce() : null;
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + AUTHORIZATION_TTL_MS);
    const preset = getProviderPreset(link.provider as ProviderId);
    // Re-authorization: the provider preselects the account the link is bound to (SPEC §12).
    const loginHint = link.account?.email ?? link.account?.username ?? null;
    const authorizationUrl = this.oauth.authorizationUrl(oauthSettingsFor(link, this.keyRing), {
      ...preset.authorizationParams,
      ...(loginHint !== null && !options.allowAccountChange ? { login_hint: loginHint } : {}),
      ...link.authorizationParams,
      redirect_uri: this.config.redirectUrl,
      scope: link.scopes.join(' '),
      state,
      ...(pkce ? { code_challenge: pkce.challenge, code_challenge_method: 'S256' } : {}),
    });

    await this.requests.manager.transaction(async (manager) => {
      await manager.delete(AuthorizationRequestEntity, {
        createdAt: LessThan(new Date(Date.now() - AUTHORIZATION_RETENTION_MS)),
      });
      await manager.insert(AuthorizationRequestEntity, {
        id,
        linkId,
        stateHash: hashState(state),
        codeVerifierEncrypted: pkce
          ? this.keyRing.encrypt(pkce.verifier, encryptionContext(AUTHORIZATION_CODE_VERIFIER, id))
          : null,
        redirectUri: this.config.redirectUrl,
        linkConfigVersion: link.configVersion,
        startedBy: actor,
        expiresAt,
        usedAt: null,
        allowAccountChange: options.allowAccountChange,
      });
      await this.events.record(
        linkId,
        'authorization_started',
        actor,
        {
          expiresAt: expiresAt.toISOString(),
          pkce: pkce !== null,
          allowAccountChange: options.allowAccountChange,
        },
        manager,
      );
    });
    return { authorizationUrl, expiresAt };
  }

  /**
   * Completes the flow at the public callback. The state is the credential: it is consumed
   * (single use) before anything else happens, and every failure leaves the link as it was.
   */
  async complete(callback: CallbackParameters): Promise<CompletedAuthorization> {
    if (!callback.state) throw OAuthErrors.missingState();
    const request = await this.consumeState(callback.state);
    const link = await this.links.getWithSecrets(request.linkId).catch(() => {
      throw OAuthErrors.linkGone();
    });
    if (link.configVersion !== request.linkConfigVersion) throw OAuthErrors.linkChanged();
    const actor = request.startedBy;

    if (callback.error) {
      const diagnosis = actionForLink(
        diagnoseProviderFailure({ error: callback.error, description: callback.errorDescription }),
        link.id,
      );
      await this.events.record(link.id, 'authorization_failed', actor, {
        error: callback.error,
        description: callback.errorDescription,
        ...diagnosis,
      });
      const failed =
        callback.error === 'access_denied'
          ? OAuthErrors.consentRefused(callback.errorDescription)
          : OAuthErrors.providerError(callback.error, callback.errorDescription);
      throw diagnosis.reason === 'unknown'
        ? failed
        : new DiagnosedAuthorizationError(failed, diagnosis);
    }
    if (!callback.code) throw OAuthErrors.missingCode();

    const codeVerifier = request.codeVerifierEncrypted
      ? this.keyRing.decrypt(
          request.codeVerifierEncrypted,
          encryptionContext(AUTHORIZATION_CODE_VERIFIER, request.id),
        )
      : null;
    let tokens: TokenSet;
    try {
      tokens = await this.oauth.exchangeAuthorizationCode(
        oauthSettingsFor(link, this.keyRing),
        new URL(`${request.redirectUri}?${callback.rawQuery}`),
        { expectedState: callback.state, codeVerifier },
      );
    } catch (error) {
      if (!(error instanceof ProviderCallError)) throw error;
      const diagnosis = actionForLink(
        diagnoseProviderFailure({ error: error.oauthError, description: error.description }),
        link.id,
      );
      await this.events.record(link.id, 'authorization_failed', actor, {
        error: error.oauthError ?? error.kind,
        description: error.description,
        ...(error.kind === 'transient' ? {} : diagnosis),
      });
      if (error.kind === 'transient') throw OAuthErrors.providerUnavailable(error.message);
      const rejected = OAuthErrors.codeRejected(error.message);
      throw diagnosis.reason === 'unknown'
        ? rejected
        : new DiagnosedAuthorizationError(rejected, diagnosis);
    }
    const bound = link.account;
    const consented = tokens.identity;
    if (
      bound !== null &&
      consented !== null &&
      bound.subject !== consented.subject &&
      !request.allowAccountChange
    ) {
      await this.events.record(link.id, 'authorization_failed', actor, {
        error: 'account_mismatch',
        description: 'consent by another account than the one the link is bound to',
      });
      throw OAuthErrors.accountChanged(bound, consented);
    }
    return this.storeGrant(link, request, tokens);
  }

  private async consumeState(state: string): Promise<AuthorizationRequestEntity> {
    const stateHash = hashState(state);
    const consumed = await this.requests
      .createQueryBuilder()
      .update(AuthorizationRequestEntity)
      .set({ usedAt: () => 'now()' })
      .where({ stateHash, usedAt: IsNull() })
      .andWhere('expires_at > now()')
      .returning([
        'id',
        'linkId',
        'codeVerifierEncrypted',
        'redirectUri',
        'linkConfigVersion',
        'startedBy',
        'allowAccountChange',
      ])
      .execute();
    const row = (consumed.raw as Record<string, unknown>[])[0];
    if (row) {
      return this.requests.create({
        id: row.id as string,
        linkId: row.link_id as string,
        codeVerifierEncrypted: row.code_verifier_encrypted as string | null,
        redirectUri: row.redirect_uri as string,
        linkConfigVersion: row.link_config_version as number,
        startedBy: row.started_by as string,
        allowAccountChange: row.allow_account_change as boolean,
      });
    }
    const known = await this.requests.findOneBy({ stateHash });
    if (!known) throw OAuthErrors.unknownState();
    throw known.usedAt ? OAuthErrors.usedState() : OAuthErrors.expiredState();
  }

  private async storeGrant(
    link: LinkEntity,
    request: AuthorizationRequestEntity,
    tokens: TokenSet,
  ): Promise<CompletedAuthorization> {
    const { advice, lastError } = grantLastError(link.provider, tokens);
    const outcome = await this.tokens.saveGranted({
      linkId: link.id,
      configVersion: request.linkConfigVersion,
      tokens,
      lastError,
      // A provider that says nothing this time leaves the binding as it was.
      account: tokens.identity ?? (request.allowAccountChange ? null : link.account),
      actor: request.startedBy,
    });
    if (outcome === 'link_gone') throw OAuthErrors.linkGone();
    if (outcome === 'link_changed') throw OAuthErrors.linkChanged();
    return { link: await this.links.get(link.id), advice };
  }
}
