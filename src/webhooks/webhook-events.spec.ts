import { describe, expect, it } from '@jest/globals';
import {
  linkEventPayload,
  testPayload,
  webhookEventFor,
  type LinkSnapshot,
} from './webhook-events.js';

const AT = new Date('2025-11-20T10:00:00.000Z');
const LINK: LinkSnapshot = {
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  name: 'Support mailbox',
  status: 'reauthorization_required',
  deleted: false,
  lastError: {
    code: 'invalid_grant',
    message: 'The provider rejected the refresh token.',
    at: AT.toISOString(),
  },
};

describe('webhookEventFor', () => {
  it.each([
    ['pending_authorization', 'connected', 'link.connected'],
    ['reauthorization_required', 'connected', 'link.recovered'],
    ['error', 'connected', 'link.recovered'],
    ['connected', 'reauthorization_required', 'link.reauthorization_required'],
    ['pending_authorization', 'reauthorization_required', 'link.reauthorization_required'],
    ['connected', 'error', 'link.error'],
    ['connected', 'pending_authorization', null],
    ['error', 'pending_authorization', null],
  ])('status_changed from %s to %s is %s', (from, to, expected) => {
    expect(webhookEventFor('status_changed', { from, to, reason: 'x' })).toBe(expected);
  });

  it.each([
    ['deleted', 'link.deleted'],
    ['expiring', 'link.expiring'],
    ['mail_check_failed', 'link.mail_check_failed'],
    ['created', null],
    ['updated', null],
    ['refreshed', null],
    ['refresh_failed', null],
    ['authorized', null],
    ['revoked', null],
  ])('%s is %s', (type, expected) => {
    expect(webhookEventFor(type, {})).toBe(expected);
  });
});

describe('linkEventPayload', () => {
  it('describes a broken link from its lastError, with fallback advice before the taxonomy', () => {
    const payload = linkEventPayload(
      'link.reauthorization_required',
      { from: 'connected', to: 'reauthorization_required', reason: 'invalid_grant' },
      LINK,
      AT,
    );
    expect(payload).toEqual({
      type: 'link.reauthorization_required',
      timestamp: '2025-11-20T10:00:00.000Z',
      data: {
        linkId: LINK.id,
        linkName: 'Support mailbox',
        status: 'reauthorization_required',
        previousStatus: 'connected',
        reason: 'invalid_grant',
        actor: 'outlink_admin',
        action: `Authorize the link again: POST /v1/links/${LINK.id}/authorize, then sign in and consent at the provider.`,
      },
    });
  });

  it("prefers the failure taxonomy's reason, actor and action when lastError has them", () => {
    const payload = linkEventPayload(
      'link.error',
      { from: 'connected', to: 'error', reason: 'invalid_client' },
      {
        ...LINK,
        status: 'error',
        lastError: {
          code: 'invalid_client',
          message: 'AADSTS7000222: The provided client secret keys are expired.',
          at: AT.toISOString(),
          reason: 'client_secret_expired',
          actor: 'provider_admin',
          action: 'Create a new client secret in Entra ID and PATCH it as clientSecret.',
        },
      },
      AT,
    );
    expect(payload.data).toMatchObject({
      status: 'error',
      previousStatus: 'connected',
      reason: 'client_secret_expired',
      actor: 'provider_admin',
      action: 'Create a new client secret in Entra ID and PATCH it as clientSecret.',
    });
  });

  it('announces a recovery with the reason of the status change and nobody to act', () => {
    const payload = linkEventPayload(
      'link.recovered',
      { from: 'reauthorization_required', to: 'connected', reason: 'authorized' },
      { ...LINK, status: 'connected', lastError: null },
      AT,
    );
    expect(payload.data).toEqual({
      linkId: LINK.id,
      linkName: 'Support mailbox',
      status: 'connected',
      previousStatus: 'reauthorization_required',
      reason: 'authorized',
      actor: null,
      action: null,
    });
  });

  it('gives a deleted link no status and the one it had as previousStatus', () => {
    const payload = linkEventPayload(
      'link.deleted',
      { name: 'Support mailbox' },
      { ...LINK, status: 'connected', deleted: true, lastError: null },
      AT,
    );
    expect(payload.data).toMatchObject({
      status: null,
      previousStatus: 'connected',
      reason: null,
      actor: null,
      action: null,
    });
  });

  it("takes a forecast's risk, expiry and notice from the event, not from an older lastError", () => {
    const payload = linkEventPayload(
      'link.expiring',
      { risk: 'client_secret_expires', expiresAt: '2025-12-04T00:00:00.000Z', daysAhead: 14 },
      { ...LINK, status: 'connected' },
      AT,
    );
    expect(payload.data).toMatchObject({
      status: 'connected',
      previousStatus: null,
      reason: 'client_secret_expires',
      expiresAt: '2025-12-04T00:00:00.000Z',
      daysAhead: 14,
    });
  });

  it('copies only named fields: nothing else of the event or the link gets in', () => {
    const payload = linkEventPayload(
      'link.reauthorization_required',
      {
        from: 'connected',
        to: 'reauthorization_required',
        reason: 'invalid_grant',
        refreshToken: 'rt-never-sent',
        clientSecret: 'cs-never-sent',
      },
      { ...LINK, lastError: { ...LINK.lastError, accessToken: 'at-never-sent' } },
      AT,
    );
    expect(Object.keys(payload.data).sort()).toEqual(
      ['action', 'actor', 'linkId', 'linkName', 'previousStatus', 'reason', 'status'].sort(),
    );
    expect(JSON.stringify(payload)).not.toMatch(/never-sent/);
  });
});

describe('testPayload', () => {
  it('names the webhook', () => {
    expect(testPayload('6b1f3c1e-0000-4000-8000-000000000000', AT)).toEqual({
      type: 'webhook.test',
      timestamp: '2025-11-20T10:00:00.000Z',
      data: {
        webhookId: '6b1f3c1e-0000-4000-8000-000000000000',
        message: expect.stringContaining('reachable'),
      },
    });
  });
});
