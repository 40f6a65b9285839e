import { Module } from '@nestjs/common';
import { LinksModule } from '../links/links.module.js';
import { OutboundModule } from '../outbound/outbound.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { BackgroundMailCheck } from './background-mail-check.js';
import { MailCheckController } from './mail-check.controller.js';
import { MailCheckService } from './mail-check.service.js';
import { MailCheckStore } from './mail-check-store.js';

/** SPEC §12 mail check: above links/ and tokens/, whose services it uses. */
@Module({
  imports: [LinksModule, TokensModule, OutboundModule],
  controllers: [MailCheckController],
  providers: [MailCheckService, MailCheckStore, BackgroundMailCheck],
})
export class MailModule {}
