// Test page: the State API over the page's own WebSocket (shared/api/websocket-browser.ts) against a server;
// and a server that never sends ApiHello, which must fail within the timeout.
import { connectApiBrowser } from '../../../shared/api/websocket-browser.ts';

declare global {
  interface Window {
    stateosWs?: {
      run(url: string, credential?: string): Promise<{ binding: number; user: string; anonymous: boolean; titles: string[]; created?: string }>;
      /** Connects with a short timeout; how it failed (code and ms), or 'connected'. */
      silent(url: string, timeoutMs: number): Promise<{ code?: string; ms: number } | 'connected'>;
    };
  }
}

window.stateosWs = {
  async run(url, credential) {
    const c = await connectApiBrowser(url, WebSocket);
    try {
      const r = credential ? await c.client.login(credential, c.binding, { app: 'api-ws page' }) : await c.client.register({ app: 'api-ws page' });
      const titles = (await c.client.list('media')).map((m) => (m.view as { title: string }).title);
      const created = credential ? ((await c.client.create('playlist', { title: 'from the page' })).view as { title: string }).title : undefined;
      document.getElementById('out')!.textContent = JSON.stringify({ user: r.user, titles, created });
      return { binding: c.binding.length, user: r.user, anonymous: r.anonymous, titles, created };
    } finally {
      c.close();
    }
  },
  async silent(url, timeoutMs) {
    const t0 = performance.now();
    try {
      (await connectApiBrowser(url, WebSocket, timeoutMs)).close();
      return 'connected';
    } catch (e) {
      return { code: (e as { code?: string }).code, ms: performance.now() - t0 };
    }
  },
};
