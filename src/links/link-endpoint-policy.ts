import { Injectable } from '@nestjs/common';
import { AppError, type FieldError } from '../common/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { OutboundAddressRefused } from '../outbound/outbound.errors.js';
import { configuredServers, mailSettingsErrors, type MailSettings } from './link-mail-settings.js';
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
  constructor(
    private readonly policy: OutboundPolicy,
    private readonly config: AppConfig,
  ) {}

  /**
   * The mail servers of a link (SPEC §12): plain text only with ALLOW_INSECURE_ENDPOINTS, and
   * each host through the outbound policy (the mail check checks again when it connects).
   *
   * @throws AppError validation_failed for security "none"; endpoint_not_allowed naming each host
   */
  async checkMail(mail: MailSettings): Promise<void> {
    const insecure = mailSettingsErrors(mail, this.config.allowInsecureEndpoints);
    if (insecure.length > 0) throw AppError.validation(insecure);
    const errors: FieldError[] = [];
    for (const { protocol, server } of configuredServers(mail)) {
      try {
        await this.policy.checkOutboundAddress(server.host);
      } catch (error) {
        if (error instanceof OutboundAddressRefused)
          errors.push({ field: `mail.${protocol}.host`, message: error.message });
      }
    }
    if (errors.length > 0) throw LinkErrors.endpointNotAllowed(errors);
  }

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
