import { CreateApiKeys1763900000000 } from './migrations/1763900000000-CreateApiKeys.js';
import { CreateLinks1763910000000 } from './migrations/1763910000000-CreateLinks.js';
import { AddRefreshState1763920000000 } from './migrations/1763920000000-AddRefreshState.js';
import { IndexLinkEventsByTime1764000900000 } from './migrations/1764000900000-IndexLinkEventsByTime.js';
import { CreateWebhooks1764001200000 } from './migrations/1764001200000-CreateWebhooks.js';
import { AddLinkAccount1764002000000 } from './migrations/1764002000000-AddLinkAccount.js';
import { AddLinkMail1764002000001 } from './migrations/1764002000001-AddLinkMail.js';
import { AddLinkForecast1764003000001 } from './migrations/1764003000001-AddLinkForecast.js';
import { AddNextClientSecret1764003000002 } from './migrations/1764003000002-AddNextClientSecret.js';
import { AddKeyCredentials1764004000001 } from './migrations/1764004000001-AddKeyCredentials.js';
import { AddServiceAccountKeys1764004000002 } from './migrations/1764004000002-AddServiceAccountKeys.js';
import { CreateDeviceAuthorizations1764005000001 } from './migrations/1764005000001-CreateDeviceAuthorizations.js';

/**
 * Every migration, in timestamp order (the order they run in), listed explicitly: explicit
 * imports work the same under ESM, jest and the built app (TypeORM's glob loading does not).
 * Entities are not listed here: each module registers its own (TypeOrmModule.forFeature), and
 * src/entities.ts lists them for the CLI.
 */
export const MIGRATIONS = [
  CreateApiKeys1763900000000,
  CreateLinks1763910000000,
  AddRefreshState1763920000000,
  IndexLinkEventsByTime1764000900000,
  CreateWebhooks1764001200000,
  AddLinkAccount1764002000000,
  AddLinkMail1764002000001,
  AddLinkForecast1764003000001,
  AddNextClientSecret1764003000002,
  AddKeyCredentials1764004000001,
  AddServiceAccountKeys1764004000002,
  CreateDeviceAuthorizations1764005000001,
];
