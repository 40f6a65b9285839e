import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { AllowConsumer, CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { PageQueryDto } from '../common/pagination.dto.js';
import { UuidParam } from '../common/validation.js';
import { AppConfig } from '../config/app-config.js';
import {
  CreateLinkDto,
  LinkCertificateResponseDto,
  LinkEventListResponseDto,
  LinkEventResponseDto,
  LinkListResponseDto,
  LinkResponseDto,
  ListLinksQueryDto,
  UpdateLinkDto,
} from './link.dto.js';
import { LinkEventsService } from './link-events.service.js';
import { LinkErrors } from './links.errors.js';
import { LinkClientSecrets } from './link-client-secrets.js';
import { LinksService } from './links.service.js';

@ApiTags('links')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/links')
export class LinksController {
  constructor(
    private readonly links: LinksService,
    private readonly clientSecrets: LinkClientSecrets,
    private readonly events: LinkEventsService,
    private readonly config: AppConfig,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create an outgoing link (the client secret is write-only)' })
  @ApiCreatedResponse({ type: LinkResponseDto })
  @ApiProblemResponses(400, 413)
  async createLink(
    @Body() input: CreateLinkDto,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<LinkResponseDto> {
    return this.respond(await this.links.create(input, apiKey.id));
  }

  @Get()
  @ApiOperation({ summary: 'List links, newest first' })
  @ApiOkResponse({ type: LinkListResponseDto })
  @ApiProblemResponses(400)
  async listLinks(@Query() query: ListLinksQueryDto): Promise<LinkListResponseDto> {
    const page = await this.links.list(query);
    return { items: page.items.map((link) => this.respond(link)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @AllowConsumer()
  @ApiOperation({ summary: 'Get a link (consumer keys: granted links only)' })
  @ApiOkResponse({ type: LinkResponseDto })
  @ApiProblemResponses(400, 404)
  async getLink(@UuidParam('id') id: string): Promise<LinkResponseDto> {
    return this.respond(await this.links.get(id));
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a link; changing client id, endpoints or scopes requires authorizing it again',
  })
  @ApiOkResponse({ type: LinkResponseDto })
  @ApiProblemResponses(400, 404, 409, 413)
  async updateLink(
    @UuidParam('id') id: string,
    @Body() patch: UpdateLinkDto,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<LinkResponseDto> {
    return this.respond(await this.links.update(id, patch, apiKey.id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a link: revokes its refresh token (best effort) and forgets its secrets',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblemResponses(400, 404)
  async deleteLink(
    @UuidParam('id') id: string,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<void> {
    await this.links.delete(id, apiKey.id);
  }

  @Post(':id/client-secret/promote')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Make the next client secret the current one (SPEC §13); 409 when the link has no next secret',
  })
  @ApiOkResponse({ type: LinkResponseDto })
  @ApiProblemResponses(400, 404, 409)
  async promoteClientSecret(
    @UuidParam('id') id: string,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<LinkResponseDto> {
    if (!(await this.clientSecrets.promote(id, apiKey.id, 'manual')))
      throw LinkErrors.noNextClientSecret();
    return this.respond(await this.links.get(id));
  }

  @Get(':id/events')
  @ApiOperation({ summary: "The link's audit trail, newest first (kept after deletion)" })
  @ApiOkResponse({ type: LinkEventListResponseDto })
  @ApiProblemResponses(400, 404)
  async listLinkEvents(
    @UuidParam('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<LinkEventListResponseDto> {
    await this.links.getIncludingDeleted(id);
    const page = await this.events.list(id, query.limit, query.cursor);
    return {
      items: page.items.map((event) => LinkEventResponseDto.from(event)),
      nextCursor: page.nextCursor,
    };
  }

  // SPEC §15
  @Get(':id/certificate')
  @ApiOperation({
    summary:
      'The certificate, JWK and x5t#S256 of a private_key_jwt link: register them at the provider',
  })
  @ApiOkResponse({ type: LinkCertificateResponseDto })
  @ApiProblemResponses(400, 404, 409)
  async getLinkCertificate(@UuidParam('id') id: string): Promise<LinkCertificateResponseDto> {
    const view = await this.links.certificate(id);
    return { pem: view.pem, jwk: { ...view.jwk }, x5tS256: view.x5tS256 };
  }

  private respond(link: Parameters<typeof LinkResponseDto.from>[0]): LinkResponseDto {
    return LinkResponseDto.from(link, this.config.redirectUrl);
  }
}
