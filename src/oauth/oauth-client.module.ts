import { Module } from '@nestjs/common';
import { OutboundModule } from '../outbound/outbound.module.js';
import { OAuthClient } from './oauth-client.js';

/** The one openid-client wrapper, shared by links (discovery, revocation), the flow and the refresher. */
@Module({
  imports: [OutboundModule],
  providers: [OAuthClient],
  exports: [OAuthClient],
})
export class OAuthClientModule {}
