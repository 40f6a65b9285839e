import { ApiKeyEntity } from '../auth/api-key.entity.js';
import { LinkEventEntity } from '../links/link-event.entity.js';
import { LinkEntity } from '../links/link.entity.js';
import { AuthorizationRequestEntity } from '../oauth/authorization-request.entity.js';
import { CreateApiKeys1763900000000 } from './migrations/1763900000000-CreateApiKeys.js';
import { CreateLinks1763910000000 } from './migrations/1763910000000-CreateLinks.js';
import { AddRefreshState1763920000000 } from './migrations/1763920000000-AddRefreshState.js';
import { IndexLinkEventsByTime1764000900000 } from './migrations/1764000900000-IndexLinkEventsByTime.js';

/**
 * Every entity and migration, listed explicitly: the app, the migration CLI and the schema-drift
 * test share this list, and explicit imports work the same under ESM, jest and the built app
 * (TypeORM's glob loading does not).
 */
export const ENTITIES = [ApiKeyEntity, LinkEntity, LinkEventEntity, AuthorizationRequestEntity];
export const MIGRATIONS = [
  CreateApiKeys1763900000000,
  CreateLinks1763910000000,
  AddRefreshState1763920000000,
  IndexLinkEventsByTime1764000900000,
];
