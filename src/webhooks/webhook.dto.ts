import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import type { JsonObject } from '../common/json.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from './webhook-delivery.entity.js';
import {
  ALL_EVENTS,
  LINK_WEBHOOK_EVENT_TYPES,
  WEBHOOK_TEST_EVENT,
  type WebhookEventType,
} from './webhook-events.js';
import { WEBHOOK_STATUSES, type WebhookEntity, type WebhookStatus } from './webhook.entity.js';
import type { WebhookDeliveryEntity } from './webhook-delivery.entity.js';

export const SUBSCRIBABLE_EVENTS = [...LINK_WEBHOOK_EVENT_TYPES, ALL_EVENTS] as const;
const nullable = (_dto: object, value: unknown): boolean => value !== null;

export class CreateWebhookDto {
  @ApiProperty({
    format: 'uri',
    maxLength: 2000,
    example: 'https://alerts.example.com/outlink',
    description:
      'Where events are POSTed. https (http only with ALLOW_INSECURE_ENDPOINTS); a public address unless OUTBOUND_ALLOW names it.',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  url: string;

  @ApiProperty({
    type: [String],
    enum: SUBSCRIBABLE_EVENTS,
    minItems: 1,
    example: ['link.reauthorization_required', 'link.error'],
    description: 'The events to receive, or `["*"]` for every link event.',
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(SUBSCRIBABLE_EVENTS.length)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE_EVENTS, { each: true })
  events: string[];

  @ApiPropertyOptional({ type: String, maxLength: 500, nullable: true })
  @IsOptional()
  @ValidateIf(nullable)
  @IsString()
  @MaxLength(500)
  description?: string | null;
}

export class WebhookResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String], enum: SUBSCRIBABLE_EVENTS }) events: string[];
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty({
    enum: WEBHOOK_STATUSES,
    description: '`disabled` once the receiver answered 410 Gone: nothing is sent any more.',
  })
  status: WebhookStatus;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) disabledAt: string | null;
  @ApiProperty({ type: String, nullable: true }) disabledReason: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;

  static from(webhook: WebhookEntity): WebhookResponseDto {
    return {
      id: webhook.id,
      url: webhook.url,
      events: webhook.events,
      description: webhook.description,
      status: webhook.status,
      disabledAt: webhook.disabledAt?.toISOString() ?? null,
      disabledReason: webhook.disabledReason,
      createdAt: webhook.createdAt.toISOString(),
    };
  }
}

export class CreatedWebhookResponseDto extends WebhookResponseDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The Standard Webhooks signing secret. Shown only in this response: give it to the receiver now.',
  })
  secret: string;
}

export class WebhookListResponseDto {
  @ApiProperty({ type: [WebhookResponseDto] }) items: WebhookResponseDto[];
}

export class WebhookDeliveryResponseDto {
  @ApiProperty({ format: 'uuid', description: 'Also the `webhook-id` header of every attempt.' })
  id: string;
  @ApiProperty({ format: 'uuid' }) webhookId: string;
  @ApiProperty({ enum: [...LINK_WEBHOOK_EVENT_TYPES, WEBHOOK_TEST_EVENT] })
  eventType: WebhookEventType;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) linkId: string | null;
  @ApiProperty({
    enum: DELIVERY_STATUSES,
    description:
      '`pending` (due at nextAttemptAt), `delivered` (2xx), `failed` (given up after 24 h), `cancelled` (the webhook was disabled)',
  })
  status: DeliveryStatus;
  @ApiProperty({ description: 'Attempts started so far' }) attempts: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastAttemptAt: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'HTTP status of the last answer' })
  lastStatusCode: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextAttemptAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deliveredAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The body sent: `{ type, timestamp, data }`',
  })
  payload: JsonObject;

  static from(delivery: WebhookDeliveryEntity): WebhookDeliveryResponseDto {
    return {
      id: delivery.id,
      webhookId: delivery.webhookId,
      eventType: delivery.eventType as WebhookEventType,
      linkId: delivery.linkId,
      status: delivery.status,
      attempts: delivery.attempts,
      lastAttemptAt: delivery.lastAttemptAt?.toISOString() ?? null,
      lastStatusCode: delivery.lastStatusCode,
      lastError: delivery.lastError,
      nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
      deliveredAt: delivery.deliveredAt?.toISOString() ?? null,
      createdAt: delivery.createdAt.toISOString(),
      payload: JSON.parse(delivery.payload) as JsonObject,
    };
  }
}

export class WebhookDeliveryListResponseDto {
  @ApiProperty({ type: [WebhookDeliveryResponseDto] }) items: WebhookDeliveryResponseDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
