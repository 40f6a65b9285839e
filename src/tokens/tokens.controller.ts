import { Body, Controller, Get, Header, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { AllowConsumer, CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { UuidParam } from '../common/validation.js';
import { LogContextOnDemand, RequestLogContext } from '../common/request-log-context.js';
import { AppConfig } from '../config/app-config.js';
import { LinkResponseDto } from '../links/link.dto.js';
import { LinksService } from '../links/links.service.js';
import { RenewTokenDto, TokenQueryDto, TokenResponseDto } from './token.dto.js';
import { DEFAULT_MIN_VALIDITY_SECONDS, parseTokenRequest, type TokenQuery } from './token-query.js';
import { TokenService } from './token.service.js';
import { oauthbearer, xoauth2 } from './sasl.js';
import { isValidFor, type TokenState } from './token-state.js';
import { mailboxFor } from './mailbox.js';
import { TokenErrors } from './tokens.errors.js';

@ApiTags('tokens')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/links')
export class TokensController {
  constructor(
    private readonly tokens: TokenService,
    private readonly links: LinksService,
    private readonly config: AppConfig,
    private readonly logContext: RequestLogContext,
  ) {}

  @Get(':id/token')
  @AllowConsumer()
  @LogContextOnDemand()
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  @ApiOperation({ summary: 'A valid access token for the link, renewed first when needed' })
  @ApiQuery({ type: TokenQueryDto })
  @ApiParam({ name: 'id', type: String })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblemResponses(400, 404, 409, 503)
  getLinkToken(@Req() request: FastifyRequest): TokenResponseDto | Promise<TokenResponseDto> {
    // No piped parameters on the hot path (see parseTokenRequest), and no promise when the
    // replica's cache answers.
    const { linkId, query } = parseTokenRequest(request);
    const cached = this.tokens.cachedToken(linkId, query.minValidity);
    if (cached !== undefined) return tokenResponse(cached, query);
    // Asynchronous from here on: what the load or the refresh logs carries the request's id.
    return this.logContext
      .untilSettled(request.id, () => this.tokens.loadOrRefresh(linkId, query.minValidity))
      .then((fresh) => tokenResponse(fresh, query));
  }

  @Post(':id/token/renew')
  @AllowConsumer()
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  @ApiOperation({
    summary: 'Report a token a resource server refused; get a renewed (or the current) token',
    description:
      "SPEC §12. If the refused token is still the link's token it is renewed (single-flight across " +
      'replicas, at most once per MIN_REFRESH_INTERVAL_SECONDS); if the link already holds another ' +
      'token, that one is returned without calling the provider. Answers like GET /token.',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblemResponses(400, 404, 409, 503)
  async renewLinkToken(
    @UuidParam('id') id: string,
    @Body() body: RenewTokenDto,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<TokenResponseDto> {
    const { rejectedAccessToken, ...query } = body;
    const minValidity = query.minValidity ?? DEFAULT_MIN_VALIDITY_SECONDS;
    const state = await this.tokens.renewRejected(id, rejectedAccessToken, minValidity, apiKey.id);
    return tokenResponse(state, { ...query, minValidity });
  }

  @Post(':id/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Renew the token now (admin), whatever its validity; returns the link' })
  @ApiOkResponse({ type: LinkResponseDto })
  @ApiProblemResponses(400, 404, 409, 503)
  async refreshLink(
    @UuidParam('id') id: string,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<LinkResponseDto> {
    await this.tokens.forceRefresh(id, apiKey.id);
    return LinkResponseDto.from(await this.links.get(id), this.config.redirectUrl);
  }
}

/** The answer of GET /token and POST /token/renew. */
function tokenResponse(state: TokenState, query: TokenQuery): TokenResponseDto {
  const accessToken = state.accessToken!;
  const mailbox = mailboxFor({
    requestedUser: query.user,
    mailUser: state.mailUser,
    subject: state.subject,
    account: state.account,
  });
  if (query.format !== undefined && mailbox === null)
    throw TokenErrors.mailboxRequired(query.format, state.grantType);
  const now = Date.now();
  const response: TokenResponseDto = {
    linkId: state.linkId,
    accessToken,
    tokenType: state.tokenType ?? 'Bearer',
    expiresAt: state.expiresAt?.toISOString() ?? null,
    expiresIn: state.expiresAt
      ? Math.max(0, Math.floor((state.expiresAt.getTime() - now) / 1000))
      : null,
    scopes: state.scopes,
    meetsMinValidity: isValidFor(state, query.minValidity, now),
  } as TokenResponseDto;
  if (mailbox !== null) {
    response.xoauth2 = xoauth2(mailbox, accessToken);
    response.oauthbearer = oauthbearer(mailbox, accessToken);
  }
  // Last, as documented; properties added in place rather than spread into a new object.
  response.account = state.account;
  return response;
}
