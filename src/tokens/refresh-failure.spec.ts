import { describe, expect, it } from '@jest/globals';
import { ProviderCallError } from '../providers/provider-error.js';
import { describeRefreshFailure, noRefreshTokenFailure } from './refresh-failure.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const connected = { status: 'connected' as const, refreshFailures: 0 };

describe('describeRefreshFailure', () => {
  it('sends invalid_grant to reauthorization_required with the provider words', () => {
    const failure = describeRefreshFailure(
      new ProviderCallError('invalid_grant', 'the token endpoint answered HTTP 400 invalid_grant', {
        oauthError: 'invalid_grant',
        description: 'grant request is invalid',
      }),
      connected,
      NOW,
    );
    expect(failure).toMatchObject({
      status: 'reauthorization_required',
      notBefore: null,
      failures: 0,
      lastError: { code: 'invalid_grant', at: NOW.toISOString() },
    });
    expect(failure.lastError.message).toContain('(grant request is invalid)');
    expect(failure.error.code).toBe('reauthorization_required');
  });

  it('says why, who must act and how, with the link id in the action (SPEC §13)', () => {
    const failure = describeRefreshFailure(
      new ProviderCallError('invalid_grant', 'answered HTTP 400 invalid_grant', {
        oauthError: 'invalid_grant',
        description: 'AADSTS50173: The provided grant has expired due to it being revoked.',
      }),
      { ...connected, id: 'link-1' },
      NOW,
    );
    expect(failure.lastError).toMatchObject({ reason: 'password_changed', actor: 'account_owner' });
    expect(failure.lastError.action).toContain('POST /v1/links/link-1/authorize');
    const transient = describeRefreshFailure(
      new ProviderCallError('transient', 'answered HTTP 503', { httpStatus: 503 }),
      connected,
      NOW,
    );
    expect(transient.lastError.reason).toBe('provider_unavailable');
    expect(noRefreshTokenFailure(NOW).lastError.reason).toBe('no_refresh_token');
  });

  it('sends a refused client to error, naming the OAuth error code', () => {
    const failure = describeRefreshFailure(
      new ProviderCallError('invalid_client', 'answered HTTP 401 invalid_client', {
        oauthError: 'invalid_client',
      }),
      connected,
      NOW,
    );
    expect(failure).toMatchObject({ status: 'error', lastError: { code: 'invalid_client' } });
    expect(failure.error.code).toBe('link_error');
  });

  it('keeps the status on a transient failure and backs off exponentially, never before Retry-After', () => {
    const transient = (retryAfterSeconds: number | null) =>
      new ProviderCallError('transient', 'the token endpoint answered HTTP 503', {
        httpStatus: 503,
        retryAfterSeconds,
      });
    // random() = 1: the full exponential delay, 1 s doubling per consecutive failure.
    const third = describeRefreshFailure(
      transient(null),
      { status: 'connected', refreshFailures: 2 },
      NOW,
      () => 1,
    );
    expect(third).toMatchObject({ status: 'connected', failures: 3 });
    expect(third.notBefore).toEqual(new Date(NOW.getTime() + 4_000));
    expect(third.error.headers).toEqual({ 'retry-after': '4' });

    const throttled = describeRefreshFailure(transient(120), connected, NOW, () => 0);
    expect(throttled.notBefore).toEqual(new Date(NOW.getTime() + 120_000));
  });

  it('describes a missing refresh token as needing consent again', () => {
    const failure = noRefreshTokenFailure(NOW);
    expect(failure).toMatchObject({
      status: 'reauthorization_required',
      lastError: { code: 'no_refresh_token', at: NOW.toISOString() },
    });
  });
});
