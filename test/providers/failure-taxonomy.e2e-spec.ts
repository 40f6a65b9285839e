import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  connectLink,
  createCustomLink,
  expireStoredToken,
  linkOf,
} from '../support/connected-link.js';
import { startFaultServer, type FaultServer } from '../support/fault-server.js';
import { BACKEND } from '../support/test-database.js';
import { bearer } from '../support/test-app.js';
import { startWebhookApp, type WebhookApp } from '../support/webhook-app.js';

/**
 * Issue 12 point 1 (SPEC §13): a provider's refusal is explained with one set of words, the same
 * on the link's lastError, the audit trail, the webhook and the callback page.
 */
describe(`the failure taxonomy end to end (${BACKEND})`, () => {
  let w: WebhookApp;
  let faults: FaultServer;

  beforeAll(async () => {
    w = await startWebhookApp();
    faults = await startFaultServer();
  });
  afterAll(async () => {
    await w?.close();
    await faults?.close();
  });
  const admin = () => bearer(w.t.adminKey);

  it('Entra AADSTS700082 (refresh token inactive) names its reason, actor and action everywhere', async () => {
    faults.respondWith({ proxyTo: `${w.provider.issuer}/token` });
    const { id } = await connectLink(w.t, w.provider, { tokenEndpoint: faults.tokenEndpoint });
    await w.waitForMessagesAbout(id, 1);

    // Microsoft's real answer shape (learn.microsoft.com/entra/identity-platform/reference-error-codes).
    faults.respondWith({
      status: 400,
      body: JSON.stringify({
        error: 'invalid_grant',
        error_description:
          'AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2025-08-01T10:00:00.0000000Z and was inactive for 90.00:00:00.\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2025-11-20 10:00:00Z',
        error_codes: [700082],
      }),
    });
    const refused = await w.t.http().post(`/v1/links/${id}/refresh`).set(admin()).expect(409);
    expect(refused.body.code).toBe('reauthorization_required');

    const link = await linkOf(w.t, id);
    expect(link.status).toBe('reauthorization_required');
    expect(link.lastError).toEqual({
      code: 'invalid_grant',
      message: expect.stringContaining('AADSTS700082'),
      at: expect.any(String),
      reason: 'refresh_token_inactive',
      actor: 'outlink_admin',
      action: expect.stringContaining(`POST /v1/links/${id}/authorize`),
    });

    const events = (await w.t.http().get(`/v1/links/${id}/events`).set(admin()).expect(200)).body
      .items as { type: string; detail: Record<string, unknown> }[];
    expect(events.find((event) => event.type === 'refresh_failed')?.detail).toMatchObject({
      reason: 'refresh_token_inactive',
      actor: 'outlink_admin',
      action: link.lastError.action,
    });

    await w.waitForMessagesAbout(id, 2);
    const announced = w.messagesAbout(id)[1];
    expect(announced.type).toBe('link.reauthorization_required');
    expect(announced.data).toMatchObject({
      reason: 'refresh_token_inactive',
      actor: 'outlink_admin',
      action: link.lastError.action,
    });
  });

  it('a client secret Entra says expired (AADSTS7000222) is for the provider admin', async () => {
    faults.respondWith({ proxyTo: `${w.provider.issuer}/token` });
    const { id } = await connectLink(w.t, w.provider, { tokenEndpoint: faults.tokenEndpoint });
    faults.respondWith({
      status: 401,
      body: JSON.stringify({
        error: 'invalid_client',
        error_description:
          "AADSTS7000222: The provided client secret keys for app '00001111-aaaa-2222-bbbb-3333cccc4444' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
      }),
    });
    await w.t.http().post(`/v1/links/${id}/refresh`).set(admin()).expect(409);
    expect((await linkOf(w.t, id)).lastError).toMatchObject({
      code: 'invalid_client',
      reason: 'client_secret_expired',
      actor: 'provider_admin',
    });
  });

  it('the callback page says who must act when the provider refuses the authorization (Google admin_policy_enforced)', async () => {
    const { id } = await createCustomLink(w.t, w.provider);
    const started = await w.t.http().post(`/v1/links/${id}/authorize`).set(admin()).expect(201);
    const state = new URL(started.body.authorizationUrl as string).searchParams.get('state')!;
    const page = await w.t
      .http()
      .get(`/v1/oauth/callback?state=${state}&error=admin_policy_enforced`)
      .expect(400);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('actor: provider_admin');
    expect(page.text).toContain('A Google Workspace admin must trust the app');

    const events = (await w.t.http().get(`/v1/links/${id}/events`).set(admin()).expect(200)).body
      .items as { type: string; detail: Record<string, unknown> }[];
    expect(events.find((event) => event.type === 'authorization_failed')?.detail).toMatchObject({
      error: 'admin_policy_enforced',
      reason: 'admin_policy_enforced',
      actor: 'provider_admin',
    });
  });

  it("logs a failed refresh that a token request caused with that request's id", async () => {
    faults.respondWith({ proxyTo: `${w.provider.issuer}/token` });
    const { id } = await connectLink(w.t, w.provider, { tokenEndpoint: faults.tokenEndpoint });
    faults.respondWith({ status: 500, body: '{}' });
    await expireStoredToken(w.t, id);
    // The token route enters the request's log context only when the cache cannot answer (issue 10).
    await w.t.http().get(`/v1/links/${id}/token`).set(admin()).set('x-request-id', 'token-miss-1');
    const records = w.t.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const failure = records.find(
      (record) =>
        typeof record.msg === 'string' && record.msg.startsWith(`Refresh of link ${id} failed`),
    );
    expect(failure).toMatchObject({ requestId: 'token-miss-1', context: 'RefreshCall' });
  });
});
