import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { BACKEND, TEST_DATABASE_URL } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

describe(`health, metrics and logs (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers GET /health/live with 200 {status: "ok"}', async () => {
    const response = await t.http().get('/health/live').expect(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('answers GET /health/ready with 200 when the database is up and migrated', async () => {
    const response = await t.http().get('/health/ready').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, migrations: { status: 'up' } },
    });
  });

  it('refuses /metrics without a key or with a wrong one', async () => {
    const missing = await t.http().get('/metrics').expect(401);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.body.code).toBe('unauthorized');
    expect(missing.text).not.toContain('outlink_');
    const wrong = await t
      .http()
      .get('/metrics')
      .set(bearer(`olk_${'Z'.repeat(40)}`))
      .expect(401);
    expect(wrong.text).not.toContain('outlink_');
  });

  it('serves Prometheus text with HTTP latency by route pattern and the process metrics', async () => {
    await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    // An id in the path must be reported as its pattern, or every id would be a new series.
    await t
      .http()
      .delete('/v1/api-keys/1b4e28ba-2fa1-41d2-883f-0016d3cca427')
      .set(bearer(t.adminKey))
      .expect(404);

    const response = await t.http().get('/metrics').set(bearer(t.adminKey)).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.headers['cache-control']).toBe('no-store');
    const text = response.text;
    expect(text).toContain('# TYPE outlink_http_request_duration_seconds histogram');
    const buckets = text
      .split('\n')
      .filter((line) => line.startsWith('outlink_http_request_duration_seconds_bucket{'));
    expect(buckets).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/method="GET".*route="\/v1\/api-keys".*status="200"/),
        expect.stringMatching(/method="DELETE".*route="\/v1\/api-keys\/:id".*status="404"/),
      ]),
    );
    expect(text).toMatch(
      /^outlink_http_request_duration_seconds_count\{[^}]*route="\/v1\/api-keys"[^}]*\} [1-9]/m,
    );
    expect(text).not.toContain('1b4e28ba-2fa1-41d2-883f-0016d3cca427');
    for (const processMetric of [
      'outlink_process_cpu_user_seconds_total',
      'outlink_process_resident_memory_bytes',
      'outlink_nodejs_heap_size_used_bytes',
      'outlink_nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toMatch(new RegExp(`^${processMetric}(\\{[^}]*\\})? \\d`, 'm'));
    }
    expect(text).not.toContain(t.adminKey);
  });

  it('logs requests with their ids but never an API key or the OAuth code and state', async () => {
    const created = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .set('x-request-id', 'ops-log-1')
      .send({ name: 'logged', role: 'consumer', allLinks: true })
      .expect(201);
    const newKey = created.body.key as string;
    await t.http().get('/v1/api-keys').set(bearer(newKey)).expect(403);
    await t
      .http()
      .get('/v1/api-keys')
      .set(bearer(`olk_WrongKeyValue${'q'.repeat(30)}`))
      .expect(401);
    const callback = await t
      .http()
      .get('/health/live?code=SECRET123&state=STATE456&iss=https%3A%2F%2Fissuer.example')
      .expect(200);
    const callbackRequestId = callback.headers['x-request-id'];

    const text = t.logs.text;
    for (const secret of [
      t.adminKey,
      newKey,
      `WrongKeyValue${'q'.repeat(30)}`,
      'SECRET123',
      'STATE456',
    ]) {
      expect(text).not.toContain(secret);
    }
    const records = t.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((record) => record.requestId === 'ops-log-1')).not.toHaveLength(0);
    const callbackLine = records.find(
      (record) => record.requestId === callbackRequestId && record.msg === 'incoming request',
    );
    // The request is logged, with the code and state values redacted and everything else kept.
    expect(callbackLine).toMatchObject({
      req: { method: 'GET', url: expect.stringContaining('/health/live?') },
    });
    const loggedUrl = (callbackLine?.req as { url: string }).url;
    const loggedQuery = new URLSearchParams(loggedUrl.split('?')[1]);
    expect(loggedQuery.get('code')).toBe('[redacted]');
    expect(loggedQuery.get('state')).toBe('[redacted]');
    expect(loggedQuery.get('iss')).toBe('https://issuer.example');
  });

  it('masks the mailbox user of token requests and e-mail addresses in its own log lines', async () => {
    const link = '6b1f3c1e-0000-4000-8000-000000000000';
    for (const [requestId, user] of [
      ['ops-mask-1', 'alice.mailbox@example.com'],
      ['ops-mask-2', 'support.desk'],
    ]) {
      await t
        .http()
        .get(`/v1/links/${link}/token?minValidity=0&user=${encodeURIComponent(user)}`)
        .set(bearer(t.adminKey))
        .set('x-request-id', requestId)
        .expect(404);
    }
    // What a module logs through Nest's Logger, e.g. a provider's answer naming the mailbox.
    new Logger('TokenRefresher').warn('Refresh failed: mailbox bob.jones@example.com is disabled');

    const text = t.logs.text;
    for (const local of ['alice.mailbox', 'support.desk', 'bob.jones']) {
      expect(text).not.toContain(local);
    }
    const records = t.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const loggedUser = (requestId: string): string | null => {
      const line = records.find(
        (record) => record.requestId === requestId && record.msg === 'incoming request',
      );
      const url = (line?.req as { url: string } | undefined)?.url ?? '';
      return new URLSearchParams(url.split('?')[1]).get('user');
    };
    expect(loggedUser('ops-mask-1')).toBe('a***@example.com');
    expect(loggedUser('ops-mask-2')).toBe('s***');
    expect(text).toContain('mailbox b***@example.com is disabled');
  });

  it("tags the service's own log lines written during a request with that request's id", async () => {
    // Discovery against a closed port fails, and LinksService logs it through Nest's Logger.
    const response = await t
      .http()
      .post('/v1/links')
      .set(bearer(t.adminKey))
      .set('x-request-id', 'ops-discovery-1')
      .send({
        name: 'unreachable issuer',
        provider: 'custom',
        issuer: 'https://127.0.0.1:1',
        clientId: 'c',
        clientSecret: 's',
        scopes: ['openid'],
      })
      .expect(400);
    expect(response.body.errors).toEqual([
      expect.objectContaining({ field: 'issuer', message: expect.stringContaining('discovery') }),
    ]);
    const records = t.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const warning = records.find(
      (record) =>
        typeof record.msg === 'string' && record.msg.startsWith('Discovery of https://127.0.0.1:1'),
    );
    expect(warning).toMatchObject({ requestId: 'ops-discovery-1', context: 'LinkConfigurator' });
    // A log line outside any request (start-up) carries no request id.
    const startup = records.find((record) => record.context === 'ChangeNotifications');
    expect(startup?.requestId).toBeUndefined();
  });
});

/**
 * Makes the app's database really unreachable, on either back end: the embedded PGlite server is
 * stopped, as if it had crashed; a PostgreSQL database stops accepting connections and loses the
 * ones it had, as in a failover. Returns a function that brings PostgreSQL back (PGlite restarts
 * on another port, which an open pool cannot follow, so it stays down).
 */
async function cutOffDatabase(t: TestApp): Promise<(() => Promise<void>) | undefined> {
  if (!TEST_DATABASE_URL) {
    await t.database.stop();
    return undefined;
  }
  const name = new URL(t.database.target.url).pathname.slice(1);
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  await admin(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`,
  );
  return () => admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
}

describe(`readiness without a database (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers /health/ready with 503 service_unavailable while the database is unreachable', async () => {
    await t.http().get('/health/ready').expect(200);
    const restore = await cutOffDatabase(t);

    const started = Date.now();
    const response = await t.http().get('/health/ready');
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.body).toMatchObject({
      type: 'urn:outlink:problem:service_unavailable',
      status: 503,
      code: 'service_unavailable',
    });
    expect(response.body.detail).toContain('database');
    expect(response.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres:\/\/|\n\s+at /);
    // A probe must answer within its own timeout, not hang on the pool.
    expect(Date.now() - started).toBeLessThan(5_000);
    // Liveness does not depend on the database: restarting the process would not help.
    await t.http().get('/health/live').expect(200);

    if (restore) {
      await restore();
      await t.http().get('/health/ready').expect(200);
    }
  });
});
