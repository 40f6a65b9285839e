import { ApiKeyEntity } from './auth/api-key.entity.js';
import { LinkEventEntity } from './links/link-event.entity.js';
import { LinkEntity } from './links/link.entity.js';
import { AuthorizationRequestEntity } from './oauth/authorization-request.entity.js';
// SPEC §13 webhooks
import { WebhookDeliveryEntity } from './webhooks/webhook-delivery.entity.js';
import { WebhookEntity } from './webhooks/webhook.entity.js';
// SPEC §13 forecast
import { LinkExpiryNoticeEntity } from './links/link-expiry-notice.entity.js';
// SPEC §15 device authorization
import { DeviceAuthorizationEntity } from './oauth/device-authorization.entity.js';

/**
 * Every entity of every module, for what runs outside Nest: the migration CLI (data-source.ts) and
 * the schema-drift test. The app itself collects them from each module's TypeOrmModule.forFeature
 * (autoLoadEntities); the drift test fails when this list misses one.
 */
export const ENTITIES = [
  ApiKeyEntity,
  LinkEntity,
  LinkEventEntity,
  AuthorizationRequestEntity,
  // SPEC §13 webhooks
  WebhookEntity,
  WebhookDeliveryEntity,
  // SPEC §13 forecast
  LinkExpiryNoticeEntity,
  // SPEC §15 device authorization
  DeviceAuthorizationEntity,
];
