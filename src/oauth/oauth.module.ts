import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LinksModule } from '../links/links.module.js';
import { AuthorizationRequestEntity } from './authorization-request.entity.js';
import { AuthorizationController } from './authorization.controller.js';
import { AuthorizationService } from './authorization.service.js';
import { DeviceAuthorizationEntity } from './device-authorization.entity.js';
import { DeviceAuthorizationService } from './device-authorization.service.js';
import { DevicePolling } from './device-polling.js';
import { OAuthCallbackController } from './oauth-callback.controller.js';
import { ProviderClientModule } from '../providers/provider-client.module.js';
import { RedirectUrlController } from './redirect-url.controller.js';
import { TokensModule } from '../tokens/tokens.module.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([AuthorizationRequestEntity, DeviceAuthorizationEntity]),
    LinksModule,
    ProviderClientModule,
    TokensModule,
  ],
  controllers: [AuthorizationController, OAuthCallbackController, RedirectUrlController],
  providers: [AuthorizationService, DeviceAuthorizationService, DevicePolling],
})
export class OAuthModule {}
