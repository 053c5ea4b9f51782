// The web app served by a real state server at /: it loads with no errors, joins that server as a viewer
// over WebRTC, lists the media, playlists and channels, follows changes live, is usable with the keyboard
// (down to opening the player with ?play=ID), and says so when the server goes away.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../helpers/cli.ts';
import { type AppEnv, buildApp, startAppEnv } from './helpers/app.ts';
import type { TestPage } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-app-'));
const args = ['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--cluster-key', 'app-test-cluster-key-0001'];
let server: Served;
let env: AppEnv;
let t: TestPage;
let media: { id: string; title: string };

const post = async (path: string, body: unknown) => {
  const r = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as { id: string };
};

/** The text of the list rows of one application, as the page shows them. */
const rows = (list: string): Promise<string[]> => t.page.locator(`${list} tbody tr`).allInnerTexts();

beforeAll(async () => {
  const build = await buildApp();
  server = await serve([...args, '--sample']);
  [media] = (await (await fetch(`${server.url}/api/objects`)).json()) as { id: string; title: string }[];
  const playlist = await post('/api/playlists', { title: 'Lobby loop', clips: [{ media: media.id, startMs: 0, endMs: 5000 }, { media: media.id, startMs: 8000 }] });
  await post('/api/channels', { name: 'lobby', title: 'Lobby', mode: 'live', playlists: [playlist.id] });
  env = await startAppEnv(build, { origins: [server.url] });
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the web app, served by a state server', () => {
  it('is served at / and at its paths, index.html revalidated, hashed assets immutable', async () => {
    const root = await fetch(`${server.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(root.headers.get('cache-control')).toBe('no-cache');
    const html = await root.text();
    expect(html).toContain('<stateos-app>');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const js = await fetch(server.url + asset);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const again = await fetch(server.url + asset, { headers: { 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);
    for (const path of ['/canvas', '/system', `/?play=${media.id}`]) {
      const r = await fetch(server.url + path);
      expect(r.status, path).toBe(200);
      expect(await r.text(), path).toBe(html);
    }
    // the in-tab demo is a page of its own, at /demo and /demo/ (a folder's index.html)
    for (const path of ['/demo', '/demo/']) {
      const r = await fetch(server.url + path);
      expect(r.status, path).toBe(200);
      expect(await r.text(), path).toContain('<stateos-demo>');
    }
    // the API and missing files stay JSON 404s
    const missing = await fetch(`${server.url}/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await fetch(`${server.url}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/objects`)).headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('loads with no page errors, joins the server, lists the sample media, the playlist and the channel', async () => {
    t = await env.open(`${server.url}/`);
    await expect.poll(() => rows('stateos-media-list'), { timeout: 10_000 }).toEqual([expect.stringContaining('stateos sample clip')]);
    expect((await rows('stateos-media-list'))[0]).toMatch(/0:20[\s\S]*video H\.264 640×360[\s\S]*audio AAC/);
    await expect.poll(() => rows('stateos-playlist-list')).toEqual([expect.stringMatching(/Lobby loop[\s\S]*\b2\b[\s\S]*0:17/)]);
    await expect.poll(() => rows('stateos-channel-list')).toEqual([expect.stringMatching(/Lobby[\s\S]*live[\s\S]*Lobby loop[\s\S]*\/hls\/channel\/lobby\/index\.m3u8/)]);
    const status = await t.page.locator('stateos-connection [role=status]').innerText();
    expect(status).toMatch(/^live server [0-9a-f]{8} at 127\.0\.0\.1:\d+$/);
    await env.screenshot(t.page, 'app-lists.png');
    expect(t.errors).toEqual([]);
  });

  it('follows changes live: a renamed media, a new playlist', async () => {
    const r = await fetch(`${server.url}/api/objects/${media.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Renamed live' }) });
    expect(r.status).toBe(200);
    await post('/api/playlists', { title: 'Evening', clips: [{ media: media.id }] });
    await expect.poll(() => rows('stateos-media-list'), { timeout: 10_000 }).toEqual([expect.stringContaining('Renamed live')]);
    // playlists name their clips by the media's title: they follow the rename too
    await expect.poll(() => rows('stateos-playlist-list'), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Evening[\s\S]*Renamed live/), expect.stringMatching(/^Lobby loop[\s\S]*Renamed live/)]);
    expect(t.errors).toEqual([]);
  });

  it('a second tab gets a ring and a viewer GUID of its own: both stay live', async () => {
    const second = await env.open(`${server.url}/canvas`);
    const ids = async (p: TestPage) => p.page.evaluate(() => ({ guid: window.stateos!.viewer!.guid, ring: window.stateos!.viewer!.ringName }));
    const [one, two] = [await ids(t), await ids(second)];
    expect(one.guid).not.toBe(two.guid);
    expect([one.ring, two.ring]).toEqual(['stateos-app', 'stateos-app 2']);
    await expect.poll(async () => ((await (await fetch(`${server.url}/api/peers`)).json()) as { peers: { role: string; state: string }[] }).peers.filter((p) => p.role === 'viewer' && p.state === 'live').length).toBe(2);
    expect(await t.page.evaluate(() => window.stateos!.connection.state.state)).toBe('live');
    await second.page.close();
    expect(second.errors).toEqual([]);
  });

  it('is usable with the keyboard: Tab reaches the media, Enter on Play opens the player (?play=ID), which plays', async () => {
    const focused = () => t.page.evaluate(() => {
      let el: Element | null = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el ? `${el.tagName} ${el.getAttribute('aria-label') ?? el.textContent?.trim()}` : '';
    });
    await t.page.locator('body').focus();
    let seen = '';
    for (let i = 0; i < 20 && !/^A Play /.test(seen); i++) {
      await t.page.keyboard.press('Tab');
      seen = await focused();
    }
    expect(seen).toBe('A Play Renamed live');
    await t.page.keyboard.press('Enter');
    await expect.poll(() => t.page.url()).toBe(`${server.url}/?play=${media.id}`);
    const player = t.page.locator('stateos-player');
    await expect.poll(() => player.locator('h2').innerText()).toBe('Renamed live');
    expect(await t.page.evaluate(() => document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-player')!.src)).toBe(`/hls/media/${media.id}/index.m3u8`);
    await expect
      .poll(() => t.page.evaluate(() => document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-player')!.shadowRoot!.querySelector('video')!.currentTime), { timeout: 15_000 })
      .toBeGreaterThan(1);
    await env.screenshot(t.page, 'app-player.png');
    // Close leaves the address without ?play=
    await player.getByRole('button', { name: 'Close the player' }).click();
    await expect.poll(() => t.page.url()).toBe(`${server.url}/`);
    expect(t.errors).toEqual([]);
  });

  it('says it is reconnecting, and why, when the server goes away; live again when it is back', async () => {
    await server.stop();
    const status = t.page.locator('stateos-connection [role=status]');
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toMatch(/^reconnecting to 127\.0\.0\.1:\d+: .+/);
    await env.screenshot(t.page, 'app-reconnecting.png');
    // the lists stay: they come from this browser's own ring
    expect(await rows('stateos-media-list')).toEqual([expect.stringContaining('Renamed live')]);
    // the server comes back at the same address with the same data: the page redials on its own
    const port = new URL(server.url).port;
    server = await serve([...args, '--http', `127.0.0.1:${port}`]);
    await expect.poll(() => status.innerText(), { timeout: 40_000, interval: 250 }).toMatch(/^live server [0-9a-f]{8} at 127\.0\.0\.1:\d+/);
    await post('/api/playlists', { title: 'After the restart', clips: [{ media: media.id }] });
    await expect.poll(() => rows('stateos-playlist-list'), { timeout: 10_000 }).toContainEqual(expect.stringMatching(/^After the restart/));
    expect(t.errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
  });
});
