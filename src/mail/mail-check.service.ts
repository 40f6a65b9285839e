import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import {
  configuredServers,
  type MailCheck,
  type MailCheckResult,
} from '../links/link-mail-settings.js';
import { LinksService } from '../links/links.service.js';
import { OutboundPolicy } from '../outbound/outbound-policy.js';
import { mailboxFor } from '../tokens/mailbox.js';
import { TokenService } from '../tokens/token.service.js';
import { MailCheckStore } from './mail-check-store.js';
import { MailErrors } from './mail.errors.js';
import { login, type LoginOutcome } from './mail-login.js';
import type { MailServer, MailProtocol } from '../links/link-mail-settings.js';

/** The token must outlive the logins. */
const MIN_VALIDITY_SECONDS = 60;
const LOGIN_TIMEOUT_MS = 15_000;

/**
 * POST /v1/links/{id}/mail-check (SPEC §12): logs into each configured mail server with the
 * link's token; a refusal is reported through the renew rule once and tried again.
 */
@Injectable()
export class MailCheckService {
  constructor(
    private readonly links: LinksService,
    private readonly tokens: TokenService,
    private readonly policy: OutboundPolicy,
    private readonly store: MailCheckStore,
    private readonly config: AppConfig,
  ) {}

  async check(linkId: string, actor: string): Promise<MailCheck> {
    const link = await this.links.get(linkId);
    const servers = configuredServers(link.mail);
    if (servers.length === 0) throw MailErrors.noMailServers();
    const user = mailboxFor({
      mailUser: link.mail?.user,
      subject: link.subject,
      account: link.account,
    });
    if (user === null) throw MailErrors.noMailboxUser();

    const first = await this.tokens.getToken(linkId, MIN_VALIDITY_SECONDS);
    let outcomes = await Promise.all(
      servers.map(({ protocol, server }) =>
        this.attempt(protocol, server, user, first.accessToken!),
      ),
    );
    if (outcomes.some((outcome) => outcome.refused)) {
      const renewed = await this.tokens.renewRejected(
        linkId,
        first.accessToken!,
        MIN_VALIDITY_SECONDS,
        actor,
      );
      outcomes = await Promise.all(
        servers.map(({ protocol, server }, index) =>
          outcomes[index].refused
            ? this.attempt(protocol, server, user, renewed.accessToken!)
            : Promise.resolve(outcomes[index]),
        ),
      );
    }
    const check: MailCheck = {
      checkedAt: new Date().toISOString(),
      results: outcomes.map((outcome, index): MailCheckResult => ({
        protocol: servers[index].protocol,
        ok: outcome.ok,
        mechanism: outcome.mechanism,
        latencyMs: outcome.latencyMs,
        serverResponse: outcome.serverResponse,
      })),
    };
    const interval = this.config.mailCheckIntervalSeconds;
    await this.store.save(
      linkId,
      check,
      actor,
      interval > 0 ? new Date(Date.now() + interval * 1000) : null,
    );
    return check;
  }

  private async attempt(
    protocol: MailProtocol,
    server: MailServer,
    user: string,
    accessToken: string,
  ): Promise<LoginOutcome & { latencyMs: number }> {
    const started = performance.now();
    let outcome: LoginOutcome;
    try {
      // The outbound policy again, on the address connected to (no DNS-rebinding bypass).
      const [address] = await this.policy.checkOutboundAddress(server.host);
      outcome = await login(protocol, {
        server,
        address,
        user,
        accessToken,
        timeoutMs: LOGIN_TIMEOUT_MS,
      });
    } catch (error) {
      outcome = {
        ok: false,
        refused: false,
        mechanism: null,
        serverResponse: error instanceof Error ? error.message : String(error),
      };
    }
    return { ...outcome, latencyMs: Math.round(performance.now() - started) };
  }
}
