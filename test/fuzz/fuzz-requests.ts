import fc from 'fast-check';
import type { OpenApi, Operation, Parameter, Schema } from './openapi-document.js';

/**
 * Requests are planned before the app starts, so real ids and keys appear symbolically and are
 * filled in when a request is sent.
 */
export type Auth =
  | { kind: 'admin' }
  | { kind: 'consumer' }
  | { kind: 'none' }
  | { kind: 'header'; value: string; why: string };

export type PathValue =
  /** The n-th real id (or enum member), optionally upper-cased or with text appended. */
  | { kind: 'real'; index: number; upperCase?: boolean; suffix?: string }
  /** `raw` text goes into the path as it is (Node's client may refuse it); else percent-encoded. */
  | { kind: 'literal'; text: string; raw?: boolean };

export interface FuzzRequest {
  operation: Operation;
  /** `generated`, `hostile`, or the name of a classic attack. */
  kind: string;
  auth: Auth;
  pathValues: PathValue[];
  /** The query string as sent, without `?`. */
  query: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Why the API must refuse this request; empty when it may succeed. */
  faults: string[];
}

export const POLLUTION_MARKER = 'outlinkFuzzPolluted';
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
export const MAX_BODY_BYTES = 64 * 1024;
/** Node's default limit on the request line and headers together. */
export const MAX_HEADER_BYTES = 16 * 1024;
const JSON_TYPE = 'application/json';

export const SQL_INJECTIONS = [
  "' OR 1=1 --",
  "'; DROP TABLE links; --",
  "1' UNION SELECT key_hash, name FROM api_keys --",
  "00000000-0000-0000-0000-000000000000' OR '1'='1",
  '1; SELECT pg_sleep(5)',
];

/** Strings that are valid where any string is, and hostile to whatever stores or shows them. */
const HOSTILE_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\u0001\u001f\u007f',
  '\u202eevil',
  '\ufeffbom',
  '\ud83d\ude00 emoji',
  '\u0085\u2028\u2029',
  '<script>alert(1)</script>',
  '\r\nX-Injected: 1',
  '${jndi:ldap://example.invalid/a}',
  '{{7*7}}',
  '../../etc/passwd',
  '%00%0d%0a',
  '\\',
  '"',
  ...SQL_INJECTIONS,
];

/**
 * Opaque tokens (page cursors) forged the way a server might encode them: base64url JSON with
 * dates outside PostgreSQL's range, injected ids, wrong shapes.
 */
const FORGED_TOKENS = [
  ['-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'],
  ['+275760-09-13T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'],
  ['0000-01-01T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'],
  ['2024-02-30T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'],
  ['2024-01-01T00:00:00.000Z', "' OR 1=1 --"],
  ['2024-01-01T00:00:00.000Z', '00000000-0000-4000-8000-000000000000', 'extra'],
  [1e308, null],
  { at: '2024-01-01T00:00:00.000Z' },
].map((value) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url'));

const isMutation = (operation: Operation): boolean => !['GET', 'HEAD'].includes(operation.method);

/** Percent-encodes every byte but the unreserved ones; lone surrogates become U+FFFD. */
export function percentEncode(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    encoded += /[A-Za-z0-9._~-]/.test(String.fromCharCode(byte))
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

function authFault(operation: Operation, auth: Auth): string | undefined {
  if (!operation.secured) return undefined;
  switch (auth.kind) {
    case 'admin':
      return undefined;
    case 'none':
      return 'no API key';
    case 'header':
      return auth.why;
    case 'consumer':
      // SPEC §3: a consumer key may only read a link and its token.
      return isMutation(operation) ? 'consumer key on an admin-only route' : undefined;
  }
}

function pathValueFault(parameter: Parameter, value: PathValue): string | undefined {
  if (value.kind === 'real') {
    return value.suffix === undefined
      ? undefined
      : `${parameter.name} has ${value.suffix} appended`;
  }
  if (parameter.schema?.enum?.includes(value.text) === true) return undefined;
  return value.text === '' ? `empty ${parameter.name}` : `no such ${parameter.name}`;
}

/** Default weights: most requests carry the admin key, so validation is reached. */
const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 17, arbitrary: fc.constant<Auth>({ kind: 'admin' }) },
  { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'none' }) },
  { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'consumer' }) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc
        .string({ unit: fc.constantFrom(...'abcXYZ0189'), minLength: 32, maxLength: 40 })
        .map<Auth>((key) => ({ kind: 'header', value: `Bearer olk_${key}`, why: 'a wrong key' })),
      fc
        .constantFrom(
          'Basic YWRtaW46YWRtaW4=',
          'Bearer',
          'Bearer ',
          `Bearer ${'k'.repeat(5000)}`,
          'olk_0123456789abcdefghijklmnopqrstuv',
          'Bearer olk_a olk_b',
          "Bearer ' OR 1=1 --",
          'Bearer \u00e9\u00ff',
        )
        .map<Auth>((value) => ({ kind: 'header', value, why: 'a malformed Authorization header' })),
    ),
  },
);

