import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LinksModule } from '../links/links.module.js';
import { OutboundModule } from '../outbound/outbound.module.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhookDeliveryRetention } from './webhook-delivery-retention.js';
import { WebhookDeliveryStore } from './webhook-delivery-store.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookOutbox } from './webhook-outbox.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhookEntity } from './webhook.entity.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Webhooks (SPEC §13). It sits above links/ (it hooks the audit trail) and outbound/ (it
 * connects out); nothing imports it.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([WebhookEntity, WebhookDeliveryEntity]),
    LinksModule,
    OutboundModule,
  ],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    WebhookOutbox,
    WebhookDeliveryStore,
    WebhookSender,
    WebhookDispatcher,
    WebhookDeliveryRetention,
  ],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
