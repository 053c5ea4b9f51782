// The app's player against a real state server: `/?play=ID` plays the sample with hls.js whose playlist and
// segments come over WebRTC data channels from the server the page joined and from a second server it
// reaches through the first (the HLS-over-STX loader, round-robin), shows the buffer and where each segment
// came from, seeks to 60 %, and falls back to the HTTP gateway in a browser without WebRTC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../helpers/cli.ts';
import { type AppEnv, buildApp, startAppEnv } from './helpers/app.ts';
import type { TestPage } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-player-'));
let server: Served;
let second: Served;
let env: AppEnv;
let media: { id: string; title: string; media: { duration: number } };

interface PlayerState {
  time: number;
  duration: number;
  status: string;
  loads: { kind: string; source: string; bytes: number; url: string }[];
  stats: string;
}

const playerState = (t: TestPage): Promise<PlayerState> =>
  t.page.evaluate(() => {
    const p = document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-player')!;
    const v = p.shadowRoot!.querySelector('video')!;
    return {
      time: v.currentTime,
      duration: v.duration,
      status: p.status,
      loads: p.loads.map((l) => ({ kind: l.kind, source: l.source, bytes: l.bytes, url: l.url })),
      stats: (p.shadowRoot!.querySelector('stateos-player-stats')!.shadowRoot! as unknown as HTMLElement).textContent ?? '',
    };
  });

beforeAll(async () => {
  const build = await buildApp();
  const small = ['--meta-size', '4M', '--data-size', '16M', '--cluster-key', 'player-test-cluster-key-01'];
  server = await serve(['--data', join(tmp, 'a'), ...small, '--sample']);
  [media] = (await (await fetch(`${server.url}/api/objects`)).json()) as (typeof media)[];
  env = await startAppEnv(build, { origins: [server.url] });
  second = await serve(['--data', join(tmp, 'b'), ...small, '--peer', server.url, '--media-wait', '20000']);
  for (let i = 0; i < 150 && ((await (await fetch(`${second.url}/api/objects`)).json()) as unknown[]).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
});
afterAll(async () => {
  await env?.close();
  await second?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the player in the web app', () => {
  it('plays /?play=ID with segments over WebRTC, shows their source and the buffer, and seeks to 60 %', async () => {
    const t = await env.open(`${server.url}/?play=${media.id}`);
    await expect.poll(async () => (await playerState(t)).time, { timeout: 20_000, interval: 250 }).toBeGreaterThan(5);
    const s = await playerState(t);
    expect(s.status).toBe('playing');
    const serverGuid = ((await (await fetch(`${server.url}/api/health`)).json()) as { server: string }).server;
    const secondGuid = ((await (await fetch(`${second.url}/api/health`)).json()) as { server: string }).server;
    // the playlist and the init segment came from the page's server over STX, none over HTTP
    expect(s.loads.filter((l) => l.kind === 'playlist').map((l) => l.source)).toEqual([serverGuid]);
    expect(s.loads.filter((l) => l.kind === 'init').map((l) => l.source)).toEqual([serverGuid]);
    // the media segments from both servers at once: the page reached the second one through the first
    const segments = s.loads.filter((l) => l.kind === 'segment');
    expect(segments.length).toBeGreaterThanOrEqual(3);
    expect(new Set(segments.map((l) => l.source))).toEqual(new Set([serverGuid, secondGuid]));
    expect(segments.every((l) => l.bytes > 1000)).toBe(true);
    const viewers = ((await (await fetch(`${second.url}/api/peers`)).json()) as { peers: { role: string; state: string; how: string }[] }).peers.filter((p) => p.role === 'viewer');
    expect(viewers).toEqual([expect.objectContaining({ state: 'live', how: 'answered' })]);
    // and the page says so
    expect(s.stats).toContain(`server ${serverGuid.slice(0, 8)} (WebRTC)`);
    expect(s.stats).toContain(`server ${secondGuid.slice(0, 8)} (WebRTC)`);
    expect(s.stats).toMatch(/buffered ahead \d+\.\d s/);
    await env.screenshot(t.page, 'app-player-webrtc.png');

    // seek to 60 %: the position lands there and playback goes on from it
    const target = s.duration * 0.6;
    expect(target).toBeCloseTo(media.media.duration * 0.6, 0);
    await t.page.evaluate((at) => {
      document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-player')!.shadowRoot!.querySelector('video')!.currentTime = at;
    }, target);
    await expect.poll(async () => (await playerState(t)).time, { timeout: 15_000, interval: 250 }).toBeGreaterThan(target + 1);
    const after = await playerState(t);
    expect(after.status).toBe('playing');
    expect(after.loads.filter((l) => l.source === 'http')).toEqual([]);
    await env.screenshot(t.page, 'app-player-seeked.png');
    expect(t.errors).toEqual([]);
    await t.page.close();
  });

  it('falls back to the HTTP gateway when the browser cannot do WebRTC', async () => {
    const page = await env.chromium.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(() => {
      // a browser without WebRTC (or one where it is switched off)
      Object.defineProperty(window, 'RTCPeerConnection', { value: undefined });
    });
    await page.goto(`${server.url}/?play=${media.id}`);
    const t = { page, errors } as unknown as TestPage;
    await expect.poll(async () => (await playerState(t)).time, { timeout: 40_000, interval: 250 }).toBeGreaterThan(3);
    const s = await playerState(t);
    expect(s.loads.length).toBeGreaterThanOrEqual(3);
    expect(new Set(s.loads.map((l) => l.source))).toEqual(new Set(['http']));
    expect(s.stats).toContain('HTTP gateway');
    expect(errors).toEqual([]);
    await page.close();
  });
});
