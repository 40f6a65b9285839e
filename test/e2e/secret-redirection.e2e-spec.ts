import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LINK_REFRESH_TOKEN } from '../../src/database/encrypted-columns.js';
import { connectLink, linkOf, storedSecret } from '../support/connected-link.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

/** An endpoint an attacker controls: it records every request Outlink sends it. */
async function startCatcher(): Promise<{
  url: string;
  received: string[];
  close(): Promise<void>;
}> {
  const received: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(
        `${request.headers.authorization ?? ''} ${Buffer.concat(chunks).toString('utf8')}`,
      );
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// SPEC §11 "No way to redirect a stored secret". Regression: PATCHing revocationEndpoint on a
// connected link kept it connected, and DELETE then sent the refresh token and the client secret
// (Basic auth) to the new URL.
describe(`changing where a link's secrets go (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;
  let catcher: Awaited<ReturnType<typeof startCatcher>>;

  beforeAll(async () => {
    t = await startTestApp({
      env: { ALLOW_INSECURE_ENDPOINTS: 'true', PUBLIC_BASE_URL: 'http://127.0.0.1:39990' },
    });
    provider = await startTestProvider({ redirectUri: t.config.redirectUrl });
    catcher = await startCatcher();
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
    await catcher?.close();
  });

  const patch = (id: string, body: Record<string, unknown>) =>
    t.http().patch(`/v1/links/${id}`).set(bearer(t.adminKey)).send(body);

  it('refuses a new revocation endpoint without a new secret, so DELETE cannot send the stored ones there', async () => {
    const { id } = await connectLink(t, provider);
    const refreshToken = await storedSecret(t, LINK_REFRESH_TOKEN, id);

    const refused = await patch(id, { revocationEndpoint: `${catcher.url}/revoke` }).expect(400);
    expect(refused.body.code).toBe('client_secret_required');
    expect(refused.body.errors).toEqual([
      { field: 'clientSecret', message: expect.stringMatching(/revocationEndpoint/) },
    ]);
    expect(await linkOf(t, id)).toMatchObject({
      status: 'connected',
      revocationEndpoint: null,
      refreshTokenPresent: true,
    });

    await t.http().delete(`/v1/links/${id}`).set(bearer(t.adminKey)).expect(204);
    const sent = catcher.received.join('\n');
    expect(sent).not.toContain(refreshToken);
    expect(sent).not.toContain(Buffer.from(provider.clientSecret).toString('base64'));
    expect(sent).not.toContain(provider.clientSecret);
  });

  it.each([
    ['revocationEndpoint', (c: string) => `${c}/revoke`],
    ['tokenEndpoint', (c: string) => `${c}/token`],
    ['authorizationEndpoint', (c: string) => `${c}/authorize`],
    ['tokenEndpointAuthMethod', () => 'client_secret_post'],
    ['clientId', () => 'another-client'],
  ])(
    'a change of %s with a new secret drops the tokens and asks for authorization again',
    async (field, value) => {
      const { id } = await connectLink(t, provider);
      await patch(id, { [field]: value(catcher.url) }).expect(400);
      const changed = await patch(id, {
        [field]: value(catcher.url),
        clientSecret: 'a-new-secret',
      }).expect(200);
      expect(changed.body).toMatchObject({
        status: 'pending_authorization',
        refreshTokenPresent: false,
        accessTokenExpiresAt: null,
        [field]: value(catcher.url),
      });
      const [row] = await t.dataSource.query(
        'SELECT access_token_encrypted, refresh_token_encrypted FROM links WHERE id = $1',
        [id],
      );
      expect(row).toEqual({ access_token_encrypted: null, refresh_token_encrypted: null });
    },
  );

  it('refuses a provider change without a secret, and lets renaming and scope changes through', async () => {
    const { id } = await connectLink(t, provider);
    const refused = await patch(id, { provider: 'google', scopePreset: 'imap' }).expect(400);
    expect(refused.body.code).toBe('client_secret_required');
    await patch(id, { name: 'Renamed' }).expect(200);
    expect((await linkOf(t, id)).status).toBe('connected');
    // Scopes void the grant (SPEC §5) but send no secret anywhere new: no secret needed.
    const rescoped = await patch(id, { scopes: ['openid'] }).expect(200);
    expect(rescoped.body.status).toBe('pending_authorization');
  });
});
