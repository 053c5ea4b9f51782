// HLS over STX against a real server process: a Node viewer (the same sync and segment client a browser
// uses, over node-datachannel) gets the playlist and every segment over WebRTC data channels; ffprobe
// counts the frames of what arrived; the funnel holds segments beyond the lead.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegmentClient } from '../../../shared/media/segment-service.ts';
import { memoryDevices, openMemoryRing } from '../../../shared/ring/index.ts';
import { newGuid } from '../../../shared/stu/index.ts';
import { SyncHub } from '../../../shared/sync/hub.ts';
import { RingStore } from '../../../shared/sync/store.ts';
import { makeLink } from '../../../node-peer/webrtc/index.ts';
import { serve, type Served } from '../../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-stx-hls-'));
let server: Served;
let hub: SyncHub;
let client: SegmentClient;
let media = '';

beforeAll(async () => {
  server = await serve(['--data', join(tmp, 's'), '--meta-size', '4M', '--data-size', '16M', '--sample', '--rtsp', 'off']);
  media = ((await (await fetch(`${server.url}/api/objects`)).json()) as { id: string }[])[0].id;
  const ring = await openMemoryRing(memoryDevices(1 << 20, 1 << 20));
  hub = new SyncHub({
    store: new RingStore(newGuid(), ring),
    role: 'viewer',
    mesh: false,
    newLink: () => makeLink('datachannel'),
    info: () => ({ version: 'test', apps: ['viewer'] }),
  });
  hub.join(server.url);
  const t0 = Date.now();
  while (hub.sessions().length === 0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
  client = new SegmentClient(hub.sessions()[0]);
});
afterAll(async () => {
  await Promise.race([hub?.close(), new Promise((r) => setTimeout(r, 5000))]);
  // this file is about delivery, not shutdown (cli.test.ts checks a clean exit): do not wait on it
  await server?.stop('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('HLS over STX', () => {
  it('delivers the playlist and every segment over data channels, decodable by ffmpeg', async () => {
    const playlist = await client.playlist(media as never);
    const segs = [...playlist.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1]));
    const durations = [...playlist.matchAll(/^#EXTINF:([\d.]+),/gm)].map((m) => Number(m[1]));
    expect(segs.length).toBeGreaterThan(5);
    const parts = [(await client.segment(media as never, 'init')).bytes];
    let t = 0;
    for (const [i, n] of segs.entries()) {
      const r = await client.segment(media as never, n, t);
      expect(r.delayMs).toBe(0); // asked at its own start: within the lead
      parts.push(r.bytes);
      t += durations[i];
    }
    const file = join(tmp, 'over-stx.mp4');
    writeFileSync(file, Buffer.concat(parts));
    const count = (f: string) =>
      Number(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', f]).toString().trim());
    const source = join(import.meta.dirname, '../../../public/sample.mp4');
    expect(count(file)).toBe(count(source));
    const errors = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    expect(errors).toBe('');
  });

  it('holds a segment beyond the lead until the play position catches up (the funnel)', async () => {
    const playlist = await client.playlist(media as never);
    const durations = [...playlist.matchAll(/^#EXTINF:([\d.]+),/gm)].map((m) => Number(m[1]));
    // the first segment starting at least 13 s in: at position 0 with a 10 s lead, held about start - 10 s
    let start = 0;
    let n = 0;
    while (start < 13) start += durations[n++];
    const r = await client.segment(media as never, n, 0);
    expect(r.delayMs).toBeGreaterThan((start - 10) * 1000 - 200);
    expect(r.delayMs).toBeLessThan((start - 10) * 1000 + 200);
    expect(r.ms).toBeGreaterThanOrEqual(r.delayMs);
  });

  it('answers a bogus media with NOT_FOUND and keeps serving', async () => {
    await expect(client.playlist(newGuid() as never)).rejects.toMatchObject({ remoteCode: 'NOT_FOUND' });
    await expect(client.segment(media as never, 100000)).rejects.toMatchObject({ remoteCode: 'NOT_FOUND' });
    expect((await client.playlist(media as never)).startsWith('#EXTM3U')).toBe(true);
  });
});
