import fastifyHelmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

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

/**
 * Security headers on every answer (SPEC §11) with @fastify/helmet: `nosniff`, no framing
 * (`X-Frame-Options: DENY` and `frame-ancestors 'none'`), and a CSP per kind of route.
 * HSTS is left to whoever terminates TLS (Outlink speaks plain HTTP behind it), where
 * includeSubDomains is a decision about the whole domain, not about this service.
 * Must run before the routes are registered (the docs routes' policy is attached as they are).
 */
export async function useSecurityHeaders(
  app: NestFastifyApplication,
  docsPath: string,
): Promise<void> {
  const docsPrefix = `/${docsPath}`;
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      if (route.url === docsPrefix || route.url.startsWith(`${docsPrefix}/`)) {
        route.config = { ...route.config, helmet: { contentSecurityPolicy: DOCS_POLICY } };
      }
    });
  const options: FastifyHelmetOptions = {
    global: true,
    contentSecurityPolicy: API_POLICY,
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: false,
  };
  await app.register(fastifyHelmet, options);
}
