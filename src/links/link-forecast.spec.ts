import { describe, expect, it } from '@jest/globals';
import { dueNoticeDaysAhead, nextRisk, type ForecastInput } from './link-forecast.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const inDays = (days: number) => new Date(NOW.getTime() + days * 24 * 60 * 60 * 1000);
const link: ForecastInput = {
  id: 'link-1',
  status: 'connected',
  refreshTokenPresent: true,
  refreshTokenExpiresAt: null,
  clientSecretExpiresAt: null,
};

describe('nextRisk', () => {
  it('is null when nothing is known to expire', () => {
    expect(nextRisk(link, NOW)).toBeNull();
  });

  it('names the soonest expiry, who must act and how', () => {
    const risk = nextRisk(
      { ...link, refreshTokenExpiresAt: inDays(30), clientSecretExpiresAt: inDays(10.5) },
      NOW,
    );
    expect(risk).toEqual({
      reason: 'client_secret_expires',
      at: inDays(10.5).toISOString(),
      daysLeft: 10,
      actor: 'provider_admin',
      action: expect.stringContaining('PATCH /v1/links/link-1'),
    });
    expect(
      nextRisk(
        { ...link, refreshTokenExpiresAt: inDays(2), clientSecretExpiresAt: inDays(10) },
        NOW,
      ),
    ).toMatchObject({ reason: 'refresh_token_expires', daysLeft: 2, actor: 'outlink_admin' });
  });

  it('ignores a refresh token expiry once the link no longer uses it', () => {
    const expiring = { ...link, refreshTokenExpiresAt: inDays(2) };
    expect(nextRisk({ ...expiring, status: 'reauthorization_required' }, NOW)).toBeNull();
    expect(nextRisk({ ...expiring, refreshTokenPresent: false }, NOW)).toBeNull();
  });

  it('watches the next secret instead of the current one once there is one', () => {
    const rotating = { ...link, clientSecretExpiresAt: inDays(2), hasNextClientSecret: true };
    expect(nextRisk(rotating, NOW)).toBeNull();
    expect(nextRisk({ ...rotating, nextClientSecretExpiresAt: inDays(200) }, NOW)).toMatchObject({
      reason: 'client_secret_expires',
      daysLeft: 200,
    });
  });

  it('reports a past expiry with negative days left', () => {
    expect(nextRisk({ ...link, clientSecretExpiresAt: inDays(-1.5) }, NOW)?.daysLeft).toBe(-2);
  });
});

describe('dueNoticeDaysAhead', () => {
  it.each([
    [20, null],
    [14.01, null],
    [14, 14],
    [13, 14],
    [3.5, 14],
    [3, 3],
    [2, 3],
    [1, 1],
    [0.1, 1],
    [0, null],
    [-1, null],
  ])('%d days ahead -> %p', (days, expected) => {
    expect(dueNoticeDaysAhead(inDays(days), NOW)).toBe(expected);
  });
});
