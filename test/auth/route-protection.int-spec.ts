import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService } from '@nestjs/core';
import { BACKEND } from '../support/test-database.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

type Access = 'public' | 'admin' | 'consumer';

/**
 * Every route of the API and who may call it (SPEC §3, §11). A new route fails this test until it
 * is listed here, so its protection is a decision, not an accident. Consumer routes are the ones
 * a consumer key may call for the links it is granted.
 */
const INVENTORY: Record<string, Access> = {
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /v1/oauth/callback': 'public',
  'GET /metrics': 'admin',
  'POST /v1/api-keys': 'admin',
  'GET /v1/api-keys': 'admin',
  'DELETE /v1/api-keys/:id': 'admin',
  'GET /v1/providers': 'admin',
  'GET /v1/providers/:providerId': 'admin',
  'GET /v1/oauth/redirect-url': 'admin',
  'POST /v1/links': 'admin',
  'GET /v1/links': 'admin',
  'GET /v1/links/:id': 'consumer',
  'PATCH /v1/links/:id': 'admin',
  'DELETE /v1/links/:id': 'admin',
  'GET /v1/links/:id/events': 'admin',
  'POST /v1/links/:id/authorize': 'admin',
  'GET /v1/links/:id/token': 'consumer',
  'POST /v1/links/:id/refresh': 'admin',
  // SPEC §13 webhooks
  'POST /v1/webhooks': 'admin',
  'GET /v1/webhooks': 'admin',
  'GET /v1/webhooks/:id': 'admin',
  'DELETE /v1/webhooks/:id': 'admin',
  'POST /v1/webhooks/:id/test': 'admin',
  'GET /v1/webhooks/:id/deliveries': 'admin',
  // SPEC §12 consumers recover by themselves
  'POST /v1/links/:id/token/renew': 'consumer',
  // SPEC §13 overlapping client secrets
  'POST /v1/links/:id/client-secret/promote': 'admin',
  // SPEC §15
  'GET /v1/links/:id/certificate': 'admin',
};
/** Swagger UI and its document are served by Fastify plugins, outside Nest's guard. */
const SWAGGER_UI = /^\/docs(\/|$)/;
const GRANTED_LINK = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const OTHER_LINK = '6b1f3c1e-0000-4000-8000-000000000000';

/** `METHOD /path` of every handler of every controller Nest knows, from its route metadata. */
function controllerRoutes(t: TestApp): { controller: string; route: string }[] {
  const routes: { controller: string; route: string }[] = [];
  for (const wrapper of t.app.get(DiscoveryService).getControllers()) {
    const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
    if (!controller) continue;
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (method === undefined || path === undefined) continue;
      const url = `/${[prefix, path]
        .map((part) => part.replace(/^\/|\/$/g, ''))
        .filter(Boolean)
        .join('/')}`;
      routes.push({ controller: controller.name, route: `${RequestMethod[method]} ${url}` });
    }
  }
  return routes;
}

const pathOf = (route: string, id: string): string =>
  route.split(' ')[1].replace(/:[A-Za-z]+/g, id);
const send = (t: TestApp, route: string, id: string, key?: string) => {
  const request = t.http()[route.split(' ')[0].toLowerCase() as 'get'](pathOf(route, id));
  return (key ? request.set(bearer(key)) : request).send({});
};

describe(`every route is in the inventory and protected as it says (${BACKEND})`, () => {
  let t: TestApp;
  let consumerKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    const created = await t
      .http()
      .post('/v1/api-keys')
      .set(bearer(t.adminKey))
      .send({ name: 'granted one link', role: 'consumer', linkIds: [GRANTED_LINK] })
      .expect(201);
    consumerKey = created.body.key as string;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists exactly the routes the app serves, and every controller has its routes listed', () => {
    const served = t.routes
      .filter(
        ({ method, url }) => !SWAGGER_UI.test(url) && method !== 'HEAD' && method !== 'OPTIONS',
      )
      .map(({ method, url }) => `${method} ${url}`)
      .sort();
    expect(served).toEqual(Object.keys(INVENTORY).sort());

    const byController = controllerRoutes(t);
    const controllers = new Set(byController.map((entry) => entry.controller));
    expect(controllers.size).toBeGreaterThanOrEqual(9);
    for (const { controller, route } of byController)
      expect({ controller, route, listed: route in INVENTORY }).toEqual({
        controller,
        route,
        listed: true,
      });
  });

  it('answers 401 problem+json without a key on every route that is not public', async () => {
    for (const [route, access] of Object.entries(INVENTORY)) {
      if (access === 'public') continue;
      const response = await send(t, route, GRANTED_LINK);
      expect({ route, status: response.status }).toEqual({ route, status: 401 });
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('refuses consumer keys on admin routes and on links they are not granted', async () => {
    for (const [route, access] of Object.entries(INVENTORY)) {
      if (access === 'public') continue;
      const granted = await send(t, route, GRANTED_LINK, consumerKey);
      const other = await send(t, route, OTHER_LINK, consumerKey);
      if (access === 'admin') {
        expect({ route, status: granted.status }).toEqual({ route, status: 403 });
      } else {
        // Past the guard: the link does not exist, or is not connected.
        expect({ route, passed: ![401, 403].includes(granted.status) }).toEqual({
          route,
          passed: true,
        });
        expect({ route, status: other.status }).toEqual({ route, status: 403 });
      }
    }
  });

  it('leaves the public routes open', async () => {
    await t.http().get('/health/live').expect(200);
    await t.http().get('/health/ready').expect(200);
    await t.http().get('/docs').expect(200);
    // The callback needs no key: its state is the credential (400 without one).
    expect(
      (await t.http().get('/v1/oauth/callback').set('accept', 'application/json')).status,
    ).toBe(400);
  });
});
