// Test page: the State API over the page's own WebSocket (shared/api/websocket-browser.ts) against a server.
import { connectApiBrowser } from '../../../shared/api/websocket-browser.ts';

declare global {
  interface Window {
    stateosWs?: { run(url: string, credential?: string): Promise<{ binding: number; user: string; anonymous: boolean; titles: string[]; created?: string }> };
  }
}

window.stateosWs = {
  async run(url, credential) {
    const c = await connectApiBrowser(url);
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
};
