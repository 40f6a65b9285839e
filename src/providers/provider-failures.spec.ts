import { describe, expect, it } from '@jest/globals';
import { actionForLink, diagnoseProviderFailure } from './provider-failures.js';

/**
 * The providers' real answers, as they send them. Microsoft's from
 * https://learn.microsoft.com/entra/identity-platform/reference-error-codes (descriptions carry
 * trace and correlation ids after the sentence, kept here in their real shape); Google's from
 * https://developers.google.com/identity/protocols/oauth2#expiration and
 * https://developers.google.com/identity/protocols/oauth2/web-server#authorization-errors.
 */
const trailer =
  '\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2025-11-20 10:00:00Z';
const microsoft = (error: string, description: string) => ({
  error,
  description: `${description}${trailer}`,
});

const cases: [string, { error: string | null; description: string | null }, string, string][] = [
  [
    'AADSTS700082',
    microsoft(
      'invalid_grant',
      'AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2025-08-01T10:00:00.0000000Z and was inactive for 90.00:00:00.',
    ),
    'refresh_token_inactive',
    'outlink_admin',
  ],
  [
    'AADSTS7000222',
    microsoft(
      'invalid_client',
      "AADSTS7000222: The provided client secret keys for app '00001111-aaaa-2222-bbbb-3333cccc4444' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
    ),
    'client_secret_expired',
    'provider_admin',
  ],
  [
    'AADSTS7000215',
    microsoft(
      'invalid_client',
      'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.',
    ),
    'client_secret_invalid',
    'outlink_admin',
  ],
  [
    'AADSTS50173',
    microsoft(
      'invalid_grant',
      "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '2025-10-01T10:00:00Z' and the TokensValidFrom date (before which tokens are not valid) for this user is '2025-11-01T10:00:00Z'.",
    ),
    'password_changed',
    'account_owner',
  ],
  [
    'AADSTS50076',
    microsoft(
      'invalid_grant',
      "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'.",
    ),
    'mfa_required',
    'account_owner',
  ],
  [
    'AADSTS50079',
    microsoft(
      'interaction_required',
      'AADSTS50079: Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access the resource.',
    ),
    'mfa_enrollment_required',
    'account_owner',
  ],
  [
    'AADSTS65001',
    microsoft(
      'invalid_grant',
      "AADSTS65001: The user or administrator has not consented to use the application with ID '00001111-aaaa-2222-bbbb-3333cccc4444' named 'Outlink'. Send an interactive authorization request for this user and resource.",
    ),
    'consent_missing',
    'provider_admin',
  ],
  [
    'AADSTS70000',
    microsoft('invalid_grant', 'AADSTS70000: Provided grant is invalid or malformed.'),
    'grant_invalid',
    'outlink_admin',
  ],
  [
    'AADSTS70008',
    microsoft(
      'invalid_grant',
      'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    ),
    'grant_expired_or_revoked',
    'outlink_admin',
  ],
  [
    'Google invalid_grant',
    { error: 'invalid_grant', description: 'Token has been expired or revoked.' },
    'token_expired_or_revoked',
    'outlink_admin',
  ],
  [
    'Google admin_policy_enforced',
    { error: 'admin_policy_enforced', description: null },
    'admin_policy_enforced',
    'provider_admin',
  ],
  [
    'Google org_internal',
    { error: 'org_internal', description: null },
    'org_internal',
    'provider_admin',
  ],
  [
    'Google deleted_client',
    { error: 'deleted_client', description: 'The OAuth client was deleted.' },
    'deleted_client',
    'provider_admin',
  ],
  [
    'Google deleted_client at the token endpoint',
    { error: 'invalid_client', description: 'deleted_client' },
    'deleted_client',
    'provider_admin',
  ],
];

describe('diagnoseProviderFailure', () => {
  it.each(cases)('%s', (_name, refusal, reason, actor) => {
    const diagnosis = diagnoseProviderFailure(refusal);
    expect(diagnosis).toEqual({ reason, actor, action: expect.any(String) });
    expect(diagnosis.action.length).toBeGreaterThan(20);
    // The action is Outlink's sentence, not the provider's trace ids.
    expect(diagnosis.action).not.toContain('Trace ID');
  });

  it('tells MFA from password change from inactivity: each AADSTS code has its own reason', () => {
    const reasons = cases.map(([, refusal]) => diagnoseProviderFailure(refusal).reason);
    expect(new Set(reasons.slice(0, 9)).size).toBe(9);
  });

  it('does not take a longer code for a shorter one (AADSTS7000222 is not AADSTS70000)', () => {
    expect(
      diagnoseProviderFailure({ error: 'invalid_grant', description: 'AADSTS700000: something' })
        .reason,
    ).toBe('unknown');
  });

  it('anything else is unknown, quoting the provider', () => {
    const diagnosis = diagnoseProviderFailure({
      error: 'invalid_scope',
      description: 'The scope foo is not valid.',
    });
    expect(diagnosis.reason).toBe('unknown');
    expect(diagnosis.action).toContain('invalid_scope: The scope foo is not valid.');
  });

  it('an unrecognised invalid_grant still says to authorize again; invalid_client to fix the secret', () => {
    expect(
      diagnoseProviderFailure({ error: 'invalid_grant', description: 'grant request is invalid' }),
    ).toEqual({
      reason: 'unknown',
      actor: 'outlink_admin',
      action: expect.stringMatching(/^Authorize the link again.*grant request is invalid/),
    });
    expect(diagnoseProviderFailure({ error: 'invalid_client', description: null }).action).toMatch(
      /client id and secret/,
    );
  });

  it('actionForLink fills in the link id', () => {
    const diagnosis = diagnoseProviderFailure({ error: 'invalid_grant', description: null });
    expect(actionForLink(diagnosis, 'abc').action).toContain('POST /v1/links/abc/authorize');
  });
});
