import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const WRONG_KEY = `olk_${'W'.repeat(40)}`;
const FORWARDED_FOR = 'x-forwarded-for';

async function withApp(env: Record<string, string>, use: (t: TestApp) => Promise<void>) {
  const t = await startTestApp({ env });
  try {
    await use(t);
  } finally {
    await t.close();
  }
}

/** One request with a wrong key, as the client at `forwardedFor` (through a proxy) when given. */
async function wrongKeyStatus(t: TestApp, forwardedFor?: string): Promise<number> {
  const request = t.http().get('/v1/api-keys').set(bearer(WRONG_KEY));
  if (forwardedFor !== undefined) void request.set(FORWARDED_FOR, forwardedFor);
  return (await request).status;
}

describe(`failed-auth limit (${BACKEND})`, () => {
  it('answers further wrong keys with 429 and Retry-After once the limit is reached', async () => {
    await withApp({ AUTH_FAILURES_PER_MINUTE: '5' }, async (t) => {
      for (let attempt = 0; attempt < 5; attempt++) expect(await wrongKeyStatus(t)).toBe(401);
      const limited = await t.http().get('/v1/api-keys').set(bearer(WRONG_KEY)).expect(429);
      expect(limited.headers['content-type']).toContain('application/problem+json');
      expect(limited.body.code).toBe('too_many_requests');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // A missing key is not a guess: it is not counted, and not refused with 429.
      expect((await t.http().get('/v1/api-keys')).status).toBe(401);
      await t.http().get('/health/live').expect(200);
    });
  });

  // Regression: the limiter refused before checking the key, so 20 junk requests a minute from
  // behind the same address (an ingress) locked every consumer out.
  it('serves a valid key from an address that has sent 200 wrong keys', async () => {
    await withApp({}, async (t) => {
      const statuses = new Map<number, number>();
      for (let attempt = 0; attempt < 200; attempt++) {
        const status = await wrongKeyStatus(t);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      // The default limit is 20 failures a minute: the rest were refused as too many.
      expect(Object.fromEntries(statuses)).toEqual({ 401: 20, 429: 180 });

      await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
      const consumer = await t
        .http()
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .send({ name: 'mail-handler', role: 'consumer', linkIds: [randomUUID()] })
        .expect(201);
      // Authenticated (then refused for an admin-only route): not 429.
      await t.http().get('/v1/api-keys').set(bearer(consumer.body.key)).expect(403);
      // Failed attempts from the address are still refused.
      expect(await wrongKeyStatus(t)).toBe(429);
    });
  });

  it('with TRUST_PROXY, limits each forwarded client separately and logs its address', async () => {
    await withApp({ AUTH_FAILURES_PER_MINUTE: '5', TRUST_PROXY: '127.0.0.1' }, async (t) => {
      // Both clients reach Outlink through the same proxy (this test's loopback address).
      for (let attempt = 0; attempt < 5; attempt++)
        expect(await wrongKeyStatus(t, '203.0.113.7')).toBe(401);
      expect(await wrongKeyStatus(t, '203.0.113.7')).toBe(429);
      expect(await wrongKeyStatus(t, '203.0.113.8')).toBe(401);
      // The address the proxy itself would be limited under is untouched too.
      expect(await wrongKeyStatus(t)).toBe(401);
      expect(t.logs.text).toContain('"remoteAddress":"203.0.113.7"');
    });
  });

  it('with a hop count as TRUST_PROXY, takes the address that many proxies away', async () => {
    await withApp({ AUTH_FAILURES_PER_MINUTE: '5', TRUST_PROXY: '1' }, async (t) => {
      // One proxy: the address it appended is the client; what the client claimed is not.
      for (let attempt = 0; attempt < 5; attempt++)
        expect(await wrongKeyStatus(t, `198.51.100.${attempt}, 203.0.113.7`)).toBe(401);
      expect(await wrongKeyStatus(t, '198.51.100.99, 203.0.113.7')).toBe(429);
      expect(await wrongKeyStatus(t, '203.0.113.8')).toBe(401);
      expect(t.logs.text).toContain('"remoteAddress":"203.0.113.7"');
      expect(t.logs.text).not.toContain('198.51.100.');
    });
  });

  it('without TRUST_PROXY, ignores X-Forwarded-For: a client cannot pick its own address', async () => {
    await withApp({ AUTH_FAILURES_PER_MINUTE: '5' }, async (t) => {
      for (let attempt = 0; attempt < 5; attempt++)
        expect(await wrongKeyStatus(t, `203.0.113.${attempt}`)).toBe(401);
      expect(await wrongKeyStatus(t, '203.0.113.99')).toBe(429);
      expect(t.logs.text).not.toContain('203.0.113.');
    });
  });
});
