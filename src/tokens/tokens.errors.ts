import { AppError } from '../common/app-error.js';
import type { TokenState } from './token-state.js';

export const TokenErrors = {
  notFound: () => AppError.notFound('The link'),
  notConnected: () =>
    new AppError(
      'link_not_connected',
      'The link has not been authorized yet: an admin must call POST /v1/links/{id}/authorize and consent at the provider.',
    ),
  reauthorizationRequired: (state: Pick<TokenState, 'lastError'>) =>
    new AppError(
      'reauthorization_required',
      `${state.lastError?.message ?? "The provider no longer accepts this link's grant."} An admin must authorize the link again (POST /v1/links/{id}/authorize).`,
    ),
  noRefreshToken: () =>
    new AppError(
      'reauthorization_required',
      'The provider issued no refresh token, so the access token cannot be renewed. An admin must authorize the link again (see lastError for how to get a refresh token).',
    ),
  linkError: (state: Pick<TokenState, 'lastError'>) =>
    new AppError(
      'link_error',
      `${state.lastError?.message ?? 'The provider rejected the client.'} Fix the client id or secret (PATCH /v1/links/{id}).`,
    ),
  tokensAwaitingDatabase: () =>
    new AppError(
      'service_unavailable',
      'The provider issued new tokens while the database was unreachable; they are kept and stored as soon as it is back. Retry shortly.',
      { headers: { 'retry-after': '2' } },
    ),
  // SPEC §15
  mailboxRequired: (format: string, grantType: string) =>
    AppError.validation(
      [{ field: 'user', message: `format=${format} needs the mailbox: give user` }],
      `No mailbox is known for this link, so no ${format} string can be built. ${
        grantType === 'client_credentials'
          ? 'An app-only (client credentials) token acts for no user: name the mailbox with ?user=.'
          : 'Name the mailbox with ?user=.'
      }`,
    ),
  providerUnavailable: (retryAfterSeconds: number, reason: string) =>
    new AppError(
      'provider_unavailable',
      `The provider is unavailable (${reason}) and no token with enough validity is held; retry in ${retryAfterSeconds} s.`,
      { headers: { 'retry-after': String(retryAfterSeconds) } },
    ),
};
