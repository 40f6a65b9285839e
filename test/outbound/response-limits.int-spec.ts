import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import {
  closedPort,
  startHttpListener,
  startTcpListener,
  type LoopbackListener,
} from '../support/loopback-listener.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const MIB = 1024 * 1024;

/** A discovery document for `issuer`, padded to about `size` bytes. */
function discoveryDocument(issuer: string, size = 0): string {
  const document = {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    padding: '',
  };
  document.padding = 'x'.repeat(Math.max(0, size - JSON.stringify(document).length));
  return JSON.stringify(document);
}

/** Sends `body` in chunks without a content-length: only counting the bytes can stop it. */
function sendChunked(response: ServerResponse, body: string): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  for (let offset = 0; offset < body.length; offset += 64 * 1024) {
    response.write(body.slice(offset, offset + 64 * 1024));
  }
  response.end();
}

/**
 * Issue 9, point 6 and SPEC §11: redirects are not followed, answers over 1 MiB are refused, and
 * discovery errors do not tell a closed port from an open one (the loopback exception of
 * startTestApp lets these tests reach their servers).
 */
describe(`outbound HTTP limits (${BACKEND})`, () => {
  let t: TestApp;
  let redirectTarget: LoopbackListener;
  let server: LoopbackListener;
  let nextAnswer: (response: ServerResponse, issuer: string) => void;

  beforeAll(async () => {
    t = await startTestApp({
      env: { ALLOW_INSECURE_ENDPOINTS: 'true', PROVIDER_TIMEOUT_SECONDS: '1', LOG_LEVEL: 'debug' },
    });
    redirectTarget = await startHttpListener((_request, response) =>
      response.end(discoveryDocument('http://elsewhere')),
    );
    server = await startHttpListener((_request, response) => nextAnswer(response, server.url));
  });
  afterAll(async () => {
    await t?.close();
    await redirectTarget?.close();
    await server?.close();
  });

  const create = (body: object) => t.http().post('/v1/links').set(bearer(t.adminKey)).send(body);
  const discoveryLink = (issuer: string) => ({
    name: 'discovered',
    provider: 'custom',
    clientId: 'client',
    clientSecret: 'client-secret-never-shown',
    scopes: ['openid'],
    issuer,
  });
  const issuerMessage = async (issuer: string): Promise<string> => {
    const response = await create(discoveryLink(issuer)).expect(400);
    expect(response.body.errors).toEqual([{ field: 'issuer', message: expect.any(String) }]);
    return response.body.errors[0].message as string;
  };

  it('gives one message for a closed port, an open non-HTTP port, a silent one and a reset', async () => {
    const banner = await startTcpListener();
    const silent = await startTcpListener(() => undefined);
    const reset = await startTcpListener((socket) => socket.resetAndDestroy());
    try {
      const messages = {
        closed: await issuerMessage(`http://127.0.0.1:${await closedPort()}`),
        banner: await issuerMessage(banner.url),
        silent: await issuerMessage(silent.url),
        reset: await issuerMessage(reset.url),
      };

      expect(new Set(Object.values(messages)).size).toBe(1);
      expect(messages.closed).not.toMatch(/refused|reset|time|closed|ECONN|parse/i);
      expect(banner.connections).toBeGreaterThan(0); // the open ports were really reached
      expect(silent.connections).toBeGreaterThan(0);
      // The operator still finds out which it was, at debug level, without the client secret.
      const details = t.logs.lines.filter((line) => line.includes('gave no HTTP answer: '));
      expect(details.some((line) => line.includes('ECONNREFUSED'))).toBe(true);
      expect(details.some((line) => /TimeoutError|aborted/i.test(line))).toBe(true);
      expect(t.logs.text).not.toContain('client-secret-never-shown');
    } finally {
      await Promise.all([banner.close(), silent.close(), reset.close()]);
    }
  });

  it('does not follow a redirect of the discovery document', async () => {
    nextAnswer = (response) =>
      response
        .writeHead(302, { location: `${redirectTarget.url}/.well-known/openid-configuration` })
        .end();

    expect(await issuerMessage(server.url)).toMatch(/redirect/);
    expect(redirectTarget.connections).toBe(0);
  });

  it('refuses a discovery document over 1 MiB, with or without content-length', async () => {
    nextAnswer = (response, issuer) =>
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(discoveryDocument(issuer, MIB + 1));
    expect(await issuerMessage(server.url)).toMatch(/1 MiB/);

    nextAnswer = (response, issuer) => sendChunked(response, discoveryDocument(issuer, 4 * MIB));
    expect(await issuerMessage(server.url)).toMatch(/1 MiB/);
  });

  it('accepts a discovery document of exactly 1 MiB', async () => {
    nextAnswer = (response, issuer) => sendChunked(response, discoveryDocument(issuer, MIB));

    const created = await create(discoveryLink(server.url)).expect(201);

    expect(created.body.tokenEndpoint).toBe(`${server.url}/token`);
  });

  describe('on the token endpoint', () => {
    const tokenAnswer = (padding: number): string =>
      JSON.stringify({
        access_token: 'at',
        token_type: 'Bearer',
        expires_in: 3600,
        padding: 'x'.repeat(padding),
      });
    const clientCredentialsLink = async (): Promise<string> =>
      (
        await create({
          name: 'service',
          provider: 'custom',
          grantType: 'client_credentials',
          clientId: 'client',
          clientSecret: 'client-secret-never-shown',
          scopes: ['api'],
          tokenEndpoint: `${server.url}/token`,
        }).expect(201)
      ).body.id as string;
    const refresh = (id: string) =>
      t.http().post(`/v1/links/${id}/refresh`).set(bearer(t.adminKey));

    it('treats an answer over 1 MiB as a provider failure, then works with a normal one', async () => {
      const id = await clientCredentialsLink();
      nextAnswer = (response) => sendChunked(response, tokenAnswer(2 * MIB));

      const refused = await refresh(id).expect(503);
      expect(refused.body.code).toBe('provider_unavailable');

      nextAnswer = (response) =>
        response.writeHead(200, { 'content-type': 'application/json' }).end(tokenAnswer(0));
      await t.dataSource.query('UPDATE links SET refresh_not_before = NULL WHERE id = $1', [id]);
      const served = await refresh(id).expect(200);
      expect(served.body.status).toBe('connected');
    });

    it('does not follow a redirect of the token endpoint', async () => {
      const id = await clientCredentialsLink();
      nextAnswer = (response) =>
        response.writeHead(307, { location: `${redirectTarget.url}/token` }).end();

      const refused = await refresh(id);

      expect(refused.status).toBe(409);
      expect(redirectTarget.connections).toBe(0);
    });
  });
});
