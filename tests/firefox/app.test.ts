// The web app in Firefox (Debian's firefox-esr, driven over WebDriver BiDi: tests/helpers/firefox.ts),
// against a real state server with the sample, a playlist and a channel: the page joins the server as a
// viewer over Firefox's own RTCPeerConnection (plain 127.0.0.1 host candidates), lists the objects, keeps
// the metadata in its IndexedDB ring, plays `/?play=ID` with every load over WebRTC, and draws one
// rectangle per object on `/canvas`. Screenshots: tests/artifacts/firefox-*.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppBuild, buildApp } from '../browser/helpers/app.ts';
import { ARTIFACTS } from '../browser/helpers/index.ts';
import { serve, type Served } from '../helpers/cli.ts';
import { type Firefox, type FirefoxTab, launchFirefox } from '../helpers/firefox.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-firefox-app-'));
let build: AppBuild;
let server: Served;
let firefox: Firefox;
let t: FirefoxTab;
let serverGuid: string;
let objects: { id: string; title: string; type: string }[];
let launchError: Error | undefined;

/** Throws what kept Firefox from starting, if anything did. */
const firefoxUp = () => {
  if (launchError) throw launchError;
};

const post = async (path: string, body: unknown) => {
  const r = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as { id: string };
};

/** The text of the rows of one list (its shadow root inside <stateos-app>'s). */
const rows = (list: string) =>
  t.evaluate((tag: string) => {
    const find = (root: ParentNode): Element | null => {
      for (const el of root.querySelectorAll('*')) {
        if (el.tagName.toLowerCase() === tag) return el;
        const inner = el.shadowRoot && find(el.shadowRoot);
        if (inner) return inner;
      }
      return null;
    };
    const el = find(document);
    return el?.shadowRoot ? [...el.shadowRoot.querySelectorAll('tbody tr')].map((r) => (r as HTMLElement).innerText) : [];
  }, list);

const shot = (name: string) => t.screenshot(join(ARTIFACTS, name));

beforeAll(async () => {
  build = await buildApp();
  server = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--cluster-key', 'firefox-test-cluster-key-01', '--sample']);
  const [media] = (await (await fetch(`${server.url}/api/objects`)).json()) as { id: string }[];
  const playlist = await post('/api/playlists', { title: 'Lobby loop', clips: [{ media: media.id, startMs: 0, endMs: 5000 }, { media: media.id, startMs: 8000 }] });
  await post('/api/channels', { name: 'lobby', title: 'Lobby', mode: 'live', playlists: [playlist.id] });
  objects = (await (await fetch(`${server.url}/api/objects`)).json()) as typeof objects;
  serverGuid = ((await (await fetch(`${server.url}/api/health`)).json()) as { server: string }).server;
  // the server's origin may use the camera and microphone: that lifts Firefox's default-route-only gathering
  try {
    firefox = await launchFirefox({ webrtcOrigins: [server.url] });
    t = await firefox.newTab();
  } catch (e) {
    // every test fails with this (a missing Firefox is a failure, not a skip)
    launchError = e as Error;
  }
});
afterAll(async () => {
  // leaving the page closes its link with a bye (pagehide), so the server is not left waiting on it
  await t?.goto('about:blank').catch(() => {});
  await firefox?.close();
  // `stateos serve` has been seen to stay alive after SIGTERM under heavy load: do not wait past 10 s
  if (server && (await Promise.race([server.stop().then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))])) === false) await server.stop('SIGKILL');
  await build?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

