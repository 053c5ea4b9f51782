// A browser whose storage quota is full: the app says so (an alert in the header) instead of losing the
// STUs silently. Chromium's quota for the server's origin is set through the DevTools protocol
// (Storage.overrideQuotaForOrigin), before the page loads (the ring cannot open) or while it is live (the
// STUs the server sends cannot be stored).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../helpers/cli.ts';
import { type AppEnv, buildApp, startAppEnv } from './helpers/app.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-app-storage-'));
let server: Served;
let env: AppEnv;

beforeAll(async () => {
  const build = await buildApp();
  server = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--sample']);
  env = await startAppEnv(build, { origins: [server.url] });
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const post = async (path: string, body: unknown) => {
  const r = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as { id: string };
};

describe('the web app when the browser storage is full', () => {
  it('cannot even open its ring: says the viewer could not start, and why', async () => {
    const page = await env.chromium.context.newPage();
    const cdp = await env.chromium.context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 1 });
    await page.goto(`${server.url}/?server=${encodeURIComponent(server.url)}`);
    const header = page.locator('stateos-connection .box');
    await expect.poll(() => header.innerText(), { timeout: 20_000, interval: 250 }).toMatch(/^failed\s+the viewer could not start: QUOTA: browser storage quota exceeded/);
    await env.screenshot(page, 'app-storage-failed.png');
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url });
    await page.close();
  });

  it('fills up while live: an alert says the STUs from the server were not stored, and when the page reopens its ring with room nothing was lost', async () => {
    // Chromium takes a quota override only when the origin's storage is first opened, so a storage that
    // fills while the page is live is made here: IndexedDB writes fail as a full quota fails them, with a
    // QuotaExceededError, while window.quotaFull is set.
    const page = await env.chromium.context.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { quotaFull: boolean };
      w.quotaFull = false;
      for (const m of ['put', 'add'] as const) {
        const real = IDBObjectStore.prototype[m];
        IDBObjectStore.prototype[m] = function (this: IDBObjectStore, ...a: Parameters<IDBObjectStore['put']>) {
          if (w.quotaFull) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return real.apply(this, a);
        };
      }
    });
    await page.goto(`${server.url}/`);
    const header = page.locator('stateos-connection .box');
    await expect.poll(() => header.innerText(), { timeout: 20_000, interval: 250 }).toMatch(/^live/);
    const [media] = (await (await fetch(`${server.url}/api/objects`)).json()) as { id: string }[];
    await page.evaluate(() => ((window as unknown as { quotaFull: boolean }).quotaFull = true));
    await post('/api/playlists', { title: 'Does not fit', clips: [{ media: media.id }] });
    const alert = page.locator('stateos-app .storage-banner[role=alert]');
    await expect.poll(() => alert.innerText().catch(() => ''), { timeout: 20_000, interval: 250 }).toMatch(/^This browser could not store what the server sent \(storage full: .*quota exceeded/i);
    expect(await page.locator('stateos-connection .storage').innerText()).toBe('storage full');
    await env.screenshot(page, 'app-storage-full.png');
    // not stored, so not shown
    expect(await page.locator('stateos-playlist-list tbody tr').allInnerTexts()).toEqual([]);
    // the ring takes no more appends once the browser refused one (web/ring/idb-errors.ts): the alert stays
    await post('/api/playlists', { title: 'Also not stored', clips: [{ media: media.id }] });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await alert.innerText()).toMatch(/storage full/);
    // room again, the page reloaded: the ring reopens and the catch-up brings what was missed, nothing lost
    await page.reload(); // (window.quotaFull starts false again)
    await expect.poll(() => header.innerText(), { timeout: 20_000, interval: 250 }).toMatch(/^live/);
    await expect
      .poll(async () => (await page.locator('stateos-playlist-list tbody tr').allInnerTexts()).map((r) => r.split('\n')[0]).sort(), { timeout: 20_000 })
      .toEqual(['Also not stored', 'Does not fit']);
    expect(await alert.count()).toBe(0);
    await page.close();
  });
});
