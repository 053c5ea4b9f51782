// Channels through the HLS gateway over real HTTP (a state node on a file ring in this process, the routes
// given a schedule and a clock): on demand, the clips in order as VOD, ffmpeg decodes them all; a new init
// segment comes with a discontinuity; live, a sliding window at (now - start) mod length with the segments'
// decode times in channel time, the same for every viewer at one instant; usage recorded per segment.
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../shared/log.ts';
import type { ChannelSchedule } from '../../../shared/media/schedule.ts';
import { indexFrameTimes } from '../../../shared/media/segments.ts';
import { hlsRoutes } from '../../../node-peer/gateways/hls.ts';
import { startHttp } from '../../../node-peer/http/server.ts';
import { NodeMediaSource, type Play } from '../../../node-peer/media/frames.ts';
import { StateNode } from '../../../node-peer/node.ts';
import { makeClip } from '../../helpers/media.ts';
import { parseMp4 } from '../../unit/media/fmp4-helpers.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'stateos-hls-channel-'));
let node: StateNode;
let http: Server;
let base = '';
const plays: Play[] = [];
const START = Date.UTC(2030, 0, 1);
let clock = START;
const ids = { a: '', b: '', c: '' };
const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '50', '-c:a', 'aac', '-b:a', '64k'];

const schedules = (name: string): ChannelSchedule | undefined => {
  const clip = (media: string, startMs: number, endMs: number) => ({ media, startMs, endMs });
  switch (name) {
    case 'same': // two clips of one media: one init segment
      return { name, live: false, startedAt: 0, clips: [clip(ids.a, 0, 4000), clip(ids.a, 2000, 6000)] };
    case 'mixed': // another resolution in the middle
      return { name, live: false, startedAt: 0, clips: [clip(ids.a, 0, 4000), clip(ids.c, 0, 4000), clip(ids.b, 0, 2000)] };
    case 'live':
      return { name, live: true, startedAt: START, clips: [clip(ids.a, 0, 6000), clip(ids.c, 0, 4000)] };
    default:
      return undefined;
  }
};