describe(`the web app in Firefox (${process.env.STATEOS_FIREFOX ?? 'firefox-esr'})`, () => {
  it('gathers plain 127.0.0.1 host candidates on the server origin (the profile prefs and the permission)', async () => {
    firefoxUp();
    await t.goto(`${server.url}/viewer.html`);
    const candidates = await t.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.createDataChannel('probe');
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        const check = () => pc.iceGatheringState === 'complete' && resolve();
        pc.addEventListener('icegatheringstatechange', check);
        check();
        setTimeout(resolve, 5000);
      });
      const lines = pc.localDescription!.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
      pc.close();
      return lines;
    });
    expect(candidates).toContainEqual(expect.stringMatching(/ UDP \d+ 127\.0\.0\.1 \d+ typ host/));
    expect(candidates.filter((c) => c.includes('.local '))).toEqual([]);
  });

  it('/ joins the server as a viewer over WebRTC, lists the objects, keeps their metadata in its IndexedDB ring', async () => {
    firefoxUp();
    await t.goto(`${server.url}/`);
    await t.waitFor(() => window.stateos?.connection.state.state === 'live', { timeoutMs: 20_000, what: 'the viewer to be live' });
    expect(await t.evaluate(() => window.stateos!.connection.state.peer)).toBe(serverGuid);
    await t.waitFor(() => document.querySelector('stateos-app')?.shadowRoot?.querySelector('stateos-connection') !== null, { what: 'the connection status' });
    const status = await t.evaluate(() => (document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-connection')!.shadowRoot!.querySelector('[role=status]') as HTMLElement).innerText);
    expect(status).toMatch(/^live server [0-9a-f]{8} at 127\.0\.0\.1:\d+$/);

    await expect.poll(() => rows('stateos-media-list'), { timeout: 10_000 }).toEqual([expect.stringContaining('stateos sample clip')]);
    expect((await rows('stateos-media-list'))[0]).toMatch(/0:20[\s\S]*video H\.264 640×360[\s\S]*audio AAC/);
    await expect.poll(() => rows('stateos-playlist-list')).toEqual([expect.stringMatching(/Lobby loop[\s\S]*\b2\b[\s\S]*0:17/)]);
    await expect.poll(() => rows('stateos-channel-list')).toEqual([expect.stringMatching(/Lobby[\s\S]*live[\s\S]*Lobby loop/)]);

    // the ring: as many metadata records as the server has, naming every object, in an IndexedDB database
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { ring: { meta: { records: number } } };
    const ring = await t.evaluate(async () => {
      const v = window.stateos!.viewer!;
      await v.ring.flush();
      const objects = new Set<string>();
      // every object listed, and the server's token issuer key (STU type 0x0010, not a listed object)
      for await (const e of v.ring.scan('meta')) if (e.header.type !== 0x0010) objects.add(e.header.object);
      const dbs = (await indexedDB.databases()).map((d) => d.name);
      return { name: v.ringName, records: v.ring.stats().meta.records, objects: [...objects].sort(), dbs };
    });
    expect(ring.name).toBe('stateos-app');
    expect(ring.records).toBe(health.ring.meta.records);
    expect(ring.objects).toEqual(objects.map((o) => o.id).sort());
    expect(ring.dbs).toContainEqual(expect.stringContaining('stateos-app'));
    await shot('firefox-lists.png');
    expect(t.errors).toEqual([]);
  });

  it('/?play=ID plays past 3 s with no fatal error, the playlist and every segment over WebRTC', async () => {
    firefoxUp();
    const media = objects.find((o) => o.type === 'media')!;
    await t.goto(`${server.url}/?play=${media.id}`);
    const state = () =>
      t.evaluate(() => {
        const p = document.querySelector('stateos-app')?.shadowRoot?.querySelector('stateos-player');
        const v = p?.shadowRoot?.querySelector('video');
        if (!p || !v) return undefined;
        return {
          time: v.currentTime,
          status: p.status,
          message: p.message,
          error: v.error?.message ?? null,
          loads: p.loads.map((l) => ({ kind: l.kind, source: l.source, bytes: l.bytes })),
          stats: (p.shadowRoot!.querySelector('stateos-player-stats')?.shadowRoot as unknown as HTMLElement | null)?.textContent ?? '',
        };
      });
    await expect.poll(async () => (await state())?.time ?? 0, { timeout: 20_000, interval: 250 }).toBeGreaterThan(3);
    const s = (await state())!;
    expect({ status: s.status, message: s.message, error: s.error }).toEqual({ status: 'playing', message: '', error: null });
    expect(s.loads.filter((l) => l.kind === 'playlist').map((l) => l.source)).toEqual([serverGuid]);
    expect(s.loads.filter((l) => l.kind === 'init').map((l) => l.source)).toEqual([serverGuid]);
    const segments = s.loads.filter((l) => l.kind === 'segment');
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(new Set(segments.map((l) => l.source))).toEqual(new Set([serverGuid]));
    expect(segments.every((l) => l.bytes > 1000)).toBe(true);
    expect(s.stats).toContain(`server ${serverGuid.slice(0, 8)} (WebRTC)`);
    expect(s.stats).not.toContain('HTTP gateway');
    await shot('firefox-player.png');
    expect(t.errors).toEqual([]);
  });

  it('/canvas shows one rectangle per object, grouped by application', async () => {
    firefoxUp();
    await t.goto(`${server.url}/canvas`);
    const rects = () =>
      t.evaluate(() => {
        const root = document.querySelector('stateos-app')?.shadowRoot?.querySelector('stateos-canvas')?.shadowRoot;
        return root ? [...root.querySelectorAll<HTMLElement>('.rect')].map((r) => ({ id: r.dataset.id!, app: r.dataset.app! })) : [];
      });
    await expect.poll(async () => (await rects()).length, { timeout: 10_000 }).toBe(objects.length);
    const r = await rects();
    expect(r.map((x) => x.id).sort()).toEqual(objects.map((o) => o.id).sort());
    expect(r.map((x) => x.app)).toEqual(['media', 'playlists', 'channels']);
    // drawn from the ring first; live again once this page's viewer is admitted
    await t.waitFor(() => window.stateos?.connection.state.state === 'live', { timeoutMs: 20_000, what: 'the viewer to be live' });
    await new Promise((done) => setTimeout(done, 450)); // the camera's fit is a 320 ms flight
    await shot('firefox-canvas.png');
    expect(t.errors).toEqual([]);
  });
});
