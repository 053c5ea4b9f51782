// Upload against real `stateos serve` processes: a Node viewer (the sync and upload client a browser uses,
// over node-datachannel) sends a WebM clip to server A; A ingests it, its metadata reaches server B, and B
// plays it through its HLS gateway with every frame (fetched from A by data discovery). --upload-max refuses
// a larger file before any byte moves, --uploads off refuses everything, and A's upload folder is empty.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLink } from '../../../node-peer/webrtc/index.ts';
import { memoryDevices, openMemoryRing } from '../../../shared/ring/index.ts';
import { blobSource, UploadClient, UploadError, type UploadSource } from '../../../shared/media/upload.ts';
import { newGuid } from '../../../shared/stu/index.ts';
import { SyncHub } from '../../../shared/sync/hub.ts';
import { RingStore } from '../../../shared/sync/store.ts';
import { serve, type Served } from '../../helpers/cli.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'stateos-upload-'));
const KEY = ['--cluster-key', 'upload-test-cluster-key-0123'];
const small = ['--meta-size', '4M', '--data-size', '32M', '--rtsp', 'off', ...KEY];
let a: Served;
let b: Served;
let off: Served;
const hubs: SyncHub[] = [];
let clip = '';

async function viewerOf(s: Served): Promise<UploadClient> {
  const hub = new SyncHub({
    store: new RingStore(newGuid(), await openMemoryRing(memoryDevices(1 << 20, 1 << 20))),
    role: 'viewer',
    mesh: false,
    newLink: () => makeLink('datachannel'),
    info: () => ({ version: 'test', apps: ['viewer'] }),
  });
  hubs.push(hub);
  hub.join(s.url);
  const t0 = Date.now();
  while (hub.sessions().length === 0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
  return UploadClient.for(hub.sessions()[0]);
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond().catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const objects = async (s: Served) => (await (await fetch(`${s.url}/api/objects`)).json()) as { id: string; title: string; media?: { duration: number; frames: number } }[];
const probe = async (target: string) => {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames:format=duration', '-of', 'json', target], { timeout: 60_000 });
  const j = JSON.parse(stdout) as { streams: { nb_read_frames: string }[]; format: { duration: string } };
  return { frames: Number(j.streams[0].nb_read_frames), duration: Number(j.format.duration) };
};

async function failure(p: Promise<unknown>): Promise<UploadError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UploadError) return e;
    throw e;
  }
  throw new Error('the upload succeeded');
}

beforeAll(async () => {
  clip = join(tmp, 'Clip to upload.webm');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', '4', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '400k', clip]);
  [a, off] = await Promise.all([serve(['--data', join(tmp, 'a'), ...small, '--upload-max', '2M']), serve(['--data', join(tmp, 'off'), ...small, '--uploads', 'off'])]);
  b = await serve(['--data', join(tmp, 'b'), ...small, '--peer', a.url, '--media-wait', '20000']);
});
afterAll(async () => {
  await Promise.race([Promise.all(hubs.map((h) => h.close())), new Promise((r) => setTimeout(r, 5000))]);
  await Promise.all([a, b, off].map((s) => s?.stop('SIGKILL')));
  rmSync(tmp, { recursive: true, force: true });
});

describe('upload to a real server', () => {
  it('uploads a WebM clip; it is listed on A and on B, and B plays it with every frame', async () => {
    const client = await viewerOf(a);
    const r = await client.upload(blobSource(await openAsBlob(clip), 'Clip to upload.webm'));
    expect(r.title).toBe('Clip to upload');
    expect(r.frames).toBe(100);
    expect(r.duration).toBeCloseTo(4, 1);
    expect((await objects(a)).find((o) => o.id === r.media)?.title).toBe('Clip to upload');
    expect(readdirSync(join(tmp, 'a', 'uploads'))).toEqual([]);
    await waitFor('the media on B', async () => (await objects(b)).some((o) => o.id === r.media));
    const source = await probe(clip);
    const played = await probe(`${b.url}/hls/media/${r.media}/index.m3u8`);
    expect(played.frames).toBe(source.frames);
    expect(played.duration).toBeCloseTo(source.duration, 0);
    console.log(`upload: ${(statSync(clip).size / 1024).toFixed(0)} KiB in ${r.ms.toFixed(0)} ms (bytes ${r.sendMs.toFixed(0)} ms), then played on B`);
  });

  it('refuses a file over --upload-max before any byte moves', async () => {
    const client = await viewerOf(a);
    let pulled = false;
    const big: UploadSource = {
      name: 'big.mp4',
      size: 3 << 20,
      async *chunks() {
        pulled = true;
        yield new Uint8Array(1);
      },
    };
    const e = await failure(client.upload(big));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.reason).toContain('up to 2.0 MiB');
    expect(pulled).toBe(false);
  });

  it('a text file: NOT_MEDIA, no object, no file left', async () => {
    const client = await viewerOf(a);
    const before = (await objects(a)).length;
    const e = await failure(client.upload(blobSource(new Blob(['hello, this is not a video\n'.repeat(100)], { type: 'text/plain' }), 'notes.txt')));
    expect(e.code).toBe('NOT_MEDIA');
    expect((await objects(a)).length).toBe(before);
    expect(readdirSync(join(tmp, 'a', 'uploads'))).toEqual([]);
  });

  it('--uploads off: REFUSED, and no upload folder', async () => {
    const client = await viewerOf(off);
    const e = await failure(client.upload(blobSource(await openAsBlob(clip), 'x.webm')));
    expect(e.code).toBe('REFUSED');
    expect(e.reason).toContain('--uploads off');
    expect(readdirSync(join(tmp, 'off'))).not.toContain('uploads');
  });
});
