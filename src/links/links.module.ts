import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProviderClientModule } from '../providers/provider-client.module.js';
import { OutboundModule } from '../outbound/outbound.module.js';
import { LinkConfigurator } from './link-configurator.js';
import { LinkEndpointPolicy } from './link-endpoint-policy.js';
import { LinkEventEntity } from './link-event.entity.js';
import { LinkEventsService } from './link-events.service.js';
import { LinkEventRetention } from './link-event-retention.js';
import { LinkRevocation } from './link-revocation.js';
import { LinkEntity } from './link.entity.js';
import { LinksController } from './links.controller.js';
import { LinksService } from './links.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([LinkEntity, LinkEventEntity]),
    ProviderClientModule,
    OutboundModule,
  ],
  controllers: [LinksController],
  providers: [
    LinksService,
    LinkEventsService,
    LinkRevocation,
    LinkEventRetention,
    LinkEndpointPolicy,
    LinkConfigurator,
  ],
  exports: [LinksService, LinkEventsService, TypeOrmModule],
})
export class LinksModule {}
