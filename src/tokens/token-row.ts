import { encryptionContext } from '../crypto/encrypted-column.js';
import type { KeyRing } from '../crypto/key-ring.js';
import { LINK_ACCESS_TOKEN } from '../database/encrypted-columns.js';
import type { LinkAccount, LinkLastError, LinkStatus } from '../links/link.entity.js';
import { renewByOf, type TokenState } from './token-state.js';

/** The raw columns the token path reads; one query, no ORM hydration on the hot path. */
export interface TokenRow {
  id: string;
  status: LinkStatus;
  grant_type: TokenState['grantType'];
  access_token_encrypted: string | null;
  token_type: string | null;
  access_token_expires_at: Date | null;
  last_refreshed_at: Date | null;
  granted_scopes: string[] | null;
  scopes: string[];
  refresh_token_present: boolean;
  refresh_not_before: Date | null;
  last_error: LinkLastError | null;
  account: LinkAccount | null;
  mail_user: string | null;
  subject: string | null;
}

export const TOKEN_COLUMNS = `id, status, grant_type, access_token_encrypted, token_type, access_token_expires_at,
  last_refreshed_at, granted_scopes, scopes, refresh_token_present, refresh_not_before, last_error, account,
  mail->>'user' AS mail_user, subject`;

/** A row's token state, its access token decrypted (once: callers pass the state around). */
export function tokenStateOf(
  row: TokenRow,
  keyRing: KeyRing,
  assumedTokenLifetimeSeconds: number,
): TokenState {
  const expiresAt = row.access_token_expires_at ? new Date(row.access_token_expires_at) : null;
  const obtainedAt = row.last_refreshed_at ? new Date(row.last_refreshed_at) : null;
  return {
    linkId: row.id,
    status: row.status,
    grantType: row.grant_type,
    accessToken: row.access_token_encrypted
      ? keyRing.decrypt(row.access_token_encrypted, encryptionContext(LINK_ACCESS_TOKEN, row.id))
      : null,
    tokenType: row.token_type,
    expiresAt,
    renewBy: renewByOf(expiresAt, obtainedAt, assumedTokenLifetimeSeconds),
    obtainedAt,
    scopes: row.granted_scopes ?? row.scopes,
    refreshTokenPresent: row.refresh_token_present,
    refreshNotBefore: row.refresh_not_before ? new Date(row.refresh_not_before) : null,
    lastError: row.last_error,
    account: row.account,
    mailUser: row.mail_user,
    subject: row.subject,
  };
}
