// The State API over the browser's own WebSocket (shared/api/websocket-browser.ts) in real Chromium against
// a real `stateos serve`: an anonymous page lists the sample; a page with a credential registers as its
// user (the proof made in the page, with Web Crypto's Ed25519, over the server's ApiHello nonce) and
// creates a playlist; no page error. A server that completes the handshake but never sends ApiHello makes
// connectApiBrowser fail with TIMEOUT.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served, stateos } from '../helpers/cli.ts';
import { type BrowserEnv, startBrowserEnv } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-api-ws-'));
let server: Served;
let env: BrowserEnv;

beforeAll(async () => {
  server = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--sample', '--rtsp', 'off']);
  env = await startBrowserEnv();
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the State API over a WebSocket, in Chromium', () => {
  it('serves an anonymous page and a page with a credential', async () => {
    const { page, errors } = await env.open('/tests/browser/pages/api-ws.html', '!!window.stateosWs');
    const anon = await page.evaluate((url) => window.stateosWs!.run(url), server.url);
    expect(anon).toEqual({ binding: 32, user: 'anonymous', anonymous: true, titles: ['stateos sample clip'] });
    const credential = (await stateos(['token', 'issue', '--user', 'pageuser', '--data', join(tmp, 'a')])).stdout.trim();
    const user = await page.evaluate(([url, c]) => window.stateosWs!.run(url, c), [server.url, credential] as const);
    expect(user).toMatchObject({ user: 'pageuser', anonymous: false, titles: ['stateos sample clip'], created: 'from the page' });
    expect(errors).toEqual([]);
  });

  it('gives up with TIMEOUT on a server that never sends ApiHello', async () => {
    // a WebSocket server by hand: a correct stx.1 handshake, then nothing
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (!got.includes('\r\n\r\n')) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(got)?.[1] ?? '';
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nsec-websocket-protocol: stx.1\r\n\r\n`);
        got = '';
        socket.removeAllListeners('data');
      });
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { page, errors } = await env.open('/tests/browser/pages/api-ws.html', '!!window.stateosWs');
      const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const r = await page.evaluate(([u]) => window.stateosWs!.silent(u, 800), [url] as const);
      expect(r).toMatchObject({ code: 'TIMEOUT' });
      expect((r as { ms: number }).ms).toBeGreaterThanOrEqual(700);
      expect(sockets.length).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
