import type { KeyRing } from '../crypto/key-ring.js';
import { encryptionContext } from '../crypto/encrypted-column.js';
import {
  LINK_CLIENT_SECRET,
  LINK_NEXT_CLIENT_SECRET,
  LINK_PRIVATE_KEY,
  LINK_SERVICE_ACCOUNT_KEY,
} from '../database/encrypted-columns.js';
import { parseServiceAccountKey } from '../providers/service-account-key.js';
import { parseClientKey } from '../providers/client-key.js';
import type { ProviderClientSettings } from '../providers/provider-client.types.js';
import {
  getProviderPreset,
  type MicrosoftCloud,
  type ProviderId,
} from '../providers/provider-preset.js';
import type { LinkEntity } from './link.entity.js';

/**
 * The issuer expected in RFC 9207 `iss` checks (SPEC §10): the discovered or preset issuer, or
 * for explicit endpoints the authorization endpoint's origin.
 */
export function expectedIssuer(link: LinkEntity): string {
  if (link.issuer) return link.issuer;
  const endpoint = link.authorizationEndpoint ?? link.tokenEndpoint;
  return endpoint ? new URL(endpoint).origin : 'urn:outlink:unknown-issuer';
}

/**
 * What openid-client needs to talk to the link's provider. The link must have been loaded with
 * its client secret selected (`clientSecretEncrypted`).
 */
export function oauthSettingsFor(link: LinkEntity, keyRing: KeyRing): ProviderClientSettings {
  if (!link.tokenEndpoint) throw new Error(`link ${link.id} has no token endpoint`);
  return {
    clientId: link.clientId,
    clientSecret: link.clientSecretEncrypted
      ? keyRing.decrypt(link.clientSecretEncrypted, encryptionContext(LINK_CLIENT_SECRET, link.id))
      : null,
    tokenEndpointAuthMethod: link.tokenEndpointAuthMethod,
    privateKey:
      link.privateKeyEncrypted && link.certificate
        ? {
            key: parseClientKey(
              keyRing.decrypt(
                link.privateKeyEncrypted,
                encryptionContext(LINK_PRIVATE_KEY, link.id),
              ),
            ),
            certificate: link.certificate,
          }
        : null,
    assertionGrant: link.serviceAccountKeyEncrypted
      ? {
          key: parseServiceAccountKey(
            keyRing.decrypt(
              link.serviceAccountKeyEncrypted,
              encryptionContext(LINK_SERVICE_ACCOUNT_KEY, link.id),
            ),
          ),
          subject: link.subject,
        }
      : null,
    server: {
      issuer: expectedIssuer(link),
      authorizationEndpoint: link.authorizationEndpoint,
      tokenEndpoint: link.tokenEndpoint,
      revocationEndpoint: link.revocationEndpoint,
      deviceAuthorizationEndpoint: deviceAuthorizationEndpointOf(link),
    },
  };
}

/**
 * The settings with the link's next client secret instead of the current one (SPEC §13), or null
 * when it has none. The link must have been loaded with `nextClientSecretEncrypted` selected.
 */
export function nextSecretSettingsFor(
  link: LinkEntity,
  keyRing: KeyRing,
): ProviderClientSettings | null {
  if (!link.nextClientSecretEncrypted) return null;
  return {
    ...oauthSettingsFor(link, keyRing),
    clientSecret: keyRing.decrypt(
      link.nextClientSecretEncrypted,
      encryptionContext(LINK_NEXT_CLIENT_SECRET, link.id),
    ),
  };
}

/**
 * Where the link starts an RFC 8628 device authorization (SPEC §15): the preset's endpoint for
 * the link's tenant and cloud, else the one its discovery document named; null when neither has one.
 */
export function deviceAuthorizationEndpointOf(link: LinkEntity): string | null {
  const fromPreset = getProviderPreset(link.provider as ProviderId).deviceAuthorizationEndpoint({
    tenant: link.tenant,
    cloud: link.cloud as MicrosoftCloud | null,
  });
  const discovered = link.discoveredMetadata?.device_authorization_endpoint;
  return fromPreset ?? (typeof discovered === 'string' ? discovered : null);
}

/** Link columns that hold secrets; TypeORM leaves them out unless named (select: false). */
export const LINK_SECRET_COLUMNS = [
  'clientSecretEncrypted',
  'accessTokenEncrypted',
  'refreshTokenEncrypted',
  'nextClientSecretEncrypted',
  // SPEC §15
  'privateKeyEncrypted',
  'serviceAccountKeyEncrypted',
] as const;
