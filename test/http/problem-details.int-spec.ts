import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

const PROBLEM_FIELDS = ['type', 'title', 'status', 'detail', 'code', 'errors', 'requestId'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every 4xx/5xx is RFC 9457 problem+json whose `status` is the HTTP status (SPEC §2, §10). */
function expectProblem(response: Response, status: number, code: string): void {
  expect({ status: response.status, body: response.body }).toMatchObject({
    status,
    body: { status, code },
  });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toEqual(
    expect.objectContaining({
      type: `urn:outlink:problem:${code}`,
      title: expect.any(String),
      detail: expect.any(String),
    }),
  );
  expect(PROBLEM_FIELDS).toEqual(expect.arrayContaining(Object.keys(response.body)));
  expect(JSON.stringify(response.body)).not.toMatch(/\n\s+at |node_modules|SELECT|INSERT/);
}

describe(`problem+json for malformed and hostile requests (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function countKeys(): Promise<number> {
    const response = await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    return (response.body.items as unknown[]).length;
  }

  /** POSTs the bytes exactly as given: supertest would otherwise re-encode a Buffer as JSON. */
  function postRaw(body: string | Buffer, contentType = 'application/json'): Promise<Response> {
    return (
      t
        .http()
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .set('content-type', contentType)
        // superagent writes a Buffer as is; its type only admits strings.
        .serialize((raw: string | Buffer) => raw as string)
        .send(body)
    );
  }

  /** Runs a request that must be refused and proves that no API key came of it. */
  async function refusedAndNothingCreated(send: () => Promise<Response>): Promise<Response> {
    const before = await countKeys();
    const response = await send();
    expect(await countKeys()).toBe(before);
    return response;
  }

  it('answers 400 invalid_json to a malformed JSON body', async () => {
    const response = await refusedAndNothingCreated(() => postRaw('{"name": "x", "role": '));
    expectProblem(response, 400, 'invalid_json');
  });

  it('answers 400 invalid_json to an empty JSON body', async () => {
    const response = await refusedAndNothingCreated(() => postRaw(''));
    expectProblem(response, 400, 'invalid_json');
  });

  it('answers 413 payload_too_large to a body over 64 KiB', async () => {
    const response = await refusedAndNothingCreated(() =>
      t
        .http()
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .send({ name: 'x'.repeat(64 * 1024), role: 'admin' }),
    );
    expectProblem(response, 413, 'payload_too_large');
  });

  it('answers 415 unsupported_media_type to non-JSON bodies, even ones holding JSON', async () => {
    const json = JSON.stringify({ name: 'smuggled', role: 'admin' });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'text/xml']) {
      const body = contentType.includes('form') ? 'name=smuggled&role=admin' : json;
      const response = await refusedAndNothingCreated(() => postRaw(body, contentType));
      expectProblem(response, 415, 'unsupported_media_type');
    }
  });

  it('answers 400 validation_failed to a JSON array or string body', async () => {
    for (const body of [JSON.stringify([{ name: 'x', role: 'admin' }]), '"name"', '42', 'null']) {
      const response = await refusedAndNothingCreated(() => postRaw(body));
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.errors).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    }
  });

  it('answers 400 listing an unknown field', async () => {
    const response = await refusedAndNothingCreated(() =>
      t
        .http()
        .post('/v1/api-keys')
        .set(bearer(t.adminKey))
        .send({ name: 'x', role: 'admin', isRoot: true }),
    );
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.errors).toEqual([{ field: 'isRoot', message: 'is not a known field' }]);
  });

  it('refuses __proto__ and constructor.prototype keys with a 400 and pollutes nothing', async () => {
    const bodies = [
      '{"name":"x","role":"admin","__proto__":{"polluted":"yes"}}',
      '{"name":"x","role":"consumer","linkIds":null,"nested":{"__proto__":{"polluted":"yes"}}}',
      '{"name":"x","role":"admin","constructor":{"prototype":{"polluted":"yes"}}}',
    ];
    for (const body of bodies) {
      const response = await refusedAndNothingCreated(() => postRaw(body));
      expectProblem(response, 400, 'invalid_json');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    // The app still works normally afterwards.
    await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'after', role: 'admin' })
      .expect(201);
  });

  it('answers 400 naming the id when a path id is not a UUID', async () => {
    const response = await refusedAndNothingCreated(() =>
      t.http().delete('/v1/api-keys/not-a-uuid').set(bearer(t.adminKey)),
    );
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.errors[0].field).toBe('id');
  });

  it('answers 404 route_not_found to an unknown route, with or without a key', async () => {
    const withKey = await t.http().get('/v1/no-such-thing').set(bearer(t.adminKey));
    expectProblem(withKey, 404, 'route_not_found');
    expect(withKey.body.detail).toContain('/v1/no-such-thing');
    const withoutKey = await t.http().post('/v1/no-such-thing?code=SECRET123').send({});
    expectProblem(withoutKey, 404, 'route_not_found');
    expect(withoutKey.body.detail).not.toContain('SECRET123');
  });

  it('answers a 4xx problem to a wrong method on a known path', async () => {
    const response = await refusedAndNothingCreated(() =>
      t.http().put('/v1/api-keys').set(bearer(t.adminKey)).send({ name: 'x', role: 'admin' }),
    );
    // The app answers 404 (Fastify's router does not tell a wrong method from a missing path).
    expect([404, 405]).toContain(response.status);
    expectProblem(
      response,
      response.status,
      response.status === 404 ? 'route_not_found' : 'method_not_allowed',
    );
  });

  // Regression: 10,000 levels made class-transformer overflow the stack, answered as a 500.
  it('refuses deeply nested JSON with a 400 instead of a 500', async () => {
    const depth = 10_000;
    const bodies = [
      `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      `{"name":"x","role":"consumer","linkIds":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      `{"name":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)},"role":"admin"}`,
      `${'['.repeat(depth)}${']'.repeat(depth)}`,
    ];
    for (const body of bodies) {
      expect(body.length).toBeLessThan(64 * 1024);
      const response = await refusedAndNothingCreated(() => postRaw(body));
      expectProblem(response, 400, 'invalid_json');
    }
    // Ordinary nesting is unaffected: the field error comes from validation, not the parser.
    const shallow = await postRaw('{"name":"x","role":"admin","extra":{"a":{"b":{"c":1}}}}');
    expectProblem(shallow, 400, 'validation_failed');
  });

  // Regression: invalid bytes became U+FFFD and a key named "\uFFFD\uFFFD" was created (201).
  it('refuses a body that is not valid UTF-8 with a 400', async () => {
    const body = Buffer.concat([
      Buffer.from('{"name":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('","role":"admin"}'),
    ]);
    const response = await refusedAndNothingCreated(() => postRaw(body));
    expectProblem(response, 400, 'invalid_json');
    // Valid multi-byte UTF-8 is still fine.
    const accepted = await postRaw(Buffer.from('{"name":"Zürich ✓","role":"admin"}', 'utf8'));
    expect(accepted.status).toBe(201);
    expect(accepted.body.name).toBe('Zürich ✓');
  });

  describe('request ids', () => {
    it('puts an x-request-id on every response, errors included', async () => {
      const ok = await t.http().get('/health/live').expect(200);
      const unauthorized = await t.http().get('/v1/api-keys').expect(401);
      const malformed = await postRaw('{');
      expect(malformed.status).toBe(400);
      const ids = [ok, unauthorized, malformed].map((response) => response.headers['x-request-id']);
      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('echoes a sane incoming X-Request-Id', async () => {
      const response = await t
        .http()
        .get('/health/live')
        .set('x-request-id', 'mail-handler.42_a-B')
        .expect(200);
      expect(response.headers['x-request-id']).toBe('mail-handler.42_a-B');
      const refused = await t.http().get('/v1/api-keys').set('x-request-id', 'trace-7').expect(401);
      expect(refused.headers['x-request-id']).toBe('trace-7');
    });

    it('replaces an insane incoming X-Request-Id with its own', async () => {
      for (const insane of ['x'.repeat(200), 'has spaces in it', 'quote"and<tag>', 'é']) {
        const response = await t.http().get('/health/live').set('x-request-id', insane).expect(200);
        expect(response.headers['x-request-id']).toMatch(UUID);
      }
    });
  });
});

describe(`an unexpected server error (${BACKEND})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is a logged 500 internal_error with a generic detail and a request id, and nothing else', async () => {
    // A real failure deep in the stack: every query of the guard now throws from TypeORM.
    await t.dataSource.destroy();
    const response = await t
      .http()
      .get('/v1/api-keys')
      .set(bearer(t.adminKey))
      .set('x-request-id', 'boom-1');

    expectProblem(response, 500, 'internal_error');
    expect(response.body).toEqual({
      type: 'urn:outlink:problem:internal_error',
      title: 'Internal server error',
      status: 500,
      detail: 'An unexpected error occurred. The request id identifies it in the logs.',
      code: 'internal_error',
      requestId: 'boom-1',
    });
    expect(response.headers['x-request-id']).toBe('boom-1');
    expect(response.text).not.toMatch(/typeorm|DataSource|api_keys|stack/i);

    const logged = t.logs.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((record) => record.msg === 'Unhandled error' && record.requestId === 'boom-1');
    expect(logged).toBeDefined();
    expect(logged).toMatchObject({ level: 50, route: '/v1/api-keys' });
    // The operator gets what the client does not: the error and where it came from.
    expect(logged?.err).toEqual(
      expect.objectContaining({ type: expect.any(String), stack: expect.any(String) }),
    );
    expect(t.logs.text).not.toContain(t.adminKey);
  });
});
