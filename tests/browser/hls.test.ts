// hls.js in Chromium plays the HLS gateway: VOD media from a real `stateos serve` process (an MP4 with
// H.264 B-frames + AAC, a WebM with VP9 + Opus), and a live channel (two media of different resolutions,
// so a discontinuity with a new init segment) from a state node in this process, where two viewers show
// the same moment. Screenshots in tests/artifacts/hls-*.png.
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log.ts';
import type { ChannelSchedule } from '../../shared/media/schedule.ts';
import { indexFrameTimes } from '../../shared/media/segments.ts';
import { hlsRoutes } from '../../node-peer/gateways/hls.ts';
import { startHttp } from '../../node-peer/http/server.ts';
import { NodeMediaSource } from '../../node-peer/media/frames.ts';
import { StateNode } from '../../node-peer/node.ts';
import { serve, type Served, stateos } from '../helpers/cli.ts';
import { makeClip } from '../helpers/media.ts';
import type { HlsPlayState } from './pages/hls-play.ts';
import { type BrowserEnv, startBrowserEnv, type TestPage } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-hls-browser-'));
const small = ['--meta-size', '8M', '--data-size', '64M'];
let env: BrowserEnv;
let server: Served;
let node: StateNode;
let http: Server;
let liveBase = '';
const ids = { mp4: '', webm: '' };

const state = (t: TestPage): Promise<HlsPlayState> => t.page.evaluate(() => window.hlsPlay!);

async function until(t: TestPage, what: string, cond: (s: HlsPlayState) => boolean, ms = 20_000): Promise<HlsPlayState> {
  const t0 = Date.now();
  for (;;) {
    const s = await state(t);
    if (s.fatal) throw new Error(`hls.js fatal error: ${s.fatal}`);
    if (cond(s)) return s;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const open = (src: string) => env.open(`/tests/browser/pages/hls-play.html?src=${encodeURIComponent(src)}`, 'window.hlsPlay !== undefined');

beforeAll(async () => {
  const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '50', '-c:a', 'aac', '-b:a', '64k'];
  const mp4 = makeClip(join(tmp, 'avc.mp4'), { seconds: 8, args: x264 });
  const webm = makeClip(join(tmp, 'vp9.webm'), { seconds: 8, args: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-g', '50', '-c:a', 'libopus'] });
  const data = join(tmp, 'data');
  for (const [k, f] of [['mp4', mp4], ['webm', webm]] as const) {
    const r = await stateos(['ingest', f, '--data', data, ...small]);
    expect(r.code, r.stderr).toBe(0);
    ids[k] = r.stdout.split('\t')[0];
  }
  server = await serve(['--data', data, ...small]);

  // A live channel: 6 s of one clip, then 4 s of another resolution, started a minute ago.
  node = await StateNode.open({ dir: join(tmp, 'live'), metaBytes: 8 << 20, dataBytes: 64 << 20, fsync: { mode: 'none' }, log: silentLogger });
  const a = (await node.ingestFile(makeClip(join(tmp, 'a.mp4'), { seconds: 6, args: x264 }))).id;
  const b = (await node.ingestFile(makeClip(join(tmp, 'b.mp4'), { seconds: 4, size: '256x144', args: x264 }))).id;
  const startedAt = Date.now() - 60_000;
  const schedule: ChannelSchedule = { name: 'live', live: true, startedAt, clips: [{ media: a, startMs: 0, endMs: 6000 }, { media: b, startMs: 0, endMs: 4000 }] };
  http = await startHttp(hlsRoutes(new NodeMediaSource(node), { schedules: (n) => (n === 'live' ? schedule : undefined), frameTimes: indexFrameTimes(node.index) }), '127.0.0.1', 0, silentLogger);
  const addr = http.address();
  liveBase = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  env = await startBrowserEnv({ viewport: { width: 720, height: 560 } });
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
  await new Promise<void>((r) => {
    if (!http) return r();
    http.close(() => r());
    http.closeAllConnections();
  });
  await node?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('hls.js in Chromium', () => {
  for (const kind of ['mp4', 'webm'] as const) {
    it(`plays the VOD of a ${kind} past 3 s with no error, buffered from 0`, async () => {
      const t = await open(`${server.url}/hls/media/${ids[kind]}/index.m3u8`);
      const s = await until(t, 'playback past 3 s', (x) => x.time > 3);
      expect(s.errors).toEqual([]);
      expect(s.buffered[0][0]).toBeLessThan(0.05); // the first video frame is presented at 0: no hole at the start
      await env.screenshot(t.page, `hls-vod-${kind}.png`);
      expect(t.errors).toEqual([]);
      await t.page.close();
    });
  }

  it('plays a live channel across a discontinuity; two viewers show the same moment', async () => {
    const src = `${liveBase}/hls/channel/live/index.m3u8`;
    const one = await open(src);
    const two = await open(src);
    const first = await until(one, 'live playback', (x) => x.fragments > 0 && x.time > 0);
    await until(two, 'live playback', (x) => x.fragments > 0 && x.time > 0);
    const s = await until(one, 'playback of 3 s more, across a discontinuity', (x) => x.time > first.time + 3 && x.discontinuities.length > 1, 30_000);
    expect(s.errors).toEqual([]);
    expect(s.date).not.toBeNull();
    const behind = Date.now() - s.date!;
    expect(behind).toBeGreaterThan(0);
    expect(behind).toBeLessThan(20_000);
    const [a, b] = await Promise.all([state(one), state(two)]);
    expect(Math.abs(a.date! - b.date!)).toBeLessThan(4_000);
    await env.screenshot(one.page, 'hls-live.png');
    expect([...one.errors, ...two.errors]).toEqual([]);
  });
});
