import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProviderClientModule } from '../providers/provider-client.module.js';
import { OutboundModule } from '../outbound/outbound.module.js';
import { LinkClientSecrets } from './link-client-secrets.js';
import { LinkConfigurator } from './link-configurator.js';
import { LinkCredentialColumns } from './link-credential-columns.js';
import { LinkEndpointPolicy } from './link-endpoint-policy.js';
import { LinkEventEntity } from './link-event.entity.js';
import { LinkEventsService } from './link-events.service.js';
import { LinkEventRetention } from './link-event-retention.js';
import { LinkExpiryNoticeEntity } from './link-expiry-notice.entity.js';
import { LinkExpiryNotices } from './link-expiry-notices.js';
import { LinkRevocation } from './link-revocation.js';
import { LinkUpdater } from './link-updater.js';
import { LinkEntity } from './link.entity.js';
import { LinksController } from './links.controller.js';
import { LinksService } from './links.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([LinkEntity, LinkEventEntity, LinkExpiryNoticeEntity]),
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
    LinkExpiryNotices,
    LinkCredentialColumns,
    LinkClientSecrets,
    LinkUpdater,
  ],
  exports: [LinksService, LinkClientSecrets, LinkEventsService, TypeOrmModule],
})
export class LinksModule {}
