// Debian's Chromium driven by playwright-core, each launch with a fresh profile in a temporary directory
// (removed on close). A real on-disk profile, not an incognito context: IndexedDB then writes to disk, as a
// user's browser does, and the profile can be reopened by a second launch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Chromium {
  context: BrowserContext;
  profileDir: string;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  viewport?: { width: number; height: number };
  /** Flags added to CHROMIUM_ARGS (for example WEBRTC_LOOPBACK_ARGS). */
  args?: string[];
}

export async function launchChromium(opts: LaunchOptions = {}): Promise<Chromium> {
  const profileDir = await mkdtemp(join(tmpdir(), 'stateos-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
      headless: true,
      viewport: opts.viewport ?? { width: 1100, height: 900 },
    });
  } catch (e) {
    await rm(profileDir, { recursive: true, force: true });
    throw new Error(`could not launch Chromium at ${CHROMIUM_PATH} (install it with: apt-get install chromium): ${(e as Error).message}`, { cause: e });
  }
  return {
    context,
    profileDir,
    async close() {
      try {
        await context.close();
      } finally {
        await rm(profileDir, { recursive: true, force: true });
      }
    },
  };
}
