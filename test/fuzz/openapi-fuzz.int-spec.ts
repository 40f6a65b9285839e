import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';
import {
  classicAttacks,
  generatedRequestArb,
  hostileRequestArb,
  percentEncode,
  POLLUTION_MARKER,
  type FuzzRequest,
} from './fuzz-requests.js';
import { OpenApi, type Operation } from './openapi-document.js';

/**
 * Fuzzes every operation of the committed openapi.yaml (SPEC §2, §10): requests wrong in type,
 * size, encoding and shape must get a 4xx problem+json whose `status` is the HTTP status, never
 * a 5xx, and must change nothing in the database. The operations are read from the document, so
 * a new route is fuzzed without touching this file. FUZZ_SEED picks another seed (the seed is
 * printed, so a failure can be replayed).
 */
const SEED = integerFromEnvironment('FUZZ_SEED', 20_251_123);
/** FUZZ_RUNS raises it for a longer local run. */
const RUNS_PER_OPERATION = integerFromEnvironment('FUZZ_RUNS', 150);
const HOSTILE_RUNS_PER_OPERATION = Math.ceil(RUNS_PER_OPERATION / 3);
const BATCH_SIZE = 60;
const CONCURRENCY = 4;

function integerFromEnvironment(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`${name} must be an integer, not ${value}`);
  return number;
}

/** A stable seed per operation, so that adding a route does not reshuffle the others. */
function operationSeed(operation: Operation): number {
  return createHash('sha256').update(`${SEED}:${operation.id}`).digest().readInt32LE(0);
}

const api = new OpenApi('openapi.yaml');
const operations = api.operations();
const refusedPlan = operations.flatMap((operation) => [
  ...fc
    .sample(generatedRequestArb(api, operation), {
      seed: operationSeed(operation),
      numRuns: RUNS_PER_OPERATION,
    })
    .filter((request): request is FuzzRequest => request !== undefined),
  ...classicAttacks(api, operation),
]);
const hostilePlan = operations
  .filter((operation) => operation.body !== undefined)
  .flatMap((operation) =>
    fc.sample(hostileRequestArb(api, operation), {
      seed: operationSeed(operation) ^ 0x5a5a,
      numRuns: HOSTILE_RUNS_PER_OPERATION,
    }),
  );

interface Seeded {
  port: number;
  adminKey: string;
  consumerKey: string;
  /** Links (one of them deleted) and API keys: path ids may be real ones. */
  realIds: string[];
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

type Outcome = { answer: Answer } | { refusedByClient: string } | { error: string };

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
}

function resolve(request: FuzzRequest, seeded: Seeded): Sent {
  const { operation } = request;
  const path = operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const index = operation.pathParams.findIndex((parameter) => parameter.name === name);
    const value = request.pathValues[index];
    if (value.kind === 'literal') return value.raw ? value.text : percentEncode(value.text);
    const members = operation.pathParams[index].schema?.enum?.map(String);
    const pool = members ?? seeded.realIds;
    const real = pool[value.index % pool.length];
    return `${value.upperCase ? real.toUpperCase() : real}${value.suffix ?? ''}`;
  });
  const headers: Record<string, string> = { ...request.headers };
  switch (request.auth.kind) {
    case 'admin':
      Object.assign(headers, bearer(seeded.adminKey));
      break;
    case 'consumer':
      Object.assign(headers, bearer(seeded.consumerKey));
      break;
    case 'header':
      headers.authorization = request.auth.value;
      break;
    case 'none':
      break;
  }
  return {
    method: operation.method,
    path: request.query ? `${path}?${request.query}` : path,
    headers,
  };
}

