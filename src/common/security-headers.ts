import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * API answers are JSON that no browser should render, frame or let load anything: the strictest
 * policy. The callback page sets its own (oauth-callback.controller.ts), which replaces this one.
 */
const API_POLICY = {
  useDefaults: false,
  directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
};

/**
 * What Swagger UI needs and no more: its own scripts and styles, the inline <style> of its page,
 * data: images from its stylesheet, and calls to this origin. Still not frameable.
 */
const DOCS_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
};

const helmetOptions = (contentSecurityPolicy: HelmetOptions['contentSecurityPolicy']) => ({
  contentSecurityPolicy,
  xFrameOptions: { action: 'deny' as const },
  strictTransportSecurity: false,
});

/**
 * The headers helmet sets with these options, captured once. Our policies are constant (no
 * nonces), so every answer gets the same values; @fastify/helmet rebuilt the helmet middleware,
 * CSP parsing included, for every request, in two hooks (issue 10: the token route's speed).
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * Security headers on every answer (SPEC §11), as helmet computes them: `nosniff`, no framing
 * (`X-Frame-Options: DENY` and `frame-ancestors 'none'`), and a CSP per kind of route.
 * HSTS is left to whoever terminates TLS (Outlink speaks plain HTTP behind it), where
 * includeSubDomains is a decision about the whole domain, not about this service.
 * Must run before the routes are registered (the docs routes' headers are attached as they are).
 */
export function useSecurityHeaders(app: NestFastifyApplication, docsPath: string): void {
  const apiHeaders = helmetHeaders(helmetOptions(API_POLICY));
  const docsHeaders = helmetHeaders(helmetOptions(DOCS_POLICY));
  const docsPrefix = `/${docsPath}`;
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    if (route.url === docsPrefix || route.url.startsWith(`${docsPrefix}/`)) {
      route.config = { ...route.config, securityHeaders: docsHeaders };
    }
  });
  // onRequest, so that answers a route or an error handler writes later can still replace them.
  fastify.addHook('onRequest', (request, reply, done) => {
    const config = request.routeOptions.config as { securityHeaders?: Record<string, string> };
    void reply.headers(config.securityHeaders ?? apiHeaders);
    done();
  });
}
