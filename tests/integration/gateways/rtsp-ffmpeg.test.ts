// The RTSP gateway of a real `stateos serve`, played by ffmpeg: an MP4 (H.264 with B-frames + AAC) and an MKV
// (H.264 + Opus) ingested with `stateos ingest`. ffprobe names the codecs; ffmpeg over TCP and over UDP decodes
// every video frame md5-identical to the source file and as many audio frames, with no errors; -ss asks for a
// range and gets the frames from there on.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, serve, stateos } from '../../helpers/cli.ts';
import { ffmpeg, SRC } from '../../unit/media/helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-rtsp-'));
const data = join(tmp, 'data');
let server: Served;
let mp4 = '';
let mkv = '';

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/** Per stream, the md5 of every decoded frame, in order (ffmpeg -f framemd5). */
async function decoded(input: string[]): Promise<{ video: string[]; audio: string[]; stderr: string; code: number }> {
  const r = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...input, '-map', '0', '-f', 'framemd5', '-']);
  const rows = r.stdout.split('\n').filter((l) => /^\d+,/.test(l));
  const col = (s: string) => rows.filter((l) => l.startsWith(`${s},`)).map((l) => l.split(',')[5].trim());
  return { video: col('0'), audio: col('1'), stderr: r.stderr, code: r.code };
}

beforeAll(async () => {
  const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0'];
  mp4 = join(tmp, 'a.mp4');
  mkv = join(tmp, 'b.mkv');
  ffmpeg([...SRC.video(3, '320x180', 25), ...SRC.audio(3), ...x264, '-c:a', 'aac', '-b:a', '64k', mp4]);
  ffmpeg([...SRC.video(3, '320x180', 25), ...SRC.audio(3), ...x264, '-c:a', 'libopus', '-b:a', '64k', '-ac', '2', mkv]);
  const ids: string[] = [];
  for (const f of [mp4, mkv]) {
    const r = await stateos(['ingest', f, '--data', data, '--meta-size', '8M', '--data-size', '32M']);
    expect(r.code, r.stderr).toBe(0);
    ids.push(r.stdout.split('\t')[0]);
  }
  server = await serve(['--data', data]);
  expect(server.rtspUrl).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+$/);
  [mp4Url, mkvUrl] = ids.map((id) => `${server.rtspUrl}/media/${id}`);
});
let mp4Url = '';
let mkvUrl = '';

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
  rmSync(tmp, { recursive: true, force: true });
});

describe('RTSP gateway with ffmpeg', () => {
  it('ffprobe sees the codecs of both media', async () => {
    const probe = async (url: string) => {
      const r = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name,codec_type,width,height,sample_rate,channels', '-of', 'json', url]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { streams: Record<string, unknown>[] }).streams;
    };
    expect(await probe(mp4Url)).toEqual([
      { codec_name: 'h264', codec_type: 'video', width: 320, height: 180 },
      { codec_name: 'aac', codec_type: 'audio', sample_rate: '48000', channels: 1 },
    ]);
    expect((await probe(mkvUrl)).map((s) => [s.codec_name, s.codec_type])).toEqual([
      ['h264', 'video'],
      ['opus', 'audio'],
    ]);
  });

  it('over TCP and UDP, at once: every video frame md5-identical to the file, as many audio frames, no errors; MKV with Opus too', async () => {
    const [src, srcMkv] = await Promise.all([decoded(['-i', mp4]), decoded(['-i', mkv])]);
    expect(src.video).toHaveLength(75);
    const started = Date.now();
    const [tcp, udp, opus] = await Promise.all([
      decoded(['-rtsp_transport', 'tcp', '-i', mp4Url]),
      decoded(['-rtsp_transport', 'udp', '-i', mp4Url]),
      decoded(['-rtsp_transport', 'tcp', '-i', mkvUrl]),
    ]);
    const took = Date.now() - started;
    expect(took).toBeGreaterThan(2700); // paced in real time: 3 s of media take 3 s
    for (const got of [tcp, udp]) {
      expect(got.code, got.stderr).toBe(0);
      expect(got.stderr).toBe('');
      expect(got.video).toEqual(src.video);
      expect(got.audio).toHaveLength(src.audio.length);
    }
    expect(opus.code, opus.stderr).toBe(0);
    expect(opus.stderr).toBe('');
    expect(opus.video).toEqual(srcMkv.video);
    expect(opus.audio).toHaveLength(srcMkv.audio.length);
  });

  it('-ss 1.5: ffmpeg PAUSEs and PLAYs with a Range; what it decodes are the file\'s frames from the key frame at 1 s on', async () => {
    const all = (await decoded(['-i', mp4])).video;
    const got = await decoded(['-rtsp_transport', 'tcp', '-ss', '1.5', '-i', mp4Url]);
    expect(got.code, got.stderr).toBe(0);
    // We start at the key frame at 1 s (frame 25). ffmpeg 5.1 gives the first frame of an H.264 RTP stream with
    // B-frames no time (ffmpeg's own RTP sender gets the same), so that key frame escapes its trim to 1.5 s; every
    // frame after it is exactly the file's from 1.52 s (frame 38) to the end. The raw-client test checks the PLAY
    // reply and the RTP timestamps themselves.
    expect(got.video[0]).toBe(all[25]);
    expect(got.video.slice(1)).toEqual(all.slice(38));
  });
});
