import { Injectable, Logger } from '@nestjs/common';
import * as openid from 'openid-client';
import { AppConfig } from '../config/app-config.js';
import { OutboundHttp } from '../outbound/outbound-http.js';
import type { OAuthServer } from './provider-client.types.js';
import { classifyAndLog, newObservation } from './provider-error-classification.js';
import { ProviderCallError } from './provider-error.js';
import { observingFetch } from './provider-http.js';

/** An authorization server found through OpenID Connect or RFC 8414 discovery. */
export interface DiscoveredServer extends OAuthServer {
  /** the metadata subset worth storing */
  metadata: Record<string, unknown>;
}

/** Discovery metadata fields worth keeping beside a link. */
const STORED_METADATA_FIELDS = [
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'revocation_endpoint',
  'scopes_supported',
  'response_types_supported',
  'grant_types_supported',
  'code_challenge_methods_supported',
  'token_endpoint_auth_methods_supported',
  'revocation_endpoint_auth_methods_supported',
  'authorization_response_iss_parameter_supported',
  // SPEC §15: where a custom link starts the device flow (RFC 8628).
  'device_authorization_endpoint',
] as const;

/** OpenID Connect and RFC 8414 discovery of an authorization server, through the outbound policy. */
@Injectable()
export class ProviderDiscovery {
  private readonly logger = new Logger(ProviderDiscovery.name);

  constructor(
    private readonly config: AppConfig,
    private readonly http: OutboundHttp,
  ) {}

  /**
   * Discovers an authorization server from its issuer: OpenID Connect discovery first, then
   * RFC 8414 (`/.well-known/oauth-authorization-server`) when the former is not served.
   *
   * @param issuer - the issuer identifier, an absolute URL
   * @returns the endpoints and the metadata subset worth storing
   * @throws ProviderCallError `rejected` when the issuer is not a URL, the document is missing, its
   *   issuer differs, or it names no token endpoint; `transient` when the server is unreachable
   */
  async discover(issuer: string): Promise<DiscoveredServer> {
    let issuerUrl: URL;
    try {
      issuerUrl = new URL(issuer);
    } catch {
      throw new ProviderCallError('rejected', 'the issuer is not an absolute URL');
    }
    let metadata: openid.ServerMetadata;
    try {
      metadata = await this.discoverWith(issuerUrl, 'oidc');
    } catch (firstError) {
      if (!(firstError instanceof ProviderCallError) || firstError.kind !== 'rejected')
        throw firstError;
      try {
        metadata = await this.discoverWith(issuerUrl, 'oauth2');
      } catch {
        throw firstError;
      }
    }
    if (typeof metadata.token_endpoint !== 'string') {
      throw new ProviderCallError('rejected', 'the discovery document names no token_endpoint');
    }
    const stored: Record<string, unknown> = {};
    for (const field of STORED_METADATA_FIELDS) {
      if (metadata[field] !== undefined) stored[field] = metadata[field];
    }
    return {
      issuer: metadata.issuer,
      authorizationEndpoint: metadata.authorization_endpoint ?? null,
      tokenEndpoint: metadata.token_endpoint,
      revocationEndpoint: metadata.revocation_endpoint ?? null,
      metadata: stored,
    };
  }

  private async discoverWith(
    issuer: URL,
    algorithm: 'oidc' | 'oauth2',
  ): Promise<openid.ServerMetadata> {
    const observation = newObservation();
    try {
      // The client id is irrelevant: only the server metadata of the result is used.
      const configuration = await openid.discovery(
        issuer,
        'outlink-discovery',
        undefined,
        undefined,
        {
          algorithm,
          timeout: this.config.providerTimeoutSeconds,
          [openid.customFetch]: observingFetch(this.http, observation),
          execute: this.config.allowInsecureEndpoints ? [openid.allowInsecureRequests] : [],
        },
      );
      return { ...configuration.serverMetadata() };
    } catch (error) {
      throw classifyAndLog(this.logger, error, observation, 'the discovery document');
    }
  }
}
