import { Module } from '@nestjs/common';
import { OutboundHttp } from './outbound-http.js';
import { OutboundPolicy } from './outbound-policy.js';

/**
 * The outbound address policy (SPEC §11) and the HTTP client that obeys it. It sits below every
 * module that connects out on an admin's behalf and imports nothing of theirs.
 */
@Module({
  providers: [OutboundPolicy, OutboundHttp],
  exports: [OutboundPolicy, OutboundHttp],
})
export class OutboundModule {}
