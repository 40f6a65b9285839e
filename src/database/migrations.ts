import { CreateApiKeys1763900000000 } from './migrations/1763900000000-CreateApiKeys.js';
import { CreateLinks1763910000000 } from './migrations/1763910000000-CreateLinks.js';
import { AddRefreshState1763920000000 } from './migrations/1763920000000-AddRefreshState.js';
import { IndexLinkEventsByTime1764000900000 } from './migrations/1764000900000-IndexLinkEventsByTime.js';
// SPEC §13 webhooks
import { CreateWebhooks1764001200000 } from './migrations/1764001200000-CreateWebhooks.js';
// SPEC §13 forecast
import { AddLinkForecast1764003000001 } from './migrations/1764003000001-AddLinkForecast.js';
// SPEC §13 overlapping client secrets
import { AddNextClientSecret1764003000002 } from './migrations/1764003000002-AddNextClientSecret.js';
// SPEC §15 device authorization
import { CreateDeviceAuthorizations1764005000001 } from './migrations/1764005000001-CreateDeviceAuthorizations.js';
// SPEC §15 credentials beyond the client secret
import { AddKeyCredentials1764004000001 } from './migrations/1764004000001-AddKeyCredentials.js';
// SPEC §12 consumers recover by themselves
import { AddLinkAccount1764002000000 } from './migrations/1764002000000-AddLinkAccount.js';
import { AddServiceAccountKeys1764004000002 } from './migrations/1764004000002-AddServiceAccountKeys.js';

/**
 * Every migration, in order, listed explicitly: explicit imports work the same under ESM, jest and
 * the built app (TypeORM's glob loading does not). Entities are not listed here: each module
 * registers its own (TypeOrmModule.forFeature), and src/entities.ts lists them for the CLI.
 */
export const MIGRATIONS = [
  CreateApiKeys1763900000000,
  CreateLinks1763910000000,
  AddRefreshState1763920000000,
  IndexLinkEventsByTime1764000900000,
  // SPEC §13 webhooks
  CreateWebhooks1764001200000,
  // SPEC §13 forecast
  AddLinkForecast1764003000001,
  // SPEC §13 overlapping client secrets
  AddNextClientSecret1764003000002,
  // SPEC §15 device authorization
  CreateDeviceAuthorizations1764005000001,
  // SPEC §15 credentials beyond the client secret
  AddKeyCredentials1764004000001,
  // SPEC §12 consumers recover by themselves
  AddLinkAccount1764002000000,
  AddServiceAccountKeys1764004000002,
];
