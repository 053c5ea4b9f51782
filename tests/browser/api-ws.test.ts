// The State API over the browser's own WebSocket (shared/api/websocket-browser.ts) in real Chromium against
// a real `stateos serve`: an anonymous page lists the sample; a page with a credential registers as its
// user (the proof made in the page, with Web Crypto's Ed25519, over the server's ApiHello nonce) and
// creates a playlist; no page error.
import { mkdtempSync, rmSync } from 'node:fs';
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
});
