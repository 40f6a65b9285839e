/** Who must act to repair a link (SPEC §13). */
export const FAILURE_ACTORS = ['outlink_admin', 'provider_admin', 'account_owner'] as const;
export type FailureActor = (typeof FAILURE_ACTORS)[number];

/** Why a provider refused, who must act, and what they must do: the words of `lastError`. */
export interface FailureDiagnosis {
  /** A stable snake_case name, e.g. `refresh_token_inactive`; `unknown` when not recognised. */
  reason: string;
  actor: FailureActor;
  /** One sentence: what to do, and where. */
  action: string;
}

/** What a provider said: the OAuth `error` and `error_description` (RFC 6749 §5.2). */
export interface ProviderRefusal {
  error: string | null;
  description: string | null;
}

const AUTHORIZE_AGAIN =
  'Authorize the link again: POST /v1/links/{id}/authorize, then sign in and consent at the provider.';

interface KnownFailure extends FailureDiagnosis {
  /** Recognises the provider's answer. */
  matches: (refusal: ProviderRefusal) => boolean;
}

/** Microsoft puts `AADSTS<code>:` at the start of every error_description. */
const aadsts =
  (code: number) =>
  (refusal: ProviderRefusal): boolean =>
    refusal.description !== null && new RegExp(`\\bAADSTS${code}\\b`).test(refusal.description);

/** Google sends these as the `error` itself (authorization errors), or quotes them. */
const googleError =
  (code: string) =>
  (refusal: ProviderRefusal): boolean =>
    refusal.error === code || (refusal.description?.includes(code) ?? false);

/**
 * The failures SPEC §13 names, each with the provider's own wording of it. Microsoft's texts:
 * https://learn.microsoft.com/entra/identity-platform/reference-error-codes (and
 * https://login.microsoftonline.com/error?code=<n>); Google's:
 * https://developers.google.com/identity/protocols/oauth2#expiration (refresh token expiry) and
 * https://developers.google.com/identity/protocols/oauth2/web-server#authorization-errors.
 * Order matters only where a description could name two codes; the first match wins.
 */
