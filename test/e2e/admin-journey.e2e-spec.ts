import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startDovecot, type TestDovecot } from '../support/dovecot.js';
import { freePort, launchBrowser, newLoopbackContext, saveScreenshot } from '../support/browser.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { BACKEND } from '../support/test-database.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Long enough for a slow CI machine, short enough that a hang fails well inside jest's 60 s. */
const UI_TIMEOUT_MS = 10_000;

interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
}

interface TryItOutAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Drives Swagger UI the way an admin does: the Authorize dialog, then per operation "Try it
 * out", parameters, body, Execute, and the "Server response" panel. Operations are found by
 * Swagger UI's stable block ids, `#operations-<tag>-<operationId>`, with the tag read from the
 * served document, so a reworded summary or a moved route does not break the journey.
 */
class SwaggerUi {
  constructor(
    private readonly page: Page,
    private readonly document: OpenApiDocument,
  ) {}

  private findOperation(operationId: string): { tag: string } | undefined {
    for (const methods of Object.values(this.document.paths)) {
      for (const operation of Object.values(methods)) {
        if (operation.operationId === operationId) return { tag: operation.tags?.[0] ?? 'default' };
      }
    }
    return undefined;
  }

  operationBlock(operationId: string): Locator {
    const operation = this.findOperation(operationId);
    if (operation === undefined) throw new Error(`${operationId} is not in the served document`);
    return this.page.locator(`#operations-${operation.tag}-${operationId}`);
  }

  /** Authorize button -> bearer field -> Authorize -> Close; the lock icon then shows "locked". */
  async authorize(apiKey: string): Promise<void> {
    await this.page.locator('.scheme-container .auth-wrapper button.authorize').click();
    const dialog = this.page.locator('.dialog-ux .modal-ux');
    await dialog.locator('input[aria-label="auth-bearer-value"]').fill(apiKey);
    await dialog.locator('.auth-btn-wrapper button[aria-label="Apply credentials"]').click();
    // Once applied, the dialog swaps its Authorize button for Logout.
    await dialog.locator('.auth-btn-wrapper button[aria-label="Remove authorization"]').waitFor();
    await dialog.locator('button.btn-done').click();
    await dialog.waitFor({ state: 'detached' });
    await this.page.locator('.scheme-container .auth-wrapper button.authorize.locked').waitFor();
  }

  /** Expands the operation, "Try it out", fills the inputs, Execute, and reads the answer. */
  async tryItOut(
    operationId: string,
    inputs: { pathParams?: Record<string, string>; body?: unknown } = {},
  ): Promise<TryItOutAnswer> {
    const block = this.operationBlock(operationId);
    await block.scrollIntoViewIfNeeded();
    if (!(await block.evaluate((element) => element.classList.contains('is-open')))) {
      await block.locator('.opblock-summary-control').click();
    }
    await block.locator('.try-out__btn:not(.cancel)').click();
    for (const [name, value] of Object.entries(inputs.pathParams ?? {})) {
      await block.locator(`tr[data-param-name="${name}"][data-param-in="path"] input`).fill(value);
    }
    if (inputs.body !== undefined) {
      await block.locator('textarea.body-param__text').fill(JSON.stringify(inputs.body, null, 2));
    }
    await block.locator('button.execute').click();

    const response = block.locator('.responses-wrapper .live-responses-table tr.response').first();
    const status = (await response.locator('.response-col_status').innerText()).trim();
    const bodyText = await response
      .locator('.response-col_description .highlight-code .microlight')
      .first()
      .innerText();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(bodyText) as Record<string, unknown>;
    } catch {
      throw new Error(
        `${operationId} answered ${status} with a body that is not JSON: ${bodyText}`,
      );
    }
    return { status: Number(status), body };
  }
}

