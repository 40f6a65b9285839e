import { Module } from '@nestjs/common';
import { OAuthClient } from './oauth-client.js';

/** The one openid-client wrapper, shared by links (discovery, revocation), the flow and the refresher. */
@Module({
  providers: [OAuthClient],
  exports: [OAuthClient],
})
export class OAuthClientModule {}
