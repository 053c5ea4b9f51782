// Everything a browser test needs: a page server and Chromium, and pages that record their own errors.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { type Chromium, launchChromium, type LaunchOptions } from './chromium.ts';
import { type PageServer, REPO_ROOT, startPageServer } from './server.ts';

export { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium, type LaunchOptions } from './chromium.ts';
export { REPO_ROOT, startPageServer } from './server.ts';
export { spawnChromium, type SpawnedChromium } from './spawned.ts';
export { allowLocalCandidates, WEBRTC_LOOPBACK_ARGS } from './webrtc.ts';

export const ARTIFACTS = join(REPO_ROOT, 'tests', 'artifacts');

export interface TestPage {
  page: Page;
  /** Uncaught exceptions and console errors of the page, in order. */
  errors: string[];
}

export interface BrowserEnv {
  server: PageServer;
  chromium: Chromium;
  /** Opens `path` (e.g. '/tests/browser/pages/ring.html') in a new tab; see openTestPage. */
  open(path: string, ready?: string): Promise<TestPage>;
  cdp(page: Page): Promise<CDPSession>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens `url` in a new tab of `context`, recording its errors, and waits until `ready` is true in it. */
export async function openTestPage(context: BrowserContext, url: string, ready?: string): Promise<TestPage> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.stack ?? e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  await page.goto(url);
  if (ready) await page.waitForFunction(ready, undefined, { timeout: 30_000 });
  return { page, errors };
}

export async function startBrowserEnv(opts: LaunchOptions = {}): Promise<BrowserEnv> {
  const server = await startPageServer();
  let chromium: Chromium;
  try {
    chromium = await launchChromium(opts);
  } catch (e) {
    await server.close();
    throw e;
  }
  return {
    server,
    chromium,
    open: (path, ready) => openTestPage(chromium.context, server.url(path), ready),
    cdp: (page) => chromium.context.newCDPSession(page),
    async screenshot(page, name) {
      await mkdir(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, name);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      try {
        await chromium.close();
      } finally {
        await server.close();
      }
    },
  };
}