function pathValueArb(): fc.Arbitrary<PathValue> {
  const literal = (text: string, raw = false): PathValue => ({ kind: 'literal', text, raw });
  return fc.oneof(
    { weight: 8, arbitrary: fc.nat().map<PathValue>((index) => ({ kind: 'real', index })) },
    {
      weight: 1,
      arbitrary: fc.nat().map<PathValue>((index) => ({ kind: 'real', index, upperCase: true })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.nat(), fc.constantFrom("'", '%00', '%20', ' ', '"', '.json', '/..', '%2F..', ';'))
        .map<PathValue>(([index, suffix]) => ({ kind: 'real', index, suffix })),
    },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8, 9, 15] }),
          fc.constantFrom(UNKNOWN_ID, '00000000-0000-0000-0000-000000000000'),
          fc.constant('ffffffff-ffff-ffff-ffff-ffffffffffff'),
        )
        .map((text) => literal(text)),
    },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((text) => literal(text)) },
    {
      weight: 2,
      arbitrary: fc
        .string({ unit: fc.constantFrom('grapheme', 'binary', 'binary-ascii'), maxLength: 20 })
        .map((text) => literal(text)),
    },
    { weight: 1, arbitrary: fc.constantFrom(...SQL_INJECTIONS).map((text) => literal(text)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        literal('..'),
        literal('../', true),
        literal('../../v1/api-keys', true),
        literal('..%2F..%2Fapi-keys', true),
        literal('%2e%2e', true),
        literal('%', true),
        literal('%zz', true),
        literal('%FF%FE', true),
        literal('%C0%AF', true),
        literal('%ED%A0%80', true),
        literal('%00', true),
        literal('\u007f', true),
        literal('\u00e9', true),
        literal('\u00ff\u00fe', true),
        literal('a b', true),
        literal('', true),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(101, 1000, 5000, 20_000)
        .map((length) => literal('a'.repeat(length))),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Values from a schema

const ALPHANUMERIC = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
);

function typesOf(schema: Schema): string[] {
  if (schema.type !== undefined) return [schema.type].flat();
  if (schema.enum) return [];
  return ['string', 'number', 'boolean', 'object', 'array', 'null'];
}

/** Strings within the schema's length; hostile ones when `hostile`. */
function stringArb(schema: Schema, hostile: boolean): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? 40, 40));
  if (schema.format === 'uuid') return fc.uuid();
  const plain = fc.string({ unit: ALPHANUMERIC, minLength, maxLength });
  if (!hostile) return plain;
  const fit = (text: string): string =>
    text.length < minLength ? text.padEnd(minLength, 'x') : text.slice(0, schema.maxLength);
  return fc.oneof(
    // PostgreSQL refuses U+0000 in text and jsonb: the one a database-backed API most often 500s on.
    { weight: 2, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', 'x.evil\u0000').map(fit) },
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map(fit) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength, maxLength }).map(fit) },
    {
      weight: 1,
      arbitrary: schema.maxLength === undefined ? plain : fc.constant('m'.repeat(schema.maxLength)),
    },
  );
}