describe(`admin journey in a real browser: Swagger UI -> provider consent -> token (${BACKEND})`, () => {
  let t: TestApp;
  let provider: TestProvider;
  let browser: Browser;
  let context: BrowserContext;
  let refusedUrls: string[];
  let baseUrl: string;
  let endpoints: { authorization_endpoint: string; token_endpoint: string };
  let dovecot: TestDovecot;

  beforeAll(async () => {
    // The provider redirects a real browser to Outlink, so the app must listen on a port that
    // is known before it starts (PUBLIC_BASE_URL makes the redirect URL).
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    t = await startTestApp({
      env: { PUBLIC_BASE_URL: baseUrl, ALLOW_INSECURE_ENDPOINTS: 'true' },
    });
    await t.app.listen({ port, host: '127.0.0.1' });
    // An hour, like real providers: the token step gets the token the consent produced.
    provider = await startTestProvider({
      redirectUri: t.config.redirectUrl,
      accessTokenTtlSeconds: 3600,
    });
    endpoints = (await (
      await fetch(`${provider.issuer}/.well-known/openid-configuration`)
    ).json()) as typeof endpoints;
    // SPEC §12: the connected link's mail check logs into a real Dovecot.
    dovecot = await startDovecot({
      introspectionUrl: `${provider.issuer}/token/introspection`,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
    });
    ({ context, refusedUrls } = await newLoopbackContext(browser));
    context.setDefaultTimeout(UI_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  }, 45_000);

  afterAll(async () => {
    await dovecot?.stop();
    await browser?.close();
    await t?.close();
    await provider?.close();
  });

  /**
   * Runs one step of the journey. A failure names the step and leaves a screenshot of every
   * open page in test-artifacts/, so a CI failure can be seen, not only read.
   */
  async function step<T>(name: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof Error) {
        const original = error.message;
        error.message = `[step: ${name}] ${original}`;
        error.stack = error.stack?.replace(original, error.message);
      }
      await Promise.allSettled(
        context.pages().map((page, index) => saveScreenshot(page, `admin-journey-failed-${index}`)),
      );
      throw error;
    }
  }

  it('creates a link, consents at the provider and fetches a token, all through the browser', async () => {
    const linkName = 'Helpdesk mailbox';
    const docs = await context.newPage();
    // Swagger UI runs under the CSP of /docs (SPEC §11): whatever it blocks Chromium reports here.
    const cspViolations: string[] = [];
    docs.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
    });
    const document = (await (
      await fetch(`${baseUrl}/docs/openapi.json`)
    ).json()) as OpenApiDocument;
    const swagger = new SwaggerUi(docs, document);

    await step('open /docs and authorize with the admin key', async () => {
      await docs.goto(`${baseUrl}/docs`);
      await docs.locator('.swagger-ui .information-container .title').waitFor();
      await swagger.authorize(t.adminKey);
    });

    const linkId = await step('create the link with POST /v1/links', async () => {
      const created = await swagger.tryItOut('createLink', {
        body: {
          name: linkName,
          provider: 'custom',
          clientId: provider.clientId,
          clientSecret: provider.clientSecret,
          scopes: ['openid', 'offline_access', 'email'],
          authorizationEndpoint: endpoints.authorization_endpoint,
          tokenEndpoint: endpoints.token_endpoint,
          authorizationParams: { prompt: 'consent' },
          mail: {
            imap: { host: '127.0.0.1', port: dovecot.imapPort, security: 'none' },
            pop3: { host: '127.0.0.1', port: dovecot.pop3Port, security: 'none' },
            smtp: { host: '127.0.0.1', port: dovecot.submissionPort, security: 'none' },
          },
        },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: linkName, status: 'pending_authorization' });
      expect(created.body).not.toHaveProperty('clientSecret');
      return created.body.id as string;
    });
    expect(linkId).toMatch(/^[0-9a-f-]{36}$/);

    const authorizationUrl = await step('start the authorization', async () => {
      const started = await swagger.tryItOut('authorizeLink', { pathParams: { id: linkId } });
      expect(started.status).toBe(201);
      const url = started.body.authorizationUrl as string;
      expect(url.startsWith(endpoints.authorization_endpoint)).toBe(true);
      return url;
    });

    const consent = await context.newPage();
    await step('sign in and consent at the provider', async () => {
      await consent.goto(authorizationUrl);
      // oidc-provider's devInteractions pages: any login and password sign in.
      // An address: Dovecot takes the account's `sub` as the mailbox (the mail check step).
      await consent.locator('form input[name="login"]').fill('alice@example.test');
      await consent.locator('form input[name="password"]').fill('any password');
      await consent.locator('form button[type="submit"]').click();
      await consent.locator('form input[name="prompt"][value="consent"]').waitFor({
        state: 'attached',
      });
      await consent.locator('form button[type="submit"]').click();
      await consent.waitForURL((url) => url.href.startsWith(t.config.redirectUrl));
    });

    await step('read the callback page', async () => {
      await consent.locator('h1[data-outcome="connected"]').waitFor();
      expect(await consent.locator('body').innerText()).toContain(
        `${linkName} is connected. You can close this window.`,
      );
      await saveScreenshot(consent, 'admin-journey-callback');
      await consent.close();
    });

    await step('see the link connected with GET /v1/links/{id}', async () => {
      const link = await swagger.tryItOut('getLink', { pathParams: { id: linkId } });
      expect(link.status).toBe(200);
      expect(link.body).toMatchObject({
        id: linkId,
        status: 'connected',
        refreshTokenPresent: true,
      });
    });

    // Nothing the journey needed came from outside the machine (oidc-provider's login page
    // imports a web font, which the browser context refuses; the page works without it).
    expect(refusedUrls.filter((url) => !url.startsWith('https://fonts.googleapis.com/'))).toEqual(
      [],
    );

    await step('fetch a token with GET /v1/links/{id}/token', async () => {
      const token = await swagger.tryItOut('getLinkToken', { pathParams: { id: linkId } });
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({
        linkId,
        tokenType: 'Bearer',
        scopes: expect.arrayContaining(['openid', 'offline_access']),
      });
      expect(typeof token.body.accessToken).toBe('string');
      expect((token.body.accessToken as string).length).toBeGreaterThan(10);
      expect(token.body.expiresIn).toBeGreaterThan(3000);
      expect(provider.grantCounts()).toEqual({ authorization_code: 1 });
      await saveSwaggerUiScreenshot(swagger.operationBlock('getLinkToken'));
    });

    await step('check the mailbox with POST /v1/links/{id}/mail-check', async () => {
      const checked = await swagger.tryItOut('checkLinkMail', { pathParams: { id: linkId } });
      expect(checked.status).toBe(200);
      expect(checked.body.results).toEqual([
        expect.objectContaining({ protocol: 'imap', ok: true }),
        expect.objectContaining({ protocol: 'pop3', ok: true }),
        expect.objectContaining({ protocol: 'smtp', ok: true }),
      ]);
      expect(provider.grantCounts()).toEqual({ authorization_code: 1 });
    });
    expect(cspViolations).toEqual([]);
  });
});

/** The operation as the admin sees it after Execute, without the documented responses below. */
async function saveSwaggerUiScreenshot(operationBlock: Locator): Promise<void> {
  await saveScreenshot(operationBlock, 'admin-journey-swagger-ui', {
    style: '.responses-table:not(.live-responses-table) { display: none !important; }',
  });
}
