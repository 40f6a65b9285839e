import { Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { AllowConsumer, CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { UuidParam } from '../common/validation.js';
import { AppConfig } from '../config/app-config.js';
import { LinkResponseDto } from '../links/link.dto.js';
import { LinksService } from '../links/links.service.js';
import { TokenQueryDto, TokenResponseDto } from './token.dto.js';
import { TokenQueryParams, type TokenQuery } from './token-query.js';
import { TokenService } from './token.service.js';
import { oauthbearer, xoauth2 } from './sasl.js';
import { isValidFor, type TokenState } from './token-state.js';

@ApiTags('tokens')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/links')
export class TokensController {
  constructor(
    private readonly tokens: TokenService,
    private readonly links: LinksService,
    private readonly config: AppConfig,
  ) {}

  @Get(':id/token')
  @AllowConsumer()
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  @ApiOperation({ summary: 'A valid access token for the link, renewed first when needed' })
  @ApiQuery({ type: TokenQueryDto })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblemResponses(400, 404, 409, 503)
  getLinkToken(
    @UuidParam('id') id: string,
    @TokenQueryParams() query: TokenQuery,
  ): TokenResponseDto | Promise<TokenResponseDto> {
    // Synchronous when the replica's cache answers (see TokenService.getToken).
    const state = this.tokens.getToken(id, query.minValidity);
    return state instanceof Promise
      ? state.then((fresh) => tokenResponse(fresh, query))
      : tokenResponse(state, query);
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

function tokenResponse(state: TokenState, query: TokenQuery): TokenResponseDto {
  const accessToken = state.accessToken!;
  return {
    linkId: state.linkId,
    accessToken,
    tokenType: state.tokenType ?? 'Bearer',
    expiresAt: state.expiresAt?.toISOString() ?? null,
    expiresIn: state.expiresAt
      ? Math.max(0, Math.floor((state.expiresAt.getTime() - Date.now()) / 1000))
      : null,
    scopes: state.scopes,
    meetsMinValidity: isValidFor(state, query.minValidity),
    ...(query.user !== undefined
      ? {
          xoauth2: xoauth2(query.user, accessToken),
          oauthbearer: oauthbearer(query.user, accessToken),
        }
      : {}),
  };
}
