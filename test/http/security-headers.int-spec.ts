import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type AddressInfo } from 'node:net';
import type { Response } from 'supertest';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const SAMPLE_UUID = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
/** The callback page's own policy (oauth-callback.controller.ts), stricter than the default. */
const CALLBACK_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/** A path that reaches the route: parameters get a sample UUID, wildcards a real asset. */
const pathOf = (url: string): string =>
  url.replace(/:[A-Za-z]+/g, SAMPLE_UUID).replace(/\*$/, 'swagger-ui.css');

const directivesOf = (policy: string): string[] =>
  policy.split(';').map((directive) => directive.trim());

/** Sends the bytes as they are and returns the raw answer (for what Node refuses itself). */
async function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(request);
  });
}

describe(`security headers (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const expectNosniff = (name: string, response: Response): void =>
    expect({ name, nosniff: response.headers['x-content-type-options'] }).toEqual({
      name,
      nosniff: 'nosniff',
    });

  it('sends nosniff on every answer of every route the app registers, with and without a key', async () => {
    const answered = new Set<number>();
    for (const { method, url } of t.routes) {
      for (const key of [undefined, t.adminKey]) {
        const request = t.http()[method.toLowerCase() as 'get'](pathOf(url));
        if (key !== undefined) void request.set(bearer(key));
        const response =
          method === 'GET' || method === 'HEAD' ? await request : await request.send({});
        expectNosniff(`${method} ${url} ${key ? 'with' : 'without'} a key`, response);
        answered.add(response.status);
      }
    }
    // The walk met successes, refusals and validation errors alike.
    expect([...answered]).toEqual(expect.arrayContaining([200, 400, 401, 404]));
    expect(t.routes.length).toBeGreaterThan(20);
  });

  it('sends nosniff on errors answered before any route runs', async () => {
    expectNosniff('unknown route', await t.http().get('/v1/no-such-thing'));
    expectNosniff('bad percent-encoding', await t.http().get('/v1/links/%FF'));
    expectNosniff(
      'path parameter too long',
      await t
        .http()
        .get(`/v1/links/${'a'.repeat(200)}`)
        .set(bearer(t.adminKey)),
    );
    expectNosniff(
      'body too large',
      await t
        .http()
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .send({ name: 'x'.repeat(70_000), role: 'admin' }),
    );

    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const answer = await rawExchange(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.toLowerCase()).toContain('\r\nx-content-type-options: nosniff\r\n');
  });

  it('keeps /docs out of frames, and Swagger UI served', async () => {
    for (const path of ['/docs', '/docs/', '/docs/swagger-ui-init.js', '/docs/openapi.json']) {
      const response = await t.http().get(path).expect(200);
      expectNosniff(path, response);
      expect({ path, frame: response.headers['x-frame-options'] }).toEqual({
        path,
        frame: 'DENY',
      });
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
    const page = await t.http().get('/docs').expect(200);
    // What Swagger UI needs: its own scripts and styles, inline styles and data: images.
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/style-src 'self' 'unsafe-inline'/);
    expect(csp).toMatch(/img-src 'self' data:/);
    expect(csp).not.toContain("'unsafe-eval'");
  });

  it("refuses framing and everything else on API answers, and keeps the callback page's own policy", async () => {
    const api = await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    expect(api.headers['x-frame-options']).toBe('DENY');
    expect(directivesOf(api.headers['content-security-policy'])).toEqual([
      "default-src 'none'",
      "frame-ancestors 'none'",
    ]);
    // JSON answers carry no headers meant for documents (issue 10: each costs every answer).
    for (const documentOnly of [
      'cross-origin-opener-policy',
      'origin-agent-cluster',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-xss-protection',
    ])
      expect({ documentOnly, value: api.headers[documentOnly] }).toEqual({
        documentOnly,
        value: undefined,
      });

    const callback = await t.http().get('/v1/oauth/callback?state=unknown&code=x');
    expect(callback.headers['content-type']).toContain('text/html');
    expectNosniff('callback page', callback);
    expect(callback.headers['content-security-policy']).toBe(CALLBACK_CSP);
    expect(callback.headers['x-frame-options']).toBe('DENY');
    expect(callback.headers['referrer-policy']).toBe('no-referrer');
    expect(callback.headers['cache-control']).toBe('no-store');
    // An HTML page: helmet's headers for documents too.
    expect(callback.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(callback.headers['origin-agent-cluster']).toBe('?1');
  });
});
