import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTcpListener, type LoopbackListener } from '../support/loopback-listener.js';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const PUBLIC = 'https://idp.example.com';
const ENDPOINT_FIELDS = ['authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint'] as const;

/**
 * Issue 9, point 6: discovery and explicit endpoints accepted loopback, private and link-local
 * targets, so an admin key could make Outlink call the cloud metadata service or scan the
 * internal network. Without OUTBOUND_ALLOW each of these is refused before any packet is sent.
 */
describe(`outbound policy: non-public endpoints are refused at create and update (${BACKEND})`, () => {
  let t: TestApp;
  let ipv4: LoopbackListener;
  let ipv6: LoopbackListener;
  let targets: [string, string][];

  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW: '', ALLOW_INSECURE_ENDPOINTS: 'true' } });
    ipv4 = await startTcpListener(undefined, '127.0.0.1');
    ipv6 = await startTcpListener(undefined, '::1');
    targets = [
      ['the cloud metadata address 169.254.169.254', 'http://169.254.169.254'],
      ['the private address 10.0.0.1', 'http://10.0.0.1'],
      ['the CGNAT address 100.64.0.1', 'http://100.64.0.1'],
      ['the unique-local address fd00::1', 'http://[fd00::1]'],
      ['the IPv6 loopback [::1]', ipv6.url],
      ['the IPv4 loopback 127.0.0.1', ipv4.url],
      ['the IPv4-mapped loopback [::ffff:127.0.0.1]', `http://[::ffff:127.0.0.1]:${ipv4.port}`],
      [
        'the unspecified address 0.0.0.0 (Linux connects it to loopback)',
        `http://0.0.0.0:${ipv4.port}`,
      ],
      ['the host name localhost, which resolves to 127.0.0.1', `http://localhost:${ipv4.port}`],
    ];
  });
  afterAll(async () => {
    await t?.close();
    await ipv4?.close();
    await ipv6?.close();
  });

  const create = (body: object) => t.http().post('/v1/links').set(bearer(t.adminKey)).send(body);
  const linkCount = async (): Promise<number> =>
    (await t.dataSource.query('SELECT count(*)::int AS n FROM links'))[0].n as number;
  const custom = {
    name: 'probe',
    provider: 'custom',
    clientId: 'client',
    clientSecret: 'client-secret-never-shown',
    scopes: ['openid'],
  };

  function expectRefused(body: Record<string, unknown>, field: string): void {
    expect(body).toMatchObject({
      status: 400,
      code: 'endpoint_not_allowed',
      type: 'urn:outlink:problem:endpoint_not_allowed',
    });
    expect(body.errors).toEqual([{ field, message: expect.stringContaining('OUTBOUND_ALLOW') }]);
    expect(JSON.stringify(body)).not.toContain('client-secret-never-shown');
  }

  it('refuses an issuer at each non-public target without fetching its discovery document', async () => {
    const before = await linkCount();
    for (const [, url] of targets) {
      const response = await create({ ...custom, issuer: url }).expect(400);
      expectRefused(response.body, 'issuer');
    }
    expect(await linkCount()).toBe(before);
    expect(ipv4.connections).toBe(0);
    expect(ipv6.connections).toBe(0);
  });

  it.each(ENDPOINT_FIELDS)('refuses %s at each non-public target', async (field) => {
    const before = await linkCount();
    for (const [what, url] of targets) {
      const body = {
        ...custom,
        authorizationEndpoint: `${PUBLIC}/authorize`,
        tokenEndpoint: `${PUBLIC}/token`,
        [field]: `${url}/endpoint`,
      };
      const response = await create(body);
      expect({ what, status: response.status }).toEqual({ what, status: 400 });
      expectRefused(response.body, field);
    }
    expect(await linkCount()).toBe(before);
    expect(ipv4.connections).toBe(0);
    expect(ipv6.connections).toBe(0);
  });

  it('refuses a PATCH that moves an endpoint to loopback and changes nothing', async () => {
    const created = await create({
      ...custom,
      authorizationEndpoint: `${PUBLIC}/authorize`,
      tokenEndpoint: `${PUBLIC}/token`,
    }).expect(201);
    const id = created.body.id as string;

    for (const field of ENDPOINT_FIELDS) {
      const response = await t
        .http()
        .patch(`/v1/links/${id}`)
        .set(bearer(t.adminKey))
        .send({ [field]: `http://localhost:${ipv4.port}/endpoint`, clientSecret: 'new-secret' })
        .expect(400);
      expectRefused(response.body, field);
    }
    const after = await t.http().get(`/v1/links/${id}`).set(bearer(t.adminKey)).expect(200);
    expect(after.body).toEqual(created.body);
    expect(ipv4.connections).toBe(0);
  });

  it('keeps accepting public endpoints', async () => {
    await create({
      ...custom,
      authorizationEndpoint: 'https://93.184.215.14/authorize',
      tokenEndpoint: `${PUBLIC}/token`,
      revocationEndpoint: 'https://[2606:4700::6810:84e5]/revoke',
    }).expect(201);
  });
});
