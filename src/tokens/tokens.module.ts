import { Module } from '@nestjs/common';
import { LinksModule } from '../links/links.module.js';
import { ProviderClientModule } from '../providers/provider-client.module.js';
import { BackgroundRefresh } from './background-refresh.js';
import { LinkStatusGauge } from './link-status-gauge.js';
import { TokenCache } from './token-cache.js';
import { TokenRefresher } from './token-refresher.js';
import { TokenService } from './token.service.js';
import { TokenStore } from './token-store.js';
import { TokenWriter } from './token-writer.js';
import { PendingTokenWrites } from './pending-token-writes.js';
import { RefreshCall } from './refresh-call.js';
import { TokensController } from './tokens.controller.js';

@Module({
  imports: [LinksModule, ProviderClientModule],
  controllers: [TokensController],
  providers: [
    TokenService,
    TokenStore,
    TokenWriter,
    TokenCache,
    TokenRefresher,
    RefreshCall,
    PendingTokenWrites,
    BackgroundRefresh,
    LinkStatusGauge,
  ],
  exports: [TokenWriter, TokenService],
})
export class TokensModule {}
