import { Module } from '@nestjs/common';
import { OutboundModule } from '../outbound/outbound.module.js';
import { ProviderClient } from './provider-client.js';
import { ProviderDiscovery } from './provider-discovery.js';

/**
 * The openid-client wrapper and discovery, below every module that talks to providers: links
 * (discovery, revocation), the OAuth flow and the refresher.
 */
@Module({
  imports: [OutboundModule],
  providers: [ProviderClient, ProviderDiscovery],
  exports: [ProviderClient, ProviderDiscovery],
})
export class ProviderClientModule {}
