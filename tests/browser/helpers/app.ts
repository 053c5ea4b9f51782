// The web app for browser tests: built once per test file into a temporary directory (vite build, about a
// second), which the `stateos serve` processes the test starts are pointed at (STATEOS_WEB_DIR), so tests
// running side by side never rebuild dist/web under each other's feet.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { type Chromium, launchChromium } from './chromium.ts';
import { ARTIFACTS, openTestPage, type TestPage } from './index.ts';
import { REPO_ROOT } from './server.ts';
import { allowLocalCandidates, WEBRTC_LOOPBACK_ARGS } from './webrtc.ts';

export interface AppBuild {
  dir: string;
  ms: number;
  remove(): Promise<void>;
}

/** Builds web/ (vite.config.ts) into a new temporary directory and points spawned servers at it. */
export async function buildApp(): Promise<AppBuild> {
  const dir = await mkdtemp(join(tmpdir(), 'stateos-web-'));
  const t0 = performance.now();
  try {
    await build({ configFile: join(REPO_ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: dir, emptyOutDir: true, sourcemap: false } });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  process.env.STATEOS_WEB_DIR = dir;
  return { dir, ms: performance.now() - t0, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface AppEnv {
  build: AppBuild;
  chromium: Chromium;
  /** Opens `url` (a server's page), recording errors; waits until the viewer is live (unless `live` is false). */
  open(url: string, opts?: { live?: boolean }): Promise<TestPage>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Chromium able to do WebRTC on loopback with pages of `origins` (the servers' URLs, started after
 * buildApp() so that they serve this build); close() removes the build too.
 */
export async function startAppEnv(b: AppBuild, opts: { origins: string[]; viewport?: { width: number; height: number } }): Promise<AppEnv> {
  let chromium: Chromium;
  try {
    chromium = await launchChromium({ args: WEBRTC_LOOPBACK_ARGS, viewport: opts.viewport ?? { width: 1280, height: 860 } });
  } catch (e) {
    await b.remove();
    throw e;
  }
  for (const o of opts.origins) await allowLocalCandidates(chromium.context, o);
  return {
    build: b,
    chromium,
    open: (url, o = {}) => openTestPage(chromium.context, url, o.live === false ? '!!window.stateos' : "window.stateos?.connection.state.state === 'live'"),
    async screenshot(page, name) {
      await mkdir(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, name);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      try {
        await chromium.close();
      } finally {
        await b.remove();
      }
    },
  };
}
