// Media across servers over real WebRTC: ingested on A, copied to B, played through C's HLS and RTSP
// gateways with the frames fetched by data discovery from both A and B; media nobody holds fails clearly
// within the configured wait.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served, stateos } from '../../helpers/cli.ts';
import { makeClip } from '../../helpers/media.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'stateos-cross-'));
const small = ['--meta-size', '4M', '--data-size', '32M', '--cluster-key', 'cross-server-cluster-key-1'];
const servers: Served[] = [];
let a: Served;
let b: Served;
let c: Served;
let clip = '';
let media = { id: '', frames: 0 };
let lost = '';

interface Obj {
  id: string;
  title: string;
  media?: { frames: number; localFrames: number };
}
interface Peers {
  peers: { server: string; stats: { stusIn: number } }[];
}
const get = async <T>(s: Served, path: string): Promise<T> => (await (await fetch(s.url + path)).json()) as T;

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond().catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function framesOf(url: string, extra: string[] = []): Promise<{ video: number; errors: string }> {
  const { stdout, stderr } = await run('ffprobe', [...extra, '-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', url], { timeout: 60_000 });
  return { video: Number(stdout.trim().split(/\s+/)[0]), errors: stderr };
}

beforeAll(async () => {
  clip = makeClip(join(tmp, 'clip.mp4'), { seconds: 3, size: '320x180' });
  const lostClip = makeClip(join(tmp, 'lost.mp4'), { seconds: 2, size: '160x90' });
  const da = join(tmp, 'a');
  for (const [file, title] of [
    [clip, 'Shared clip'],
    [lostClip, 'Only on A'],
  ]) {
    const r = await stateos(['ingest', file, '--title', title, '--data', da, ...small]);
    expect(r.code, r.stderr).toBe(0);
  }
  a = await serve(['--data', da, ...small]);
  b = await serve(['--data', join(tmp, 'b'), ...small, '--peer', a.url]);
  c = await serve(['--data', join(tmp, 'c'), ...small, '--peer', a.url, '--media-wait', '20000']);
  servers.push(a, b, c);
  await waitFor('metadata on C', async () => (await get<Obj[]>(c, '/api/objects')).length === 2);
  const objs = await get<Obj[]>(a, '/api/objects');
  const shared = objs.find((o) => o.title === 'Shared clip')!;
  media = { id: shared.id, frames: shared.media!.frames };
  lost = objs.find((o) => o.title === 'Only on A')!.id;
  // B copies the shared clip's frames from A (data STUs move on request)
  const origin = (await get<{ server: string }>(a, '/api/health')).server;
  await waitFor('B linked to C', async () => (await get<Peers>(b, '/api/peers')).peers.length === 2);
  const pulled = await fetch(`${b.url}/api/pull`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: '0101', origin, from: 1, to: media.frames, data: true, peer: origin }),
  });
  expect(pulled.status).toBe(200);
  await waitFor('B holds the frames', async () => (await get<Obj[]>(b, '/api/objects')).find((o) => o.id === media.id)?.media?.localFrames === media.frames);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  rmSync(tmp, { recursive: true, force: true });
});

describe('media across servers', () => {
  it("plays through C's HLS gateway with frames from both A and B", async () => {
    const source = await framesOf(clip);
    const viaC = await framesOf(`${c.url}/hls/media/${media.id}/index.m3u8`);
    expect(viaC.errors).toBe('');
    expect(viaC.video).toBe(source.video);
    const peers = await get<Peers & { server: string }>(c, '/api/peers');
    const aGuid = (await get<{ server: string }>(a, '/api/health')).server;
    const bGuid = (await get<{ server: string }>(b, '/api/health')).server;
    const from = (g: string) => peers.peers.find((p) => p.server === g)?.stats.stusIn ?? 0;
    expect(from(aGuid)).toBeGreaterThan(0);
    expect(from(bGuid)).toBeGreaterThan(0);
    // stored and indexed on C: the next viewer is served locally
    const onC = (await get<Obj[]>(c, '/api/objects')).find((o) => o.id === media.id)!;
    expect(onC.media?.localFrames).toBe(media.frames);
  });

  it("plays through C's RTSP gateway", async () => {
    expect(c.rtspUrl).toMatch(/^rtsp:\/\//);
    const viaRtsp = await framesOf(`${c.rtspUrl}/media/${media.id}`, ['-rtsp_transport', 'tcp']);
    expect(viaRtsp.errors).toBe('');
    expect(viaRtsp.video).toBe((await framesOf(clip)).video);
  });

  it('fails clearly and at once (NoMedia) for media nobody reachable holds', async () => {
    await a.stop('SIGTERM');
    await waitFor('C lost A', async () => (await get<Peers>(c, '/api/peers')).peers.length === 1);
    const t0 = Date.now();
    const res = await fetch(`${c.url}/hls/media/${lost}/index.m3u8`);
    const ms = Date.now() - t0;
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: string }).error).toMatch(/samples|did not arrive|no server/i);
    expect(ms).toBeLessThan(8000);
  });
});
