import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BACKEND } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The only routes that may answer without an API key (SPEC §3). Swagger UI is served by Fastify directly. */
const PUBLIC_ROUTES = new Set(['GET /health/live', 'GET /health/ready', 'GET /v1/oauth/callback']);
const SWAGGER_UI = /^\/docs(\/|$)/;
const SAMPLE_UUID = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

describe(`every non-public route needs a key (${BACKEND})`, () => {
  let t: TestApp;
  const routes: { method: string; url: string }[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    routes.push(...t.routes);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finds the routes it is meant to walk', () => {
    const names = routes.map((route) => `${route.method} ${route.url}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /v1/api-keys',
        'POST /v1/api-keys',
        'DELETE /v1/api-keys/:id',
        'GET /metrics',
      ]),
    );
  });

  it('answers 401 problem+json without a key on every non-public route', async () => {
    const checked: string[] = [];
    for (const { method, url } of routes) {
      const name = `${method} ${url}`;
      if (
        PUBLIC_ROUTES.has(name) ||
        SWAGGER_UI.test(url) ||
        method === 'HEAD' ||
        method === 'OPTIONS'
      )
        continue;
      const path = url.replace(/:[A-Za-z]+/g, SAMPLE_UUID);
      const response = await t.http()[method.toLowerCase() as 'get'](path).send({});
      expect({ name, status: response.status }).toEqual({ name, status: 401 });
      expect(response.headers['content-type']).toContain('application/problem+json');
      checked.push(name);
    }
    expect(checked.length).toBeGreaterThanOrEqual(4);
  });

  it('leaves the public routes open', async () => {
    await t.http().get('/health/live').expect(200);
    await t.http().get('/health/ready').expect(200);
    await t.http().get('/docs').expect(200);
  });
});
