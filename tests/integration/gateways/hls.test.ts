// The HLS gateway of a real `stateos serve` process, with real clients: media ingested from an MP4 (H.264
// with B-frames + AAC) and a WebM (VP9 + Opus) made by ffmpeg; ffprobe and ffmpeg read the HLS URLs (same
// duration, every frame decoded, no error); Range requests, HEAD, CORS and caching headers; bad paths and
// ids; frames that are not held (evicted from a small ring, no peer to fetch them from) answer 504.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served, stateos } from '../../helpers/cli.ts';
import { makeClip } from '../../helpers/media.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'stateos-hls-'));
const small = ['--meta-size', '8M', '--data-size', '64M'];
let server: Served;
const ids: Record<'mp4' | 'webm', string> = { mp4: '', webm: '' };
const files: Record<'mp4' | 'webm', string> = { mp4: join(tmp, 'avc.mp4'), webm: join(tmp, 'vp9.webm') };
const FPS = 25;

async function ingest(file: string, data: string, extra: string[] = small): Promise<string> {
  const r = await stateos(['ingest', file, '--data', data, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\t')[0];
}

async function probe(url: string): Promise<{ duration: number; frames: Record<string, number>; packets: Record<string, number> }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-count_packets', '-show_entries', 'format=duration:stream=codec_type,nb_read_frames,nb_read_packets', '-of', 'json', url]);
  const j = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_type: string; nb_read_frames: string; nb_read_packets: string }[] };
  const frames: Record<string, number> = {};
  const packets: Record<string, number> = {};
  for (const s of j.streams) {
    frames[s.codec_type] = Number(s.nb_read_frames);
    packets[s.codec_type] = Number(s.nb_read_packets);
  }
  return { duration: Number(j.format.duration), frames, packets };
}

