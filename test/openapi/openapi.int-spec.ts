import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
  components: { securitySchemes?: Record<string, { type: string; scheme: string }> };
}

describe(`OpenAPI document and Swagger UI (${BACKEND})`, () => {
  let t: TestApp;
  let served: OpenApiDocument;

  beforeAll(async () => {
    t = await startTestApp();
    served = (await t.http().get('/docs/openapi.json').expect(200)).body as OpenApiDocument;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('matches the committed openapi.yaml (run `npm run openapi` after changing a route or DTO)', () => {
    const committed = YAML.parse(readFileSync('openapi.yaml', 'utf8')) as OpenApiDocument;
    expect(committed).toEqual(served);
  });

  it('is OpenAPI 3.1 with bearer auth and an operationId per operation', () => {
    expect(served.openapi).toBe('3.1.0');
    expect(served.components.securitySchemes?.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    const operations = Object.values(served.paths).flatMap((methods) => Object.values(methods));
    expect(operations.length).toBeGreaterThan(4);
    for (const operation of operations) expect(operation.operationId).toMatch(/^[a-z][A-Za-z]+$/);
    expect(served.paths['/v1/api-keys'].post.security).toEqual([{ bearer: [] }]);
  });

  it('serves Swagger UI and its assets without a key', async () => {
    const page = await t.http().get('/docs').expect(200);
    expect(page.text).toContain('swagger-ui');
    const init = await t.http().get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toContain('persistAuthorization');
    await t.http().get('/docs/swagger-ui-bundle.js').expect(200);
    await t.http().get('/docs/openapi.yaml').expect(200);
  });

  it('documents what the app really answers for a listed operation', async () => {
    const listed = await t.http().get('/v1/api-keys').set(bearer(t.adminKey)).expect(200);
    expect(Object.keys(listed.body)).toEqual(['items']);
    expect(served.paths['/v1/api-keys'].get.operationId).toBe('listApiKeys');
  });
});
