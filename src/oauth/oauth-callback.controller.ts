import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import type { FailureDiagnosis } from '../providers/provider-failures.js';
import { AppError } from '../common/app-error.js';
import { HtmlPage } from '../common/security-headers.js';
import { describeErrorCode, PROBLEM_CONTENT_TYPE } from '../common/problem-details.filter.js';
import { AuthorizationService, type CallbackParameters } from './authorization.service.js';
import { renderCallbackPage } from './callback-page.js';
import { DiagnosedAuthorizationError } from './oauth.errors.js';

const MAX_PARAMETER_LENGTH = 4096;

/** Who must act, in words for the admin's browser; the API says `actor`. */
const ACTOR_WORDS: Record<FailureDiagnosis['actor'], string> = {
  outlink_admin: 'Outlink admin (actor: outlink_admin)',
  provider_admin: "The provider's admin (actor: provider_admin)",
  account_owner: 'The account owner (actor: account_owner)',
};

function parameter(query: unknown, name: string): string | null {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value.length > 0
    ? value.slice(0, MAX_PARAMETER_LENGTH)
    : null;
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** The redirect URI registered at providers. Public: the single-use state is the credential. */
@Controller('v1/oauth')
export class OAuthCallbackController {
  constructor(private readonly authorizations: AuthorizationService) {}

  @Get('callback')
  @Public()
  @HtmlPage()
  @ApiExcludeEndpoint()
  async handleCallback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const queryStart = request.url.indexOf('?');
    const callback: CallbackParameters = {
      state: parameter(request.query, 'state'),
      code: parameter(request.query, 'code'),
      error: parameter(request.query, 'error')?.slice(0, 100) ?? null,
      errorDescription: parameter(request.query, 'error_description')?.slice(0, 500) ?? null,
      rawQuery: queryStart < 0 ? '' : request.url.slice(queryStart + 1),
    };
    // The page may show provider text and must not leak the code through Referer or framing.
    void reply.headers({
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    });
    try {
      const { link, advice } = await this.authorizations.complete(callback);
      const message = `${link.name} is connected. You can close this window.`;
      if (wantsJson(request)) {
        await reply.status(200).send({
          linkId: link.id,
          name: link.name,
          status: link.status,
          refreshTokenPresent: link.refreshTokenPresent,
          message,
          advice,
        });
        return;
      }
      await reply
        .status(200)
        .type('text/html; charset=utf-8')
        .send(
          renderCallbackPage({
            success: true,
            title: `${link.name} is connected`,
            message,
            advice,
          }),
        );
    } catch (error) {
      if (!(error instanceof AppError)) throw error; // the global filter logs it and answers 500
      const { status, title } = describeErrorCode(error.code);
      // The same words as lastError, events and webhooks (SPEC §13).
      const diagnosis = error instanceof DiagnosedAuthorizationError ? error.diagnosis : null;
      if (wantsJson(request)) {
        await reply
          .status(status)
          .headers(error.headers ?? {})
          .type(PROBLEM_CONTENT_TYPE)
          .send({
            type: `urn:outlink:problem:${error.code}`,
            title,
            status,
            detail: error.detail,
            code: error.code,
            ...(diagnosis ?? {}),
          });
        return;
      }
      await reply
        .status(status)
        .headers(error.headers ?? {})
        .type('text/html; charset=utf-8')
        .send(
          renderCallbackPage({
            success: false,
            title,
            message: error.detail,
            advice: diagnosis ? `${ACTOR_WORDS[diagnosis.actor]}: ${diagnosis.action}` : null,
          }),
        );
    }
  }
}
