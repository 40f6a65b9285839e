import { Injectable, Logger } from '@nestjs/common';
import type { JsonObject } from '../common/json.js';
import { AppConfig } from '../config/app-config.js';
import { ProviderDiscovery } from '../providers/provider-discovery.js';
import { ProviderCallError } from '../providers/provider-error.js';
import {
  resolveLinkConfiguration,
  type LinkConfiguration,
  type LinkConfigurationInput,
} from './link-configuration.js';
import { LinkEndpointPolicy } from './link-endpoint-policy.js';
import type { LinkEntity } from './link.entity.js';
import { LinkErrors } from './links.errors.js';

/** A link's configuration as stored: the preset applied, discovery done. */
export type StoredConfiguration = Omit<LinkConfiguration, 'needsDiscovery'> & {
  discoveredMetadata: JsonObject | null;
};

/**
 * Turns what an admin gave into a storable configuration: the preset's rules, discovery of a
 * custom issuer, and the outbound policy on every endpoint (SPEC §4, §5, §11).
 */
@Injectable()
export class LinkConfigurator {
  private readonly logger = new Logger(LinkConfigurator.name);

  constructor(
    private readonly config: AppConfig,
    private readonly discovery: ProviderDiscovery,
    private readonly endpointPolicy: LinkEndpointPolicy,
  ) {}

  /**
   * @param current - the stored link on update: its unchanged endpoints are not checked again,
   *   and with `keepsDiscovery` its discovered endpoints stand
   * @throws AppError validation_failed, endpoint_not_allowed
   */
  async configure(
    input: LinkConfigurationInput,
    current?: { link: LinkEntity; keepsDiscovery: boolean },
  ): Promise<StoredConfiguration> {
    const resolved = resolveLinkConfiguration(input, this.options());
    const stored =
      current?.keepsDiscovery === true
        ? this.keepDiscovered(current.link, resolved)
        : await this.discoverIfNeeded(input, resolved, current?.link);
    await this.endpointPolicy.check(stored, current?.link);
    return stored;
  }

  private options(): { allowInsecureEndpoints: boolean } {
    return { allowInsecureEndpoints: this.config.allowInsecureEndpoints };
  }

  /** For a custom link with an issuer, fetches its discovery document. */
  private async discoverIfNeeded(
    input: LinkConfigurationInput,
    resolved: LinkConfiguration,
    current: LinkEntity | undefined,
  ): Promise<StoredConfiguration> {
    const { needsDiscovery, ...configuration } = resolved;
    if (!needsDiscovery) return { ...configuration, discoveredMetadata: null };
    // Before discovery connects anywhere; configure() checks the discovered endpoints after.
    await this.endpointPolicy.check(
      { ...configuration, authorizationEndpoint: null, tokenEndpoint: null },
      current,
    );
    let discovered;
    try {
      discovered = await this.discovery.discover(configuration.issuer!);
    } catch (error) {
      const reason = error instanceof ProviderCallError ? error.message : 'unexpected error';
      this.logger.warn(`Discovery of ${configuration.issuer} failed: ${reason}`);
      throw LinkErrors.discoveryFailed(reason);
    }
    // The discovered endpoints must pass the same rules as typed ones (https unless allowed).
    const { needsDiscovery: _ignored, ...checked } = resolveLinkConfiguration(
      {
        ...input,
        issuer: null,
        authorizationEndpoint: discovered.authorizationEndpoint,
        tokenEndpoint: discovered.tokenEndpoint,
        revocationEndpoint: configuration.revocationEndpoint ?? discovered.revocationEndpoint,
      },
      this.options(),
    );
    return {
      ...checked,
      issuer: discovered.issuer,
      discoveredMetadata: discovered.metadata as JsonObject,
    };
  }

  private keepDiscovered(current: LinkEntity, resolved: LinkConfiguration): StoredConfiguration {
    const { needsDiscovery: _ignored, ...configuration } = resolved;
    return {
      ...configuration,
      authorizationEndpoint: current.authorizationEndpoint,
      tokenEndpoint: current.tokenEndpoint,
      revocationEndpoint: configuration.revocationEndpoint ?? current.revocationEndpoint,
      issuer: current.issuer,
      discoveredMetadata: current.discoveredMetadata,
    };
  }
}
