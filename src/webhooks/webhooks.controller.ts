import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { ApiKeyPrincipal } from '../auth/api-key-principal.js';
import { CurrentApiKey } from '../auth/auth.decorators.js';
import { ApiProblemResponses } from '../common/api-problem-responses.js';
import { PageQueryDto } from '../common/pagination.dto.js';
import { UuidParam } from '../common/validation.js';
import {
  CreatedWebhookResponseDto,
  CreateWebhookDto,
  WebhookDeliveryListResponseDto,
  WebhookDeliveryResponseDto,
  WebhookListResponseDto,
  WebhookResponseDto,
} from './webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

/** SPEC §13: admin only, like every route that does not say otherwise (the global guard). */
@ApiTags('webhooks')
@ApiBearerAuth()
@ApiProblemResponses(401, 403)
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Subscribe a receiver to link events (the secret is shown once)' })
  @ApiCreatedResponse({ type: CreatedWebhookResponseDto })
  @ApiProblemResponses(400, 413)
  async createWebhook(
    @Body() input: CreateWebhookDto,
    @CurrentApiKey() apiKey: ApiKeyPrincipal,
  ): Promise<CreatedWebhookResponseDto> {
    const { webhook, secret } = await this.webhooks.create(input, apiKey.id);
    return { ...WebhookResponseDto.from(webhook), secret };
  }

  @Get()
  @ApiOperation({ summary: 'List webhooks, newest first' })
  @ApiOkResponse({ type: WebhookListResponseDto })
  async listWebhooks(): Promise<WebhookListResponseDto> {
    const webhooks = await this.webhooks.list();
    return { items: webhooks.map((webhook) => WebhookResponseDto.from(webhook)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a webhook' })
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiProblemResponses(400, 404)
  async getWebhook(@UuidParam('id') id: string): Promise<WebhookResponseDto> {
    return WebhookResponseDto.from(await this.webhooks.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook with its delivery log; nothing more is sent' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblemResponses(400, 404)
  async deleteWebhook(@UuidParam('id') id: string): Promise<void> {
    await this.webhooks.delete(id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a webhook.test event through the outbox' })
  @ApiAcceptedResponse({ type: WebhookDeliveryResponseDto, description: 'Queued' })
  @ApiProblemResponses(400, 404, 409)
  async testWebhook(@UuidParam('id') id: string): Promise<WebhookDeliveryResponseDto> {
    return WebhookDeliveryResponseDto.from(await this.webhooks.sendTest(id));
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: "The webhook's delivery log, newest first" })
  @ApiOkResponse({ type: WebhookDeliveryListResponseDto })
  @ApiProblemResponses(400, 404)
  async listWebhookDeliveries(
    @UuidParam('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<WebhookDeliveryListResponseDto> {
    const page = await this.webhooks.listDeliveries(id, query.limit, query.cursor);
    return {
      items: page.items.map((delivery) => WebhookDeliveryResponseDto.from(delivery)),
      nextCursor: page.nextCursor,
    };
  }
}