beforeAll(async () => {
  const a = makeClip(join(tmp, 'a.mp4'), { seconds: 6, args: x264 });
  const b = makeClip(join(tmp, 'b.mp4'), { seconds: 4, args: x264 });
  const c = makeClip(join(tmp, 'c.mp4'), { seconds: 4, size: '256x144', args: x264 });
  node = await StateNode.open({ dir: join(tmp, 'data'), metaBytes: 8 << 20, dataBytes: 64 << 20, fsync: { mode: 'none' }, log: silentLogger });
  ids.a = (await node.ingestFile(a)).id;
  ids.b = (await node.ingestFile(b)).id;
  ids.c = (await node.ingestFile(c)).id;
  const source = new NodeMediaSource(node, { recordPlay: (p) => plays.push(p) });
  http = await startHttp(hlsRoutes(source, { schedules, frameTimes: indexFrameTimes(node.index), now: () => clock, liveWindow: 4 }), '127.0.0.1', 0, silentLogger);
  const addr = http.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await new Promise<void>((r) => {
    http?.close(() => r());
    http?.closeAllConnections();
  });
  await node?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const url = (name: string, file = 'index.m3u8') => `${base}/hls/channel/${name}/${file}`;

async function ffmpegRun(args: string[]): Promise<{ stderr: string; ok: boolean }> {
  try {
    const { stderr } = await run('ffmpeg', ['-hide_banner', ...args]);
    return { stderr, ok: true };
  } catch (e) {
    return { stderr: String((e as { stderr?: string }).stderr ?? e), ok: false };
  }
}

async function videoFrames(u: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', u]);
  return Number(stdout.trim().split('\n').filter(Boolean)[0]);
}

describe('on-demand channels', () => {
  it('play the clips in order as one VOD playlist that ffmpeg decodes without error', async () => {
    const text = await (await fetch(url('same'))).text();
    expect(text).toContain('#EXT-X-ENDLIST');
    expect(text).not.toContain('#EXT-X-DISCONTINUITY\n');
    expect(text.match(/#EXT-X-MAP/g)).toHaveLength(1);
    expect(text.match(/^seg-\d+\.m4s$/gm)).toEqual(['seg-0.m4s', 'seg-1.m4s', 'seg-2.m4s', 'seg-3.m4s']); // 0-4 s, then 2-6 s
    const r = await ffmpegRun(['-v', 'error', '-i', url('same'), '-f', 'null', '-']);
    expect(r.stderr).toBe('');
    expect(await videoFrames(url('same'))).toBe(4 * 2 * 25);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', url('same')]);
    expect(Number(stdout)).toBeCloseTo(8, 3);
  });

  it('put a discontinuity and a new EXT-X-MAP where the init segment changes', async () => {
    const text = await (await fetch(url('mixed'))).text();
    const lines = text.split('\n');
    expect(lines.filter((l) => l === '#EXT-X-DISCONTINUITY')).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('#EXT-X-MAP'))).toEqual([`#EXT-X-MAP:URI="init-${ids.a}.mp4"`, `#EXT-X-MAP:URI="init-${ids.c}.mp4"`, `#EXT-X-MAP:URI="init-${ids.a}.mp4"`]);
    // b.mp4 was made with a.mp4's settings: the same init bytes, so its clip uses a's init segment.
    const init = await fetch(url('mixed', `init-${ids.c}.mp4`));
    expect(init.status).toBe(200);
    expect((await fetch(url('mixed', `init-${ids.b}.mp4`))).status).toBe(404);
    expect((await fetch(url('mixed', 'seg-5.m4s'))).status).toBe(404); // on demand: 0-4
    // Parameter sets travel in-band, so a player that keeps the first init (ffmpeg) still decodes every frame.
    expect(await videoFrames(url('mixed'))).toBe((4 + 4 + 2) * 25);
    expect((await ffmpegRun(['-v', 'error', '-i', url('mixed'), '-f', 'null', '-'])).stderr).toBe('');
  });
});

describe('live channels', () => {
  it('a sliding window at (now - start) mod length, the same for every viewer at one instant', async () => {
    clock = START + 13_500; // pass 1 (length 10 s), 3.5 s in: entry 1 (a, 2-4 s)
    const [one, two] = await Promise.all([fetch(url('live')), fetch(url('live'))]);
    expect(one.headers.get('cache-control')).toBe('no-cache');
    const text = await one.text();
    expect(await two.text()).toBe(text);
    const lines = text.split('\n');
    expect(lines).not.toContain('#EXT-X-ENDLIST');
    expect(lines).toContain('#EXT-X-MEDIA-SEQUENCE:3'); // g = 5 + 1 = 6, window of 4
    expect(lines).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1'); // the a -> c switch at g = 3
    expect(lines.filter((l) => l.startsWith('seg-'))).toEqual(['seg-3.m4s', 'seg-4.m4s', 'seg-5.m4s', 'seg-6.m4s']);
    expect(lines.filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME'))[0]).toBe(`#EXT-X-PROGRAM-DATE-TIME:${new Date(START + 6_000).toISOString()}`);
    expect(lines.filter((l) => l === '#EXT-X-DISCONTINUITY')).toHaveLength(1); // c -> a at the wrap (g = 5)

    clock += 2_000;
    const later = (await (await fetch(url('live'))).text()).split('\n');
    expect(later).toContain('#EXT-X-MEDIA-SEQUENCE:4');

    clock = START - 1;
    const early = await fetch(url('live'));
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('1');
    await early.arrayBuffer();
  });

  it('segments carry decode times in channel time, across passes', async () => {
    for (const g of [1, 4, 6, 12]) {
      const pass = Math.floor(g / 5);
      const entry = g % 5; // a: 0-2, 2-4, 4-6; c: 0-2, 2-4
      const media = entry < 3 ? ids.a : ids.c;
      const init = new Uint8Array(await (await fetch(url('live', `init-${media}.mp4`))).arrayBuffer());
      const seg = new Uint8Array(await (await fetch(url('live', `seg-${g}.m4s`))).arrayBuffer());
      const parsed = parseMp4(Buffer.concat([init, seg]));
      const v = parsed.samples.get(1)!;
      const ts = parsed.info.tracks[0].timescale;
      expect(Math.min(...v.map((s) => s.cts)) / ts, `g ${g}`).toBeCloseTo(pass * 10 + entry * 2, 3);
    }
  });

  it('ffmpeg plays the live window (bounded: a live playlist is polled for ever)', async () => {
    clock = START + 25_000;
    const r = await ffmpegRun(['-v', 'error', '-i', url('live'), '-frames:v', '100', '-f', 'null', '-']);
    expect(r.stderr).toBe('');
    expect(r.ok).toBe(true);
  });

  it('records one play per segment served from its first byte', async () => {
    plays.length = 0;
    clock = START + 3_000;
    await (await fetch(url('live', 'seg-1.m4s'))).arrayBuffer();
    await (await fetch(url('live', 'seg-1.m4s'), { headers: { range: 'bytes=100-' } })).arrayBuffer();
    await (await fetch(url('live', 'seg-1.m4s'), { method: 'HEAD' })).arrayBuffer();
    await (await fetch(`${base}/hls/media/${ids.c}/seg-1.m4s`)).arrayBuffer();
    expect(plays).toEqual([
      { gateway: 'hls', media: ids.a, channel: 'live', startMs: 2000, durationMs: 2000, client: '127.0.0.1' },
      { gateway: 'hls', media: ids.c, startMs: 2000, durationMs: 2000, client: '127.0.0.1' },
    ]);
  });
});