/** A value the schema accepts (the document may still be stricter in prose or in the code). */
export function validValueArb(api: OpenApi, raw: Schema, hostile = false): fc.Arbitrary<unknown> {
  const schema = api.resolve(raw);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives)
    return fc.oneof(...alternatives.map((part) => validValueArb(api, part, hostile)));
  if (schema.allOf?.length === 1) return validValueArb(api, schema.allOf[0], hostile);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const arbitraries = typesOf(schema).map((type): fc.Arbitrary<unknown> => {
    switch (type) {
      case 'string':
        return stringArb(schema, hostile);
      case 'integer':
      case 'number':
        return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array':
        return fc.array(
          schema.items ? validValueArb(api, schema.items, hostile) : fc.constant('x'),
          { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) },
        );
      default:
        return validObjectArb(api, schema, hostile);
    }
  });
  return arbitraries.length === 0 ? fc.constant(null) : fc.oneof(...arbitraries);
}

function validObjectArb(api: OpenApi, schema: Schema, hostile: boolean): fc.Arbitrary<unknown> {
  if (schema.properties) {
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, property] of Object.entries(schema.properties)) {
      model[name] = validValueArb(api, property, hostile);
    }
    return fc.record(model, { requiredKeys: schema.required ?? [] });
  }
  if (typeof schema.additionalProperties === 'object') {
    return fc.dictionary(
      fc.string({ unit: ALPHANUMERIC, minLength: 1, maxLength: 10 }),
      validValueArb(api, schema.additionalProperties, hostile),
      { maxKeys: 3 },
    );
  }
  return fc.constant({});
}

/** Any JSON value, odd numbers and unicode included. */
const anyJson = fc.jsonValue({ maxDepth: 3 });

/** A value for `schema` that the document forbids, or undefined when none is easy to make. */
function invalidValueArb(api: OpenApi, raw: Schema): fc.Arbitrary<unknown> | undefined {
  const schema = api.resolve(raw);
  const violates = (value: unknown): boolean => api.violation(value, schema) !== undefined;
  const candidates: fc.Arbitrary<unknown>[] = [
    anyJson,
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.double(),
    fc.array(anyJson, { maxLength: 3 }),
    fc.constantFrom(null, true, false, 0, -1, '', ' ', 1e308, -1e308, 2 ** 53 + 1, {}, [], [[]]),
    fc.constantFrom(...SQL_INJECTIONS),
  ];
  if (schema.maxLength !== undefined) {
    candidates.push(
      fc.integer({ min: 1, max: 100 }).map((extra) => 'z'.repeat(schema.maxLength! + extra)),
    );
  }
  if (schema.minimum !== undefined) candidates.push(fc.constant(schema.minimum - 1));
  if (schema.maximum !== undefined) candidates.push(fc.constant(schema.maximum + 1));
  if (schema.items && typesOf(schema).includes('array')) {
    const item = invalidValueArb(api, schema.items);
    if (item) candidates.push(item.map((value) => [value]));
  }
  // Bounded search: a schema that accepts almost everything gets no invalid value.
  const probe = fc.sample(fc.oneof(...candidates), { seed: 1, numRuns: 200 }).filter(violates);
  if (probe.length === 0) return undefined;
  return fc.oneof(...candidates).filter(violates);
}

/** Nested arrays and objects `depth` levels deep, as JSON text (too deep for JSON.stringify). */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

// ---------------------------------------------------------------------------------------------
// Query strings

interface QueryPart {
  text: string;
  fault?: string;
}

function queryValueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One documented query parameter, set to a good value, a bad one, or several values. */
function documentedQueryArb(api: OpenApi, parameter: Parameter): fc.Arbitrary<QueryPart> {
  const schema = parameter.schema ?? {};
  const key = percentEncode(parameter.name);
  const part = (value: string, fault?: string): QueryPart => ({
    text: `${key}=${percentEncode(value)}`,
    fault,
  });
  const good = validValueArb(api, schema).map(queryValueText);
  const options: fc.Arbitrary<QueryPart>[] = [
    good.map((value) => part(value)),
    fc
      .oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom(...SQL_INJECTIONS, '\r\nX-Injected: 1'),
        fc.constantFrom(...FORGED_TOKENS),
      )
      .map((value) => part(value)),
    fc.tuple(good, good).map(([first, second]) => ({
      text: `${part(first).text}&${part(second).text}`,
      fault: `${parameter.name} given twice`,
    })),
  ];
  const types = typesOf(schema);
  if (types.includes('number') || types.includes('integer')) {
    options.push(
      fc
        .oneof(
          fc.constantFrom('abc', 'NaN', 'Infinity', '-Infinity', '12abc', 'one', '1e400', '--1'),
          fc.constantFrom(...SQL_INJECTIONS),
          fc.integer({ min: 1, max: 500 }).map((digits) => '9'.repeat(digits + 20)),
          fc.constant(String((schema.minimum ?? 0) - 1)),
          fc.constant(String((schema.maximum ?? 2 ** 31) + 1)),
          fc.integer({ max: -1 }).map((below) => String((schema.minimum ?? 0) + below)),
        )
        .filter((value) => {
          const number = Number(value);
          return !Number.isFinite(number) || api.violation(number, schema) !== undefined;
        })
        .map((value) =>
          part(value, `${parameter.name}=${value.slice(0, 40)} is not a number in range`),
        ),
    );
  }
  if (schema.enum) {
    const members = schema.enum.map(String);
    options.push(
      fc
        .oneof(
          fc.string({ maxLength: 20 }),
          fc.constantFrom(
            ...members.map((member) => member.toUpperCase()),
            ...members.map((member) => ` ${member}`),
          ),
          fc.constantFrom(...SQL_INJECTIONS),
        )
        .filter((value) => !members.includes(value))
        .map((value) => part(value, `${parameter.name} is not one of its values`)),
    );
  }
  if (schema.maxLength !== undefined) {
    options.push(
      fc
        .integer({ min: 1, max: 2000 })
        .map((extra) =>
          part('q'.repeat(schema.maxLength! + extra), `${parameter.name} is too long`),
        ),
    );
  }
  return fc.oneof(...options);
}

const unknownQueryArb: fc.Arbitrary<QueryPart> = fc
  .tuple(
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.constantFrom(
        '__proto__',
        'constructor',
        `__proto__[${POLLUTION_MARKER}]`,
        `constructor[prototype][${POLLUTION_MARKER}]`,
        'limit[]',
        'limit[$gt]',
        "' OR 1=1 --",
        'a[b][c]',
      ),
    ),
    fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom(...SQL_INJECTIONS, '\r\nX-Injected: 1', 'yes'),
    ),
    fc.boolean(),
  )
  .map(([key, value, bare]) => ({
    text: bare ? percentEncode(key) : `${percentEncode(key)}=${percentEncode(value)}`,
  }));

function queryArb(api: OpenApi, operation: Operation): fc.Arbitrary<QueryPart[]> {
  return fc
    .tuple(
      fc.tuple(
        ...operation.queryParams.map((parameter) =>
          fc.oneof(fc.constant(undefined), documentedQueryArb(api, parameter)),
        ),
      ),
      fc.array(unknownQueryArb, { maxLength: 2 }),
      fc.oneof(
        { weight: 30, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom(1000, 10_000, 20_000) },
      ),
    )
    .map(([documented, unknown, hugeLength]) => [
      ...documented.filter((part): part is QueryPart => part !== undefined),
      ...unknown,
      ...(hugeLength === undefined ? [] : [{ text: `filler=${'f'.repeat(hugeLength)}` }]),
    ]);
}

