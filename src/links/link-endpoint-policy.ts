import { Injectable } from '@nestjs/common';
import type { FieldError } from '../common/app-error.js';
import { OutboundPolicy } from '../outbound/outbound-policy.js';
import { getProviderPreset } from '../providers/provider-preset.js';
import type { LinkConfiguration } from './link-configuration.js';
import { LinkErrors } from './links.errors.js';

const ENDPOINT_FIELDS = [
  'issuer',
  'authorizationEndpoint',
  'tokenEndpoint',
  'revocationEndpoint',
] as const;
type EndpointField = (typeof ENDPOINT_FIELDS)[number];

type Endpoints = Pick<LinkConfiguration, 'provider' | 'tenant' | 'cloud'> &
  Partial<Record<EndpointField, string | null>>;

/**
 * The outbound policy (SPEC §11) applied to a link's endpoints when they are saved, so an admin
 * hears about a refused address at once rather than at the first refresh. The connect-time check
 * in OutboundHttp still decides each connection.
 */
@Injectable()
export class LinkEndpointPolicy {
  constructor(private readonly policy: OutboundPolicy) {}

  /**
   * Checks the endpoints an admin chose (or discovery returned). A preset's own endpoints are
   * Outlink's constants and are not resolved; values equal to `unchanged` were checked when saved.
   *
   * @param endpoints - the link's provider settings and endpoint URLs (already valid URLs)
   * @param unchanged - the stored link, on update
   * @throws AppError endpoint_not_allowed naming each refused field
   */
  async check(endpoints: Endpoints, unchanged?: Partial<Record<EndpointField, string | null>>) {
    const preset = getProviderPreset(endpoints.provider);
    if (preset.endpoints({ tenant: endpoints.tenant, cloud: endpoints.cloud }) !== null) return;
    const errors: FieldError[] = [];
    for (const field of ENDPOINT_FIELDS) {
      const value = endpoints[field];
      if (value === null || value === undefined || unchanged?.[field] === value) continue;
      const refusal = await this.policy.refusalFor(new URL(value));
      if (refusal) errors.push({ field, message: refusal.message });
    }
    if (errors.length > 0) throw LinkErrors.endpointNotAllowed(errors);
  }
}
