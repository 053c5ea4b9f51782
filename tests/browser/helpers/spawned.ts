// Chromium as a child process of ours, driven over CDP: for tests that kill the whole browser (SIGKILL) and
// start it again on the same profile. (playwright-core does not expose the process of a persistent
// context, and its non-persistent contexts keep IndexedDB in memory.)
import { type ChildProcess, spawn } from 'node:child_process';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';

export interface SpawnedChromium {
  browser: Browser;
  /** The default context: the profile in `profileDir`, on disk. */
  context: BrowserContext;
  pid: number;
  /**
   * SIGKILL, no shutdown, no flush: to the browser process only (its helper processes, the storage service
   * among them, then notice and exit on their own), or to every process of the browser at once. Resolves
   * once all of them are gone.
   */
  kill(scope?: 'browser' | 'all'): Promise<void>;
  close(): Promise<void>;
}

export async function spawnChromium(profileDir: string): Promise<SpawnedChromium> {
  const child = spawn(
    CHROMIUM_PATH,
    [...CHROMIUM_ARGS, '--headless', '--remote-debugging-port=0', `--user-data-dir=${profileDir}`, 'about:blank'],
    // Its own process group, so that a kill takes its helper processes (renderers, storage) with it.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let endpoint: string;
  try {
    endpoint = await devtoolsEndpoint(child);
  } catch (e) {
    await killGroup(child.pid!, exited);
    throw e;
  }
  const pid = child.pid!;
  let browser: Browser;
  try {
    browser = await chromium.connectOverCDP(endpoint);
  } catch (e) {
    await killGroup(pid, exited);
    throw e;
  }
  return {
    browser,
    context: browser.contexts()[0],
    pid,
    async kill(scope = 'all') {
      if (scope === 'browser') child.kill('SIGKILL');
      await killGroup(pid, exited, scope === 'browser' ? 10_000 : 0);
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) await browser.close();
      await killGroup(pid, exited); // whatever is left of it, so the profile is free
    },
  };
}

/**
 * Waits up to `graceMs` for the browser's process group to exit, then SIGKILLs what is left of it; resolves
 * once every process in it is gone.
 */
async function killGroup(pid: number, exited: Promise<void>, graceMs = 0): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw e;
    }
  };
  for (const deadline = Date.now() + graceMs; alive() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
  if (alive()) process.kill(-pid, 'SIGKILL');
  await exited;
  for (const deadline = Date.now() + 10_000; alive(); ) {
    if (Date.now() > deadline) throw new Error(`Chromium's processes (group ${pid}) did not exit after SIGKILL`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function devtoolsEndpoint(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not print its DevTools endpoint: ${seen.slice(-500)}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}) before it was ready: ${seen.slice(-500)}`));
    });
  });
}