/** Node's own client: byte-exact bodies and headers, which supertest would rewrite. */
function send(port: number, sent: Sent, body: Buffer | undefined): Promise<Outcome> {
  return new Promise((done) => {
    // Without a length, Node's client sends the body of a GET or DELETE bare, and the server
    // would read it as a second request.
    const headers =
      body === undefined || 'content-length' in sent.headers
        ? sent.headers
        : { ...sent.headers, 'content-length': String(body.length) };
    let request: http.ClientRequest;
    try {
      request = http.request({ host: '127.0.0.1', port, agent: false, ...sent, headers });
    } catch (error) {
      done({ refusedByClient: (error as Error).message });
      return;
    }
    let answered = false;
    request.setTimeout(15_000, () => request.destroy(new Error('no answer within 15 s')));
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => done({ error: error.message }));
      response.on('end', () =>
        done({
          answer: {
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          },
        }),
      );
    });
    // The server may answer (413, 431) and close before the whole request is written.
    request.on('error', (error) => {
      if (!answered) done({ error: error.message });
    });
    request.end(body);
  });
}

function describeRequest(request: FuzzRequest, sent: Sent): string {
  const headers = { ...sent.headers };
  if (headers.authorization?.includes('olk_') && request.auth.kind !== 'header') {
    headers.authorization = `<${request.auth.kind} key>`;
  }
  const body = request.body
    ? ` body(${request.body.length} B)=${JSON.stringify(request.body.toString('utf8').slice(0, 300))}`
    : '';
  return `${request.kind}: ${sent.method} ${truncate(sent.path)} headers=${truncate(JSON.stringify(headers))}${body}`;
}

function truncate(text: string, length = 300): string {
  return text.length > length ? `${text.slice(0, length)}...(${text.length} chars)` : text;
}

/** What is wrong with an answer; empty when nothing is. */
function problemsWith(request: FuzzRequest, answer: Answer, seeded: Seeded): string[] {
  const problems: string[] = [];
  const { status } = answer;
  if (status >= 500) problems.push(`answered ${status}`);
  if (status < 200 || (status >= 300 && status < 400)) problems.push(`answered ${status}`);
  if (status >= 400 && status < 500) {
    const contentType = String(answer.headers['content-type'] ?? '');
    if (!contentType.startsWith('application/problem+json')) {
      problems.push(`a ${status} that is not problem+json (${contentType || 'no content type'})`);
    } else {
      let problem: { status?: unknown; code?: unknown } | undefined;
      try {
        problem = JSON.parse(answer.text) as typeof problem;
      } catch {
        problems.push(`a ${status} whose problem+json does not parse`);
      }
      if (problem && problem.status !== status) problems.push(`problem.status is not ${status}`);
      if (problem && typeof problem.code !== 'string')
        problems.push('problem.code is not a string');
    }
  }
  if (status >= 200 && status < 300 && request.faults.length > 0) {
    problems.push(`accepted (${status}) although ${request.faults.join('; ')}`);
  }
  if (answer.headers['x-injected'] !== undefined) problems.push('a header was injected');
  if (/\n\s+at [^\n]+:\d+:\d+|QueryFailedError|node_modules/.test(answer.text)) {
    problems.push('the answer leaks a stack trace or internals');
  }
  if (answer.text.includes(seeded.adminKey) || answer.text.includes(seeded.consumerKey)) {
    problems.push('the answer contains an API key');
  }
  return problems;
}

class Findings {
  private readonly byKey = new Map<string, { count: number; example: string }>();
  sent = 0;
  refusedByClient = 0;
  readonly statuses = new Map<number, number>();

  add(key: string, example: string): void {
    const found = this.byKey.get(key);
    if (found) found.count++;
    else this.byKey.set(key, { count: 1, example });
  }

  get report(): string[] {
    return [...this.byKey.entries()].map(
      ([key, { count, example }]) => `${key} (x${count})\n    e.g. ${example}`,
    );
  }
}

