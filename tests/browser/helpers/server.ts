// A Vite dev server over the repository, for browser tests: pages under tests/browser/pages/ import the
// project's TypeScript directly. No config file, no file watching and no HMR, so edits made elsewhere in the
// checkout while a test runs never reload its page.
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface PageServer {
  /** e.g. http://127.0.0.1:40123 */
  origin: string;
  url(path: string): string;
  close(): Promise<void>;
}

export async function startPageServer(): Promise<PageServer> {
  const server = await createServer({
    root: REPO_ROOT,
    configFile: false,
    logLevel: 'error',
    clearScreen: false,
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
    // Find the pages' dependencies at start-up: one discovered later would make Vite reload the page.
    optimizeDeps: { entries: ['tests/browser/pages/*.html'], include: ['idb'] },
  });
  try {
    await server.listen();
  } catch (e) {
    await server.close();
    throw e;
  }
  const { port } = server.httpServer!.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return { origin, url: (path) => new URL(path, origin).href, close: () => server.close() };
}