// ---------------------------------------------------------------------------------------------
// Bodies

interface BodyPlan {
  body?: Buffer;
  contentType?: string;
  fault?: string;
}

function jsonBody(api: OpenApi, schema: Schema, value: unknown): BodyPlan {
  const body = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  const fault =
    body.length > MAX_BODY_BYTES ? 'body over 64 KiB' : api.violation(value, schema, 'body');
  return { body, contentType: JSON_TYPE, fault };
}

/** A documented object with one to three things wrong with it. */
function brokenObjectArb(api: OpenApi, schema: Schema): fc.Arbitrary<unknown> {
  const properties = Object.entries(schema.properties ?? {});
  const breakable = properties.flatMap(([name, property]) => {
    const invalid = invalidValueArb(api, property);
    return invalid ? [invalid.map((value) => ({ name, value }))] : [];
  });
  type Change = (object: Record<string, unknown>) => void;
  const changes: fc.Arbitrary<Change>[] = [
    fc
      .tuple(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 20 }),
          fc.constantFrom(
            'constructor',
            'prototype',
            'isAdmin',
            'id',
            'createdAt',
            'hasClientSecret',
            'key',
          ),
        ),
        anyJson,
      )
      .filter(([name]) => !Object.hasOwn(schema.properties ?? {}, name))
      .map<Change>(([name, value]) => (object) => {
        object[name] = value;
      }),
    fc.constantFrom(...(schema.required ?? ['-'])).map<Change>((name) => (object) => {
      delete object[name];
    }),
  ];
  if (breakable.length > 0) {
    changes.push(
      fc.oneof(...breakable).map<Change>(({ name, value }) => (object) => {
        object[name] = value;
      }),
    );
  }
  if (properties.length > 0) {
    const names = properties.map(([name]) => name);
    changes.push(
      fc
        .tuple(fc.constantFrom(...names), fc.constantFrom(40, 200))
        .map<Change>(([name, depth]) => (object) => {
          object[name] = JSON.parse(deepJson(depth, 'object')) as unknown;
        }),
      fc.constantFrom(...names).map<Change>((name) => (object) => {
        object[name] = 'h'.repeat(MAX_BODY_BYTES + 1);
      }),
    );
  }
  return fc
    .tuple(
      validObjectArb(api, schema, false),
      fc.array(fc.oneof(...changes), { minLength: 1, maxLength: 3 }),
    )
    .map(([valid, apply]) => {
      const object = { ...(valid as Record<string, unknown>) };
      for (const change of apply) change(object);
      return object;
    });
}

