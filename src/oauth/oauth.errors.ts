import { AppError } from '../common/app-error.js';
import type { FailureDiagnosis } from '../providers/provider-failures.js';

/** A failed authorization that says who must act and how (SPEC §13), on the callback page too. */
export class DiagnosedAuthorizationError extends AppError {
  constructor(
    error: AppError,
    readonly diagnosis: FailureDiagnosis,
  ) {
    super(error.code, error.detail, { headers: error.headers });
  }
}
import type { LinkAccount } from '../links/link.entity.js';

const START_AGAIN = 'Start the authorization again from Outlink (POST /v1/links/{id}/authorize).';

/** How an account is named to the admin: its e-mail, else username, else the provider's id. */
function accountName(account: LinkAccount): string {
  return account.email ?? account.username ?? `subject ${account.subject}`;
}

export const OAuthErrors = {
  accountChanged: (bound: LinkAccount, consented: LinkAccount) =>
    new AppError(
      'account_mismatch',
      `The consent came from ${accountName(consented)}, but this link belongs to ${accountName(bound)}; the link is unchanged. ` +
        `Sign in as ${accountName(bound)}, or start the authorization with {"allowAccountChange": true} to bind the link to another account.`,
    ),
  notAuthorizationCode: () =>
    new AppError(
      'conflict',
      'Client-credentials links need no authorization: they connect with their first token request.',
    ),
  missingState: () =>
    new AppError('invalid_state', `The callback carries no state. ${START_AGAIN}`),
  unknownState: () =>
    new AppError('invalid_state', `This authorization is unknown to Outlink. ${START_AGAIN}`),
  usedState: () =>
    new AppError(
      'invalid_state',
      `This authorization was already completed or attempted once. ${START_AGAIN}`,
    ),
  expiredState: () =>
    new AppError(
      'invalid_state',
      `This authorization expired (they are valid for 10 minutes). ${START_AGAIN}`,
    ),
  linkGone: () => new AppError('invalid_state', 'The link of this authorization has been deleted.'),
  linkChanged: () =>
    new AppError(
      'invalid_state',
      `The link's configuration changed after this authorization started, so its result cannot be used. ${START_AGAIN}`,
    ),
  consentRefused: (description: string | null) =>
    new AppError(
      'authorization_denied',
      `Consent was refused at the provider${description ? ` (${description})` : ''}. Nothing was changed. ${START_AGAIN}`,
    ),
  providerError: (error: string, description: string | null) =>
    new AppError(
      'authorization_failed',
      `The provider answered "${error}"${description ? `: ${description}` : ''}. Check the link's client id, scopes and redirect URL at the provider, then ${START_AGAIN.charAt(0).toLowerCase()}${START_AGAIN.slice(1)}`,
    ),
  missingCode: () =>
    new AppError(
      'authorization_failed',
      `The callback carries no authorization code. ${START_AGAIN}`,
    ),
  codeRejected: (reason: string) =>
    new AppError(
      'authorization_failed',
      `The provider rejected the authorization code: ${reason}. ${START_AGAIN}`,
    ),
  providerUnavailable: (reason: string) =>
    new AppError(
      'provider_unavailable',
      `The provider's token endpoint could not be reached (${reason}). ${START_AGAIN}`,
      { headers: { 'retry-after': '30' } },
    ),
  // SPEC §15 device authorization
  noDeviceFlow: () =>
    new AppError(
      'conflict',
      "The link's provider has no device authorization endpoint (RFC 8628): use the browser flow, or a custom link with an issuer whose discovery document names device_authorization_endpoint.",
    ),
  deviceAuthorizationRefused: (reason: string) =>
    new AppError(
      'authorization_failed',
      `The provider refused to start a device authorization: ${reason}. Check the link's client id, secret and scopes, and that the client may use the device flow at the provider.`,
    ),
};
