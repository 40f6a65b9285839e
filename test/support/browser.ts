import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). Playwright's own
 * browser builds are never downloaded: only `playwright-core` is installed, which ships none.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Screenshots land here (git-ignored), so a failed or suspicious run can be looked at. */
export const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium with a fresh profile (playwright gives each launch its own). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: install Chromium with ` +
        '`apt-get update && apt-get install -y chromium` (never `npx playwright install`)',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * A browser context that can reach 127.0.0.1 only. Everything the tests serve listens there;
 * anything else (oidc-provider's login page imports a web font, for example) is refused at
 * once instead of waiting on a network the test machine may not have. Refused URLs are
 * collected for error messages.
 */
export async function newLoopbackContext(
  browser: Browser,
): Promise<{ context: BrowserContext; refusedUrls: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const refusedUrls: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') {
      await route.continue();
    } else {
      refusedUrls.push(url.href);
      await route.abort('addressunreachable');
    }
  });
  return { context, refusedUrls };
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; the listener is closed again). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
  return port;
}

/**
 * Saves a screenshot as `test-artifacts/<name>.png` and returns its path: of the whole page, or
 * of one element (scrolled into view) when given a locator. `style` is CSS applied only while
 * the picture is taken, e.g. to hide what would bury the interesting part.
 */
export async function saveScreenshot(
  target: Page | Locator,
  name: string,
  options: { style?: string } = {},
): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  if ('goto' in target) await target.screenshot({ path, fullPage: true, style: options.style });
  else await target.screenshot({ path, style: options.style });
  return path;
}