function bodyArb(api: OpenApi, operation: Operation): fc.Arbitrary<BodyPlan> {
  const schema = operation.body;
  if (!schema) {
    // Bodies on routes that take none: ignored or refused, never acted upon.
    return fc.oneof(
      { weight: 5, arbitrary: fc.constant<BodyPlan>({}) },
      {
        weight: 1,
        arbitrary: anyJson.map<BodyPlan>((value) => ({
          body: Buffer.from(JSON.stringify(value)),
          contentType: JSON_TYPE,
        })),
      },
    );
  }
  const notAnObject = fc.oneof(
    fc.array(anyJson, { maxLength: 4 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    validValueArb(api, schema).map((value) => [value]),
  );
  return fc.oneof(
    {
      weight: 6,
      arbitrary: brokenObjectArb(api, schema).map((value) => jsonBody(api, schema, value)),
    },
    { weight: 2, arbitrary: anyJson.map((value) => jsonBody(api, schema, value)) },
    { weight: 2, arbitrary: notAnObject.map((value) => jsonBody(api, schema, value)) },
    {
      weight: 1,
      arbitrary: validValueArb(api, schema).map((value) => jsonBody(api, schema, value)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(33, 1000, 10_000),
          fc.constantFrom<'array' | 'object'>('array', 'object'),
        )
        .map(([depth, kind]): BodyPlan => ({
          body: Buffer.from(deepJson(depth, kind)),
          contentType: JSON_TYPE,
          fault: `JSON nested ${depth} levels deep`,
        })),
    },
    {
      weight: 1,
      arbitrary: fc.constant<BodyPlan>({
        fault: operation.bodyRequired ? 'no body' : undefined,
      }),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Whole requests

function assemble(
  operation: Operation,
  kind: string,
  parts: {
    auth: Auth;
    pathValues: PathValue[];
    query: QueryPart[];
    body: BodyPlan;
    headers?: Record<string, string>;
    extraFaults?: string[];
    fallbackId: string;
  },
): FuzzRequest | undefined {
  const { body } = parts;
  const headers: Record<string, string> = { ...parts.headers };
  if (body.contentType !== undefined) headers['content-type'] = body.contentType;
  const request: FuzzRequest = {
    operation,
    kind,
    auth: parts.auth,
    pathValues: parts.pathValues,
    query: parts.query.map((part) => part.text).join('&'),
    headers,
    body: body.body,
    faults: [],
  };
  request.faults = faultsOf(request, [
    ...parts.query.flatMap((part) => (part.fault ? [part.fault] : [])),
    ...(body.fault ? [body.fault] : []),
    ...(parts.extraFaults ?? []),
  ]);
  if (!isMutation(operation) || request.faults.length > 0) return request;
  // Only refused mutations are sent, so that the database must not change: point a mutation
  // that may be valid at an unknown resource, or take its key away.
  if (operation.pathParams.length > 0) {
    request.pathValues = [
      { kind: 'literal', text: parts.fallbackId },
      ...parts.pathValues.slice(1),
    ];
  } else if (operation.secured) {
    request.auth = { kind: 'none' };
  } else {
    return undefined;
  }
  request.faults = faultsOf(request, []);
  return request;
}

function faultsOf(request: FuzzRequest, others: string[]): string[] {
  const { operation } = request;
  const faults = [...others];
  const auth = authFault(operation, request.auth);
  if (auth) faults.push(auth);
  operation.pathParams.forEach((parameter, index) => {
    const fault = pathValueFault(parameter, request.pathValues[index]);
    if (fault) faults.push(fault);
  });
  const lineLength =
    operation.path.length +
    request.query.length +
    request.pathValues.reduce(
      (sum, value) => sum + (value.kind === 'literal' ? value.text.length * 3 : 40),
      0,
    );
  if (lineLength > MAX_HEADER_BYTES) faults.push('request line over 16 KiB');
  return faults;
}

/** Random requests for one operation, wrong in type, size, encoding and shape. */
export function generatedRequestArb(
  api: OpenApi,
  operation: Operation,
): fc.Arbitrary<FuzzRequest | undefined> {
  return fc
    .record({
      auth: authArb,
      pathValues: fc.tuple(...operation.pathParams.map(() => pathValueArb())),
      query: queryArb(api, operation),
      body: bodyArb(api, operation),
      contentType: fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('application/json; charset=utf-8', 'Application/JSON'),
        },
      ),
      fallbackId: fc.uuid({ version: 4 }),
    })
    .map(({ auth, pathValues, query, body, contentType, fallbackId }) =>
      assemble(operation, 'generated', {
        auth,
        pathValues,
        query,
        body: body.contentType && contentType ? { ...body, contentType } : body,
        fallbackId,
      }),
    );
}

/** Documented-valid requests to operations with a body, with hostile strings everywhere. */
export function hostileRequestArb(api: OpenApi, operation: Operation): fc.Arbitrary<FuzzRequest> {
  const schema = operation.body ?? {};
  return fc
    .record({
      value: validValueArb(api, schema, true),
      pathValues: fc.tuple(
        ...operation.pathParams.map(() =>
          fc.nat().map<PathValue>((index) => ({ kind: 'real', index })),
        ),
      ),
    })
    .map(({ value, pathValues }) => ({
      operation,
      kind: 'hostile',
      auth: { kind: 'admin' },
      pathValues,
      query: '',
      headers: { 'content-type': JSON_TYPE },
      body: Buffer.from(JSON.stringify(value)),
      faults: [],
    }));
}

/** The fixed list of classic attacks, each sent to every operation. */
export function classicAttacks(api: OpenApi, operation: Operation): FuzzRequest[] {
  const requests: FuzzRequest[] = [];
  const realPath = operation.pathParams.map<PathValue>(() => ({ kind: 'real', index: 0 }));
  const add = (
    kind: string,
    parts: {
      auth?: Auth;
      pathValues?: PathValue[];
      query?: QueryPart[];
      body?: BodyPlan;
      headers?: Record<string, string>;
      faults?: string[];
    },
  ): void => {
    const request = assemble(operation, kind, {
      auth: parts.auth ?? { kind: 'admin' },
      pathValues: parts.pathValues ?? realPath,
      query: parts.query ?? [],
      body: parts.body ?? { fault: operation.bodyRequired ? 'no body' : undefined },
      headers: parts.headers,
      extraFaults: parts.faults,
      fallbackId: UNKNOWN_ID,
    });
    if (request) requests.push(request);
  };
  const raw = (
    text: string,
    contentType: string | undefined,
    fault: string | undefined,
  ): BodyPlan => ({
    body: Buffer.from(text, 'utf8'),
    contentType,
    fault: isMutation(operation) ? fault : undefined,
  });
  const bytes = (data: number[] | Buffer, contentType: string, fault: string): BodyPlan => ({
    body: Buffer.from(data),
    contentType,
    fault: isMutation(operation) ? fault : undefined,
  });

  for (const sql of SQL_INJECTIONS.slice(0, 3)) {
    if (operation.pathParams.length > 0) {
      add(`sql in path`, {
        pathValues: operation.pathParams.map(() => ({ kind: 'literal', text: sql })),
      });
    }
    add(`sql in query`, {
      query: [
        ...operation.queryParams.map((parameter) => ({
          text: `${percentEncode(parameter.name)}=${percentEncode(sql)}`,
        })),
        { text: `q=${percentEncode(sql)}` },
      ],
    });
    if (operation.body) {
      const properties = Object.keys(operation.body.properties ?? { name: {} });
      add(`sql in body`, {
        body: jsonBody(
          api,
          operation.body,
          Object.fromEntries(properties.map((name) => [name, sql])),
        ),
      });
    }
  }
  add('crlf in query (encoded)', { query: [{ text: `x=${percentEncode('\r\nX-Injected: 1')}` }] });
  add('crlf in query (raw)', { query: [{ text: 'x=\r\nX-Injected: 1' }] });
  add('crlf in a header', { headers: { 'x-forwarded-for': '1.2.3.4\r\nX-Injected: 1' } });
  if (operation.pathParams.length > 0) {
    add('crlf in path', {
      pathValues: operation.pathParams.map(() => ({ kind: 'literal', text: '\r\nX-Injected: 1' })),
    });
    for (const text of ['%FF%FE', '%', '\u007f', '\u00e9']) {
      add('malformed path', {
        pathValues: operation.pathParams.map(() => ({ kind: 'literal', text, raw: true })),
      });
    }
    add('path parameter over 100 characters', {
      pathValues: operation.pathParams.map(() => ({ kind: 'literal', text: 'p'.repeat(101) })),
    });
    add('huge path', {
      pathValues: operation.pathParams.map(() => ({ kind: 'literal', text: 'p'.repeat(20_000) })),
    });
  }
  add('huge query', { query: [{ text: `q=${'q'.repeat(20_000)}` }] });
  add('huge header', {
    headers: { 'x-filler': 'h'.repeat(20_000) },
    faults: ['headers over 16 KiB'],
  });
  add('huge body', {
    body: raw(
      JSON.stringify({ name: 'b'.repeat(MAX_BODY_BYTES + 1) }),
      JSON_TYPE,
      'body over 64 KiB',
    ),
  });
  add('deep JSON array', {
    body: raw(deepJson(10_000, 'array'), JSON_TYPE, 'JSON nested 10,000 levels deep'),
  });
  add('deep JSON object', {
    body: raw(deepJson(10_000, 'object'), JSON_TYPE, 'JSON nested 10,000 levels deep'),
  });
  add('invalid UTF-8', {
    body: bytes(
      [0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d],
      JSON_TYPE,
      'invalid UTF-8',
    ),
  });
  add('overlong UTF-8', {
    body: bytes(Buffer.from('{"name":"\xc0\xaf"}', 'latin1'), JSON_TYPE, 'invalid UTF-8'),
  });
  add('UTF-8 surrogate', {
    body: bytes(Buffer.from('{"name":"\xed\xa0\x80"}', 'latin1'), JSON_TYPE, 'invalid UTF-8'),
  });
  add('UTF-16 body', {
    body: bytes(
      Buffer.from('{"name":"x"}', 'utf16le'),
      'application/json; charset=utf-16',
      'not UTF-8 JSON',
    ),
  });
  // The JSON parser refuses __proto__ and constructor.prototype anywhere; other keys are unknown
  // fields, refused only where a body is read.
  for (const [text, refusedEverywhere] of [
    [`{"__proto__":{"${POLLUTION_MARKER}":"yes"}}`, true],
    [`{"constructor":{"prototype":{"${POLLUTION_MARKER}":"yes"}}}`, true],
    [`{"name":"x","authorizationParams":{"__proto__":{"${POLLUTION_MARKER}":"yes"}}}`, true],
    [`{"prototype":{"${POLLUTION_MARKER}":"yes"}}`, false],
    [`{"constructor":{"${POLLUTION_MARKER}":"yes"}}`, false],
  ] as const) {
    add('prototype pollution body', {
      body: raw(
        text,
        JSON_TYPE,
        refusedEverywhere || operation.body ? 'prototype-pollution keys' : undefined,
      ),
    });
  }
  add('prototype pollution query', {
    query: [
      { text: `__proto__[${POLLUTION_MARKER}]=yes` },
      { text: `constructor[prototype][${POLLUTION_MARKER}]=yes` },
      { text: '__proto__=yes' },
    ],
  });
  for (const contentType of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/octet-stream',
    'application/json-patch+json',
    'application/jsonx',
    '',
  ]) {
    add(`content type "${contentType}"`, {
      body: raw('{"name":"x"}', contentType, `content type "${contentType}"`),
    });
  }
  add('body without content type', { body: raw('{"name":"x"}', undefined, 'no content type') });
  add('empty JSON body', { body: raw('', JSON_TYPE, 'empty JSON body') });
  for (const text of [
    '{',
    '{"a":1,}',
    "{'a':1}",
    'NaN',
    '[1,2',
    '\u0000',
    '{"a":1}{"b":2}',
    'nul',
  ]) {
    add('malformed JSON', { body: raw(text, JSON_TYPE, 'malformed JSON') });
  }
  add('invalid content-length', {
    body: raw('{}', JSON_TYPE, 'invalid Content-Length'),
    headers: { 'content-length': 'abc' },
    faults: ['invalid Content-Length'],
  });
  add('accept text/html', { headers: { accept: 'text/html' }, auth: { kind: 'none' } });
  add('no key', { auth: { kind: 'none' } });
  add('consumer key', { auth: { kind: 'consumer' } });
  return requests;
}