/** `ffmpeg -v error -i URL -f null -`: its stderr (empty when every frame decoded without error). */
async function decodeErrors(url: string): Promise<string> {
  try {
    const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', url, '-f', 'null', '-']);
    return stderr;
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
}

beforeAll(async () => {
  makeClip(files.mp4, { seconds: 6, args: ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '50', '-c:a', 'aac', '-b:a', '64k'] });
  makeClip(files.webm, { seconds: 6, args: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-g', '50', '-c:a', 'libopus'] });
  const data = join(tmp, 'data');
  ids.mp4 = await ingest(files.mp4, data);
  ids.webm = await ingest(files.webm, data);
  server = await serve(['--data', data, ...small]);
});
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const hls = (id: string, file = 'index.m3u8') => `${server.url}/hls/media/${id}/${file}`;

describe('HLS of a real server, read by ffprobe and ffmpeg', () => {
  for (const kind of ['mp4', 'webm'] as const) {
    it(`${kind}: the same duration (±1 frame), every frame decoded, no error`, async () => {
      const [source, ours] = await Promise.all([probe(files[kind]), probe(hls(ids[kind]))]);
      expect(Math.abs(ours.duration - source.duration)).toBeLessThanOrEqual(1 / FPS + 1e-6);
      expect(ours.frames.video).toBe(source.frames.video);
      // Every stored audio frame is decoded; the MP4's edit list makes ffmpeg skip its AAC priming frame in
      // the source (329 decoded of 330 packets), an fMP4 without an edit list decodes it (as ffmpeg's own
      // `-f hls -hls_segment_type fmp4` output does).
      expect(ours.frames.audio).toBe(source.packets.audio);
      expect(await decodeErrors(hls(ids[kind]))).toBe('');
    });
  }

  it('serves a master playlist with the codecs, resolution and frame rate', async () => {
    const mp4 = await (await fetch(hls(ids.mp4, 'master.m3u8'))).text();
    expect(mp4).toMatch(/CODECS="avc1\.64[0-9a-f]{4},mp4a\.40\.2",RESOLUTION=320x180,FRAME-RATE=25\.000\nindex\.m3u8/);
    const webm = await (await fetch(hls(ids.webm, 'master.m3u8'))).text();
    expect(webm).toMatch(/CODECS="vp09\.00\.\d\d\.08,opus",RESOLUTION=320x180/);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', hls(ids.webm, 'master.m3u8')]);
    expect(new Set(stdout.split('\n').filter(Boolean))).toEqual(new Set(['vp9', 'opus'])); // listed per program and per stream
  });
});

describe('HTTP: headers, ranges, HEAD', () => {
  it('playlists and segments carry their types, CORS and caching headers', async () => {
    const p = await fetch(hls(ids.mp4));
    expect(p.status).toBe(200);
    expect(p.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(p.headers.get('access-control-allow-origin')).toBe('*');
    const text = await p.text();
    for (const tag of ['#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MAP:URI="init.mp4"', '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-ENDLIST']) expect(text).toContain(tag);
    const s = await fetch(hls(ids.mp4, 'seg-1.m4s'));
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toBe('video/mp4');
    expect(s.headers.get('cache-control')).toContain('immutable');
    expect(s.headers.get('access-control-expose-headers')).toMatch(/content-length.*content-range/);
    expect(Number(s.headers.get('content-length'))).toBe((await s.arrayBuffer()).byteLength);
    const init = await fetch(hls(ids.mp4, 'init.mp4'));
    expect(new TextDecoder().decode((await init.arrayBuffer()).slice(4, 8))).toBe('ftyp');
    const pre = await fetch(hls(ids.mp4, 'seg-0.m4s'), { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('range');
  });

  it('answers Range requests with 206 and the exact bytes, 416 when unsatisfiable; HEAD without a body', async () => {
    const url = hls(ids.mp4, 'seg-0.m4s');
    const whole = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const size = whole.length;
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, size - 1],
      ['bytes=-50', size - 50, size - 1],
      [`bytes=${size - 1}-${size + 1000}`, size - 1, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const r = await fetch(url, { headers: { range } });
      expect(r.status, range).toBe(206);
      expect(r.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(whole.subarray(start, end + 1)))).toBe(true);
    }
    for (const range of [`bytes=${size}-`, 'bytes=-0']) {
      const r = await fetch(url, { headers: { range } });
      expect(r.status, range).toBe(416);
      expect(r.headers.get('content-range')).toBe(`bytes */${size}`);
    }
    const ignored = await fetch(url, { headers: { range: 'bytes=5-2' } });
    expect(ignored.status).toBe(200);
    expect(Number(ignored.headers.get('content-length'))).toBe(size);
    await ignored.arrayBuffer();
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(size);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const playlist = await fetch(hls(ids.mp4), { headers: { range: 'bytes=0-6' } });
    expect(playlist.status).toBe(206);
    expect(await playlist.text()).toBe('#EXTM3U');
  });
});

describe('bad requests never crash the server', () => {
  it('unknown media, bad ids, bad segment numbers and garbled paths: 404/400 with a JSON reason', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const cases: Array<[string, number, RegExp]> = [
      [`/hls/media/${unknown}/index.m3u8`, 404, /no media/],
      [`/hls/media/${unknown}/seg-0.m4s`, 404, /no media/],
      ['/hls/media/not-a-guid/index.m3u8', 400, /bad media id/],
      [`/hls/media/${ids.mp4.toUpperCase()}/index.m3u8`, 400, /bad media id/],
      [`/hls/media/${ids.mp4}/seg-99.m4s`, 404, /segments 0-2, not 99/],
      [`/hls/media/${ids.mp4}/seg-99999999999999999999.m4s`, 404, /no such HLS resource/],
      [`/hls/media/${ids.mp4}/seg--1.m4s`, 404, /no such HLS resource/],
      [`/hls/media/${ids.mp4}/seg-01.m4s`, 404, /no such HLS resource/],
      [`/hls/media/${ids.mp4}/seg-1.ts`, 404, /no such HLS resource/],
      [`/hls/media/${ids.mp4}/`, 404, /no such HLS resource/],
      [`/hls/media/${ids.mp4}`, 404, /no such HLS resource/],
      [`/hls/media/${ids.mp4}/index.m3u8/more`, 404, /no such HLS resource/],
      ['/hls/media/', 404, /no such HLS resource/],
      ['/hls/media//index.m3u8', 404, /no such HLS resource/],
      ['/hls/channel/nothing/index.m3u8', 404, /no channel "nothing"/],
      ['/hls/channel/%E0%A4%A/index.m3u8', 400, /malformed percent-encoding/],
      [`/hls/channel/${'x'.repeat(300)}/index.m3u8`, 400, /longer than/],
    ];
    for (const [path, status, message] of cases) {
      const r = await fetch(server.url + path);
      expect(r.status, path).toBe(status);
      expect(r.headers.get('content-type'), path).toContain('application/json');
      expect(((await r.json()) as { error: string }).error, path).toMatch(message);
    }
    const post = await fetch(hls(ids.mp4), { method: 'POST' });
    expect(post.status).toBe(405);
    await post.arrayBuffer();
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    expect(server.proc.exitCode).toBeNull();
  });

  it('frames not held here and not fetched in time: 504 with the reason', async () => {
    // A 2 MiB data ring: a second, larger file overwrites most of the first one's frames; its metadata
    // stays. With no peer to fetch them from, the gateway waits --media-wait and gives up.
    const data = join(tmp, 'evicted');
    const tiny = ['--meta-size', '1M', '--data-size', '2M'];
    const first = await ingest(files.mp4, data, tiny);
    const big = makeClip(join(tmp, 'big.mp4'), { seconds: 8, args: ['-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0'] });
    await ingest(big, data, tiny);
    const s = await serve(['--data', data, ...tiny, '--media-wait', '300']);
    try {
      for (const file of ['index.m3u8', 'seg-0.m4s', 'init.mp4']) {
        const r = await fetch(`${s.url}/hls/media/${first}/${file}`);
        expect(r.status, file).toBe(504);
        const body = (await r.json()) as { error: string; gaps: unknown[] };
        expect(body.error).toMatch(/did not arrive within 300 ms|not held here|no reachable server/);
        expect(body.gaps.length).toBeGreaterThan(0);
      }
      expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
