import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RouteConfig } from '@nestjs/platform-fastify';
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
 * JSON answers get what OWASP's REST Security Cheat Sheet asks of an API (CSP, X-Frame-Options,
 * nosniff; Cache-Control where it matters), not helmet's headers for documents a browser opens
 * (opener and origin-agent isolation, DNS prefetch, IE download and XSS-filter switches, Flash
 * policies): they mean nothing on JSON, and each header costs every answer of the token route
 * (issue 10).
 */
const JSON_ANSWER_OPTIONS: HelmetOptions = {
  ...helmetOptions(API_POLICY),
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** On a route that answers an HTML page: helmet's headers for documents (see useSecurityHeaders). */
export const HtmlPage = (): MethodDecorator => RouteConfig({ htmlPage: true });

/** Fastify leaves `config` undefined on routes that set none. */
const isHtmlPage = (routeConfig: unknown): boolean =>
  (routeConfig as { htmlPage?: boolean } | undefined)?.htmlPage === true;

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
 * (`X-Frame-Options: DENY` and `frame-ancestors 'none'`), and a CSP per kind of route; HTML pages
 * (Swagger UI, the callback page marked @HtmlPage) also get helmet's headers for documents.
 * HSTS is left to whoever terminates TLS (Outlink speaks plain HTTP behind it), where
 * includeSubDomains is a decision about the whole domain, not about this service.
 * Must run before the routes are registered (the docs routes' headers are attached as they are).
 */
export function useSecurityHeaders(app: NestFastifyApplication, docsPath: string): void {
  const apiHeaders = helmetHeaders(JSON_ANSWER_OPTIONS);
  const pageHeaders = helmetHeaders(helmetOptions(API_POLICY));
  const docsHeaders = helmetHeaders(helmetOptions(DOCS_POLICY));
  const docsPrefix = `/${docsPath}`;
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    if (route.url === docsPrefix || route.url.startsWith(`${docsPrefix}/`)) {
      route.config = { ...route.config, securityHeaders: docsHeaders };
    } else if (isHtmlPage(route.config)) {
      route.config = { ...route.config, securityHeaders: pageHeaders };
    }
  });
  // onRequest, so that answers a route or an error handler writes later can still replace them.
  fastify.addHook('onRequest', (request, reply, done) => {
    const config = request.routeOptions.config as { securityHeaders?: Record<string, string> };
    void reply.headers(config.securityHeaders ?? apiHeaders);
    done();
  });
}