const KNOWN_FAILURES: readonly KnownFailure[] = [
  {
    // AADSTS700082 ExpiredOrRevokedGrantInactiveToken: "The refresh token has expired due to
    // inactivity. The token was issued on {issueDate} and was inactive for {time}."
    matches: aadsts(700082),
    reason: 'refresh_token_inactive',
    actor: 'outlink_admin',
    action: `${AUTHORIZE_AGAIN} Entra expires refresh tokens unused for 90 days; Outlink renews idle links weekly, so check that background refresh runs.`,
  },
  {
    // AADSTS7000222 InvalidClientSecretExpiredKeysProvided: "The provided client secret keys are
    // expired. Create new keys for your app, or consider using certificate credentials."
    matches: aadsts(7000222),
    reason: 'client_secret_expired',
    actor: 'provider_admin',
    action:
      'Create a new client secret in the Entra admin center (App registrations > Certificates & secrets), then PATCH the link with it as clientSecret (or nextClientSecret ahead of time).',
  },
  {
    // AADSTS7000215 InvalidClientSecretProvided: "Invalid client secret provided. Ensure the
    // secret being sent in the request is the client secret value, not the client secret ID."
    matches: aadsts(7000215),
    reason: 'client_secret_invalid',
    actor: 'outlink_admin',
    action:
      "PATCH the link with the client secret's value (not its secret ID) from the Entra admin center.",
  },
  {
    // AADSTS50173 FreshTokenNeeded: "The provided grant has expired due to it being revoked, and
    // a fresh auth token is needed. Either an admin or a user revoked the tokens for this user,
    // causing subsequent token refreshes to fail." (a password change, or revoked sessions)
    matches: aadsts(50173),
    reason: 'password_changed',
    actor: 'account_owner',
    action: `The account's password changed or its sessions were revoked. ${AUTHORIZE_AGAIN}`,
  },
  {
    // AADSTS50076 UserStrongAuthClientAuthNRequired: "Due to a configuration change made by the
    // admin, or because you moved to a new location, the user must use multifactor
    // authentication to access the resource."
    matches: aadsts(50076),
    reason: 'mfa_required',
    actor: 'account_owner',
    action: `Multifactor authentication is now required for the account. ${AUTHORIZE_AGAIN.replace('sign in', 'sign in with MFA')}`,
  },
  {
    // AADSTS50079 UserStrongAuthEnrollmentRequired: "Due to a configuration change made by the
    // admin, or because the user moved to a new location, the user is required to use
    // multifactor authentication."
    matches: aadsts(50079),
    reason: 'mfa_enrollment_required',
    actor: 'account_owner',
    action: `The account must register for multifactor authentication (https://aka.ms/mfasetup), then: ${AUTHORIZE_AGAIN}`,
  },
  {
    // AADSTS65001 DelegationDoesNotExist: "The user or administrator hasn't consented to use the
    // application with ID X."
    matches: aadsts(65001),
    reason: 'consent_missing',
    actor: 'provider_admin',
    action: `Grant consent for the app's permissions in the Entra admin center (Enterprise applications > Permissions > Grant admin consent), then: ${AUTHORIZE_AGAIN}`,
  },
  {
    // AADSTS70000 InvalidGrant: "Authentication failed. The refresh token isn't valid. Error may
    // be due to the following reasons: token binding header is empty, or token binding hash
    // doesn't match."
    matches: aadsts(70000),
    reason: 'grant_invalid',
    actor: 'outlink_admin',
    action: AUTHORIZE_AGAIN,
  },
  {
    // AADSTS70008 ExpiredOrRevokedGrant: "The refresh token has expired due to inactivity. The
    // token was issued on XXX and was inactive for a certain amount of time."
    matches: aadsts(70008),
    reason: 'grant_expired_or_revoked',
    actor: 'outlink_admin',
    action: AUTHORIZE_AGAIN,
  },
  {
    // Google, on the token endpoint: {"error": "invalid_grant", "error_description": "Token has
    // been expired or revoked."}: revoked by the user, unused for six months, a password change
    // (Gmail scopes), too many refresh tokens, or an app in "Testing" (7-day refresh tokens).
    matches: (refusal) =>
      refusal.error === 'invalid_grant' &&
      /token has been expired or revoked/i.test(refusal.description ?? ''),
    reason: 'token_expired_or_revoked',
    actor: 'outlink_admin',
    action: `${AUTHORIZE_AGAIN} If this recurs every 7 days, the Google app's publishing status is "Testing": set it to "In production" (Google Auth Platform > Audience).`,
  },
  {
    // Google admin_policy_enforced: "The Google Account is unable to authorize one or more scopes
    // requested due to the policies of their Google Workspace administrator."
    matches: googleError('admin_policy_enforced'),
    reason: 'admin_policy_enforced',
    actor: 'provider_admin',
    action: `A Google Workspace admin must trust the app (Admin console > Security > API controls > App access control), then: ${AUTHORIZE_AGAIN}`,
  },
  {
    // Google org_internal: "The OAuth client ID in the request is part of a project limiting
    // access to Google Accounts in a specific Google Cloud Organization."
    matches: googleError('org_internal'),
    reason: 'org_internal',
    actor: 'provider_admin',
    action:
      'The Google app only admits accounts of its own organisation: sign in with one of them, or set its user type to "External" (Google Auth Platform > Audience).',
  },
  {
    // Google deleted_client: "The OAuth client being used to make the request has been deleted."
    matches: googleError('deleted_client'),
    reason: 'deleted_client',
    actor: 'provider_admin',
    action:
      'The OAuth client was deleted in Google Cloud: restore it (within 30 days) or create a new one, then PATCH the link with its clientId and clientSecret.',
  },
];

/**
 * Says why a provider refused, who must act and how (SPEC §13). Pure. Anything not recognised is
 * `unknown`, with the provider's own text in the action and an actor chosen by the OAuth error.
 */
export function diagnoseProviderFailure(refusal: ProviderRefusal): FailureDiagnosis {
  const known = KNOWN_FAILURES.find((failure) => failure.matches(refusal));
  if (known) return { reason: known.reason, actor: known.actor, action: known.action };
  const said = [refusal.error, refusal.description].filter(Boolean).join(': ');
  const quoted = said ? ` The provider said: "${said}".` : '';
  if (refusal.error === 'invalid_grant')
    return { reason: 'unknown', actor: 'outlink_admin', action: `${AUTHORIZE_AGAIN}${quoted}` };
  if (refusal.error === 'invalid_client' || refusal.error === 'unauthorized_client')
    return {
      reason: 'unknown',
      actor: 'outlink_admin',
      action: `Check the link's client id and secret at the provider, then PATCH the link.${quoted}`,
    };
  return {
    reason: 'unknown',
    actor: 'outlink_admin',
    action: `Read the provider's answer and fix the link's settings at the provider or in Outlink.${quoted}`,
  };
}

/** The words for a grant without a refresh token (SPEC §13). */
export const NO_REFRESH_TOKEN: FailureDiagnosis = {
  reason: 'no_refresh_token',
  actor: 'outlink_admin',
  action:
    "Authorize the link again so that the provider issues a refresh token (see the provider preset's notes: offline access, prompt=consent).",
};

/** Fills `{id}` in an action with the link's id, so the admin can paste the route. */
export function actionForLink(diagnosis: FailureDiagnosis, linkId: string): FailureDiagnosis {
  return { ...diagnosis, action: diagnosis.action.replaceAll('{id}', linkId) };
}
