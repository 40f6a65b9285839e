import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectLink, linkOf } from '../support/connected-link.js';
import { startCountingProxy, type LoopbackListener } from '../support/loopback-listener.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Issue 9, point 6: the address is checked again when Outlink connects, not only when an admin
 * saves an endpoint (a DNS answer can change in between). Here a link is stored while loopback
 * is an exception, then used by a replica on the same database without the exception: the
 * refresh and the revocation fail before any connection reaches the provider.
 */
describe(`outbound policy: the resolved address is checked at connect time (${BACKEND})`, () => {
  let allowing: TestApp;
  let strict: TestApp | undefined;
  let provider: TestProvider;
  let proxy: LoopbackListener;
  let linkId: string;
  const ENV = { ALLOW_INSECURE_ENDPOINTS: 'true', PUBLIC_BASE_URL: 'http://127.0.0.1:39990' };

  beforeAll(async () => {
    allowing = await startTestApp({ env: { ...ENV, OUTBOUND_ALLOW: '127.0.0.1' } });
    provider = await startTestProvider({ redirectUri: allowing.config.redirectUrl });
    proxy = await startCountingProxy(provider.issuer);
    ({ id: linkId } = await connectLink(allowing, provider, {
      tokenEndpoint: `${proxy.url}/token`,
      revocationEndpoint: `${proxy.url}/token/revocation`,
    }));
    expect(proxy.connections).toBeGreaterThan(0); // the code exchange went through the proxy
    await allowing.closeApp();
    strict = await startTestApp({
      database: allowing.database,
      env: { ...ENV, OUTBOUND_ALLOW: '', ADMIN_API_KEY: allowing.adminKey },
    });
  });
  afterAll(async () => {
    await strict?.closeApp();
    await allowing?.database.dispose();
    await provider?.close();
    await proxy?.close();
  });

  it('refuses the refresh at connect time: nothing reaches the listener', async () => {
    const before = proxy.connections;
    const refreshesBefore = provider.grantCounts().refresh_token ?? 0;

    const response = await strict!
      .http()
      .post(`/v1/links/${linkId}/refresh`)
      .set(bearer(strict!.adminKey));

    expect(response.status).toBe(409);
    expect(response.body.code).toBe('link_error');
    expect(proxy.connections).toBe(before);
    expect(provider.grantCounts().refresh_token ?? 0).toBe(refreshesBefore);
    const link = await linkOf(strict!, linkId);
    expect(link.lastError.message).toMatch(/outbound policy/);
    expect(link.lastError.message).toMatch(/OUTBOUND_ALLOW/);
  });

  it('refuses the revocation on delete at connect time and records why', async () => {
    const before = proxy.connections;

    await strict!.http().delete(`/v1/links/${linkId}`).set(bearer(strict!.adminKey)).expect(204);

    expect(proxy.connections).toBe(before);
    const events = await strict!
      .http()
      .get(`/v1/links/${linkId}/events`)
      .set(bearer(strict!.adminKey))
      .expect(200);
    const revoked = (events.body.items as { type: string; detail: Record<string, unknown> }[]).find(
      (event) => event.type === 'revoked',
    );
    expect(revoked?.detail).toEqual({
      revoked: false,
      reason: expect.stringMatching(/outbound policy/),
    });
  });
});