async function fire(
  requests: FuzzRequest[],
  seeded: Seeded,
  findings: Findings,
): Promise<FuzzRequest[]> {
  const succeeded: FuzzRequest[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < requests.length; index = next++) {
      const request = requests[index];
      const sent = resolve(request, seeded);
      const outcome = await send(seeded.port, sent, request.body);
      const where = `${request.operation.method} ${request.operation.path}`;
      if ('refusedByClient' in outcome) {
        findings.refusedByClient++;
        continue;
      }
      findings.sent++;
      if ('error' in outcome) {
        findings.add(`${where}: no HTTP answer (${outcome.error})`, describeRequest(request, sent));
        continue;
      }
      const { answer } = outcome;
      findings.statuses.set(answer.status, (findings.statuses.get(answer.status) ?? 0) + 1);
      if (answer.status < 300) succeeded.push(request);
      for (const problem of problemsWith(request, answer, seeded)) {
        findings.add(
          `${where}: ${problem.replace(/although .*/, 'although invalid')}`,
          `${describeRequest(request, sent)}\n    -> ${answer.status} ${String(answer.headers['content-type'])} ${truncate(answer.text, 400)}` +
            (request.faults.length > 0 ? `\n    faults: ${request.faults.join('; ')}` : ''),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return succeeded;
}

/** Every row of every table, as sorted JSON lines; `api_keys.last_used_at` is left out. */
async function snapshot(dataSource: DataSource): Promise<Map<string, string[]>> {
  const tables = await dataSource.query<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
      ORDER BY table_name`,
  );
  const rowsByTable = new Map<string, string[]>();
  for (const { table_name: table } of tables) {
    const rows = await dataSource.query<Record<string, unknown>[]>(`SELECT * FROM "${table}"`);
    rowsByTable.set(
      table,
      rows
        .map((row) => {
          if (table === 'api_keys') delete row.last_used_at;
          return JSON.stringify(row);
        })
        .sort(),
    );
  }
  return rowsByTable;
}

function differences(before: Map<string, string[]>, after: Map<string, string[]>): string[] {
  const changes: string[] = [];
  for (const table of new Set([...before.keys(), ...after.keys()])) {
    const old = new Set(before.get(table) ?? []);
    const now = new Set(after.get(table) ?? []);
    for (const row of old)
      if (!now.has(row)) changes.push(`${table}: lost/changed ${truncate(row, 500)}`);
    for (const row of now)
      if (!old.has(row)) changes.push(`${table}: new/changed ${truncate(row, 500)}`);
  }
  return changes;
}

/** The own keys of Object.prototype in this realm and in Node's (where built-ins make objects). */
function prototypeKeys(): string[] {
  const nodeRealm = Object.getPrototypeOf(process.memoryUsage()) as object;
  return [Object.prototype, nodeRealm, Array.prototype].flatMap((prototype) =>
    Reflect.ownKeys(prototype).map(String),
  );
}

describe(`OpenAPI fuzzing of every documented operation (${BACKEND})`, () => {
  let t: TestApp;
  let seeded: Seeded;
  const prototypeKeysBefore = prototypeKeys();

  beforeAll(async () => {
    // Wrong keys are part of the fuzz: the failed-auth limiter must not turn them all into 429s.
    t = await startTestApp({ env: { AUTH_FAILURES_PER_MINUTE: '100000' } });
    await t.app.listen(0, '127.0.0.1');
    const admin = bearer(t.adminKey);
    const createLink = async (body: object): Promise<string> =>
      ((await t.http().post('/v1/links').set(admin).send(body).expect(201)).body as { id: string })
        .id;

    const googleLinkId = await createLink({
      name: 'Support mailbox',
      provider: 'google',
      clientId: 'client-123.apps.googleusercontent.com',
      clientSecret: 'GOCSPX-fuzz-secret',
      scopePreset: 'imap',
    });
    const customLinkId = await createLink({
      name: 'Ticketing',
      provider: 'custom',
      clientId: 'ticketing',
      clientSecret: 'custom-fuzz-secret',
      scopes: ['read', 'write'],
      authorizationEndpoint: 'https://idp.example.com/authorize',
      tokenEndpoint: 'https://idp.example.com/token',
      authorizationParams: { audience: 'api' },
    });
    const deletedLinkId = await createLink({
      name: 'Gone',
      provider: 'google',
      clientId: 'gone',
      clientSecret: 'gone-secret',
      scopePreset: 'smtp',
    });
    await t.http().delete(`/v1/links/${deletedLinkId}`).set(admin).expect(204);
    await t.http().post(`/v1/links/${googleLinkId}/authorize`).set(admin).expect(201);
    const consumer = (
      await t
        .http()
        .post('/v1/api-keys')
        .set(admin)
        .send({ name: 'mail-handler', role: 'consumer', linkIds: [googleLinkId] })
        .expect(201)
    ).body as { id: string; key: string };
    // SPEC §13 webhooks: a real webhook, subscribed to an event nothing here causes, so that no
    // delivery runs in the background while the database is compared.
    const webhookId = (
      (
        await t
          .http()
          .post('/v1/webhooks')
          .set(admin)
          .send({ url: 'https://hooks.example.com/outlink', events: ['link.expiring'] })
          .expect(201)
      ).body as { id: string }
    ).id;
    const keys = (await t.http().get('/v1/api-keys').set(admin).expect(200)).body as {
      items: { id: string; fromEnvironment: boolean }[];
    };
    const adminKeyId = keys.items.find((key) => key.fromEnvironment)?.id;

    seeded = {
      port: (t.app.getHttpServer().address() as AddressInfo).port,
      adminKey: t.adminKey,
      consumerKey: consumer.key,
      realIds: [
        googleLinkId,
        customLinkId,
        consumer.id,
        deletedLinkId,
        webhookId,
        ...(adminKeyId ? [adminKeyId] : []),
      ],
    };
    console.log(
      `openapi fuzz (${BACKEND}): seed ${SEED} (FUZZ_SEED to change), ${operations.length} operations, ` +
        `${refusedPlan.length} refused-request cases + ${hostilePlan.length} hostile-but-valid ones`,
    );
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it(`refuses ${refusedPlan.length} invalid requests over ${operations.length} operations with problem+json, changing nothing (seed ${SEED})`, async () => {
    expect(operations.length).toBeGreaterThan(10);
    const started = Date.now();
    const findings = new Findings();
    for (let start = 0; start < refusedPlan.length; start += BATCH_SIZE) {
      const batch = refusedPlan.slice(start, start + BATCH_SIZE);
      const before = await snapshot(t.dataSource);
      const succeeded = await fire(batch, seeded, findings);
      const changes = differences(before, await snapshot(t.dataSource));
      if (changes.length > 0) {
        const operationIds = [...new Set(batch.map((request) => request.operation.id))].join(', ');
        findings.add(
          `database changed during a batch of refused requests (${operationIds})`,
          `${changes.slice(0, 5).join('\n    ')}\n    2xx in this batch: ${
            succeeded
              .map((request) => describeRequest(request, resolve(request, seeded)))
              .join('\n      ') || 'none'
          }`,
        );
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `openapi fuzz (${BACKEND}, seed ${SEED}): ${findings.sent} requests answered, ` +
        `${findings.refusedByClient} refused by Node's HTTP client, in ${seconds} s; statuses ${JSON.stringify(
          Object.fromEntries([...findings.statuses.entries()].sort(([a], [b]) => a - b)),
        )}`,
    );
    expect(findings.report).toEqual([]);
  }, 600_000);

  it(`answers ${hostilePlan.length} documented-valid bodies full of hostile strings without a 5xx (seed ${SEED})`, async () => {
    const findings = new Findings();
    await fire(hostilePlan, seeded, findings);
    console.log(
      `openapi fuzz (${BACKEND}, seed ${SEED}): ${findings.sent} hostile-but-valid requests, statuses ${JSON.stringify(
        Object.fromEntries(findings.statuses),
      )}`,
    );
    expect(findings.report).toEqual([]);
  }, 600_000);

  it('left Object.prototype unpolluted', () => {
    expect(({} as Record<string, unknown>)[POLLUTION_MARKER]).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(prototypeKeys()).toEqual(prototypeKeysBefore);
  });
});
