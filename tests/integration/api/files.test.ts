// Upload and download through the State API against a real `stateos serve` (shared/api/files.ts): alice
// uploads a WebM over a WebSocket in chunks; it is ingested, hers (hidden from anonymous), and her download
// of it (fragmented MP4) has every video frame of the source (ffprobe); an anonymous client downloads the
// sample over WebRTC (64 KiB messages) with every frame; anonymous may not upload; a text file, a size that
// lies and a cancelled upload end with their codes and leave no file in DIR/uploads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../../node-peer/api/connect.ts';
import { connectApiWs } from '../../../node-peer/api/websocket-client.ts';
import type { ApiConnection } from '../../../shared/api/client.ts';
import { FileMethod } from '../../../shared/api/files.ts';
import type { Guid } from '../../../shared/stu/guid.ts';
import { StxError } from '../../../shared/stx/errors.ts';
import { ROOT, serve, type Served, stateos } from '../../helpers/cli.ts';
import { makeClip } from '../../helpers/media.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-files-'));
const dir = join(tmp, 'a');
let server: Served;
let credential = '';
const open: ApiConnection[] = [];
const frames = (file: string) =>
  Number(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]).toString().trim());
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof StxError ? (e.remoteCode ?? e.code) : Promise.reject(e)),
  );
async function download(c: ApiConnection, id: string, file: string): Promise<number> {
  const parts: Uint8Array[] = [];
  const n = await c.client.download(id as Guid, (b) => void parts.push(b.slice()));
  writeFileSync(file, Buffer.concat(parts));
  return n;
}

beforeAll(async () => {
  server = await serve(['--data', dir, '--meta-size', '4M', '--data-size', '32M', '--sample', '--rtsp', 'off']);
  credential = (await stateos(['token', 'issue', '--user', 'alice', '--data', dir])).stdout.trim();
});
afterAll(async () => {
  for (const c of open) c.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('media through the State API', () => {
  it('alice uploads a clip over a WebSocket: ingested, hers, and her download has every frame', async () => {
    const clip = makeClip(join(tmp, 'clip.webm'), { seconds: 2, size: '160x90', args: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '25', '-an'] });
    const alice = await connectApiWs(server.url);
    open.push(alice);
    await alice.client.login(credential, alice.binding);
    const sent: number[] = [];
    const media = await alice.client.upload('clip.webm', new Uint8Array(readFileSync(clip)), { title: 'Uploaded over the API', onProgress: (n) => sent.push(n) });
    expect(sent.length).toBeGreaterThan(1); // chunked
    expect(media).toMatchObject({ kind: 'media', view: expect.objectContaining({ title: 'Uploaded over the API' }) });
    expect((await alice.client.getAcl(media.id)).owner).toBe('alice');

    const anon = await connectApiWs(server.url);
    open.push(anon);
    await anon.client.register();
    expect((await anon.client.list('media')).map((m) => m.id)).not.toContain(media.id);
    expect(await code(anon.client.download(media.id, () => undefined))).toBe('NOT_FOUND');

    const out = join(tmp, 'back.mp4');
    expect(await download(alice, media.id, out)).toBeGreaterThan(1000);
    expect(frames(out)).toBe(frames(clip));
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
  });

  it('an anonymous client downloads the sample over WebRTC with every frame, and may not upload', async () => {
    const c = await connectApi(server.url);
    open.push(c);
    await c.client.register();
    const [sample] = await c.client.list('media');
    const out = join(tmp, 'sample.mp4');
    await download(c, sample.id, out);
    expect(frames(out)).toBe(frames(join(ROOT, 'public/sample.mp4')));
    expect(await code(c.client.upload('x.webm', new Uint8Array(100)))).toBe('FORBIDDEN');
  });

  it('refuses a text file, a size that lies, and cleans up a cancelled upload', async () => {
    const c = await connectApiWs(server.url);
    open.push(c);
    await c.client.login(credential, c.binding);
    const text = new TextEncoder().encode('not media at all\n'.repeat(200));
    expect(['BAD_PARAM', 'UNSUPPORTED']).toContain(await code(c.client.upload('notes.txt', text)));
    // announce 10 bytes, send 20
    const r = await c.client.conn.request(FileMethod.Upload, { attrs: { name: 'liar.mp4', size: '10' } });
    expect(await code(c.client.conn.request(FileMethod.UploadChunk, { attrs: { upload: r.attrs.upload!, offset: '0' } }, new Uint8Array(20)))).toBe('TOO_LARGE');
    // started, then cancelled
    const r2 = await c.client.conn.request(FileMethod.Upload, { attrs: { name: 'half.mp4', size: '1000' } });
    await c.client.conn.request(FileMethod.UploadChunk, { attrs: { upload: r2.attrs.upload!, offset: '0' } }, new Uint8Array(500));
    expect(await code(c.client.conn.request(FileMethod.UploadChunk, { attrs: { upload: r2.attrs.upload!, offset: '100' } }, new Uint8Array(10)))).toBe('BAD_PARAM');
    await c.client.conn.request(FileMethod.UploadCancel, { attrs: { upload: r2.attrs.upload! } });
    await expect.poll(() => readdirSync(join(dir, 'uploads'))).toEqual([]);
    expect(await code(c.client.upload('big.mp4', { size: 1e15, slice: async () => new Uint8Array(0) }))).toBe('TOO_LARGE');
  });
});
