// Upload over STX between a viewer and a server in one process (memory links, memory rings, the real Node
// upload store in a temporary folder): the file arrives and is ingested with the same frames as a direct
// ingest; non-media, sizes that lie, too large, cancel (while sending and while ingesting), uploads off, a
// session that ends mid-upload, and a hostile file name; after each, no temporary file is left.
import { createHash } from 'node:crypto';
import { mkdtempSync, openAsBlob, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../../node-peer/media/ingest-file.ts';
import { FileUploadStore } from '../../../node-peer/upload/file-store.ts';
import { mediaApp } from '../../../shared/media/app.ts';
import { MediaError } from '../../../shared/media/errors.ts';
import type { IngestProgress } from '../../../shared/media/ingest.ts';
import type { MediaMetadata } from '../../../shared/media/metadata.ts';
import { MEDIA_META } from '../../../shared/media/stu-types.ts';
import { blobSource, describeUploadError, sanitizeName, titleFromName, UploadClient, UploadError, type UploadProgress, type UploadSource } from '../../../shared/media/upload.ts';
import { serveUploads, type UploadService, type UploadServiceOptions, type UploadStore } from '../../../shared/media/upload-service.ts';
import { decodeHeader, isData, newGuid } from '../../../shared/stu/index.ts';
import { Origin } from '../../../shared/stu/origin.ts';
import type { PeerSession } from '../../../shared/sync/session.ts';
import { closeAll, connect, makeServer, type TestServer, until } from '../sync/helpers.ts';

const SAMPLE = join(import.meta.dirname, '../../../public/sample.mp4');
const tmp = mkdtempSync(join(tmpdir(), 'stateos-upload-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What identifies a frame: its type-specific area (stream, times, key flag) and its bytes. */
const frameKey = (stu: Uint8Array): string => {
  const h = decodeHeader(stu);
  if (!h.ok) throw h.error;
  return createHash('sha256').update(h.value.ext).update(stu.subarray(stu.length - h.value.bodySize)).digest('hex');
};

interface Pair {
  server: TestServer;
  viewer: TestServer;
  session: PeerSession;
  service: UploadService;
  dir: string;
  /** Frame STUs stored by upload ingests, in order (their frameKey). */
  stored: string[];
  creates: number;
}

let n = 0;
async function pair(opts: UploadServiceOptions & { enabled?: boolean; ingest?: (path: string, o: { title: string; signal: AbortSignal; onProgress(p: IngestProgress): void }) => Promise<never> } = {}): Promise<Pair> {
  const server = await makeServer({ dataBytes: 8 << 20 });
  server.engine.register(mediaApp);
  const viewer = await makeServer({ role: 'viewer' });
  const dir = join(tmp, `uploads-${n++}`);
  const stored: string[] = [];
  const files = await FileUploadStore.open(dir, async (path, o) => {
    if (opts.ingest) return opts.ingest(path, o);
    return ingestFile(path, {
      origin: server.store.origin,
      ring: {
        append: async (stu: Uint8Array) => {
          const s = await server.store.storeMade(stu);
          if (isData(s.header)) stored.push(frameKey(stu));
          return s.loc;
        },
      },
      ...o,
    });
  });
  const p = { creates: 0 } as Pair;
  const store: UploadStore = {
    freeBytes: () => files.freeBytes(),
    create: (id) => {
      p.creates++;
      return files.create(id);
    },
  };
  const service = serveUploads(server.hub, opts.enabled === false ? undefined : store, { progressMs: 0, ...opts });
  const c = await connect(viewer, server);
  await Promise.all([c.a.admitted(), c.b.admitted()]);
  return Object.assign(p, { server, viewer, session: c.a, service, dir, stored });
}

const open: Pair[] = [];
async function withPair(opts?: Parameters<typeof pair>[0]): Promise<Pair> {
  const p = await pair(opts);
  open.push(p);
  return p;
}
afterEach(async () => {
  for (const p of open.splice(0)) {
    await p.service.close();
    await closeAll([p.viewer, p.server]);
  }
});

const mediaObjects = (s: TestServer) => s.engine.list(MEDIA_META).filter((o) => !o.deleted);
const leftovers = (p: Pair) => readdirSync(p.dir);

/** A source whose bytes are `bytes` but that announces `size`. */
function lying(bytes: Uint8Array, size: number, name = 'liar.bin'): UploadSource {
  return {
    name,
    size,
    async *chunks(max: number) {
      for (let at = 0; at < bytes.length; at += max) yield bytes.subarray(at, at + max);
    },
  };
}

async function failure(p: Promise<unknown>): Promise<UploadError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UploadError) return e;
    throw e;
  }
  throw new Error('the upload succeeded');
}

let direct: { frames: string[]; count: number };
beforeAll(async () => {
  const frames: string[] = [];
  const r = await ingestFile(SAMPLE, {
    origin: new Origin(newGuid()),
    ring: {
      append: (stu: Uint8Array) => {
        const h = decodeHeader(stu);
        if (h.ok && isData(h.value)) frames.push(frameKey(stu));
        return Promise.resolve();
      },
    },
  });
  direct = { frames, count: r.frames };
});

describe('upload over STX', () => {
  it('sends a media file in chunks, ingests it with the same frames as a direct ingest, and removes the temporary file', async () => {
    const p = await withPair();
    const seen: UploadProgress[] = [];
    const blob = await openAsBlob(SAMPLE);
    const r = await UploadClient.for(p.session).upload(blobSource(blob, 'sample.mp4'), { onProgress: (x) => seen.push({ ...x }) });
    expect(r.frames).toBe(direct.count);
    expect(r.title).toBe('sample');
    expect(r.size).toBe(blob.size);
    const objects = mediaObjects(p.server);
    expect(objects.map((o) => o.id)).toEqual([r.media]);
    expect((objects[0].state as MediaMetadata).size).toBe(blob.size);
    expect(p.stored).toEqual(direct.frames);
    const sending = seen.filter((x) => x.phase === 'sending');
    expect(sending.length).toBeGreaterThan(1); // 634 KiB in items of at most 256 KiB
    expect(sending.at(-1)!.bytes).toBe(blob.size);
    expect(seen.some((x) => x.phase === 'ingesting')).toBe(true);
    expect(seen.findIndex((x) => x.phase === 'ingesting')).toBeGreaterThan(seen.findIndex((x) => x.phase === 'sending'));
    expect(leftovers(p)).toEqual([]);
    expect(p.service.stats).toMatchObject({ accepted: 1, done: 1, failed: 0, bytes: blob.size });
    expect(p.service.active()).toBe(0);
  });

  it('a file that is not media: NOT_MEDIA, no object, no temporary file', async () => {
    const p = await withPair();
    const text = new TextEncoder().encode('just some notes, not a movie\n'.repeat(4000));
    const e = await failure(UploadClient.for(p.session).upload(blobSource(new Blob([text], { type: 'text/plain' }), 'notes.txt')));
    expect(e.code).toBe('NOT_MEDIA');
    expect(describeUploadError(e.code, e.reason)).toMatch(/^not a media file/);
    expect(mediaObjects(p.server)).toEqual([]);
    expect(leftovers(p)).toEqual([]);
    expect(p.stored).toEqual([]);
  });

  it('more bytes than announced: SIZE_MISMATCH, stopped at the announced size, nothing left', async () => {
    const p = await withPair();
    const bytes = new Uint8Array(600_000).fill(7);
    const e = await failure(UploadClient.for(p.session).upload(lying(bytes, 300_000)));
    expect(e.code).toBe('SIZE_MISMATCH');
    expect(e.reason).toContain('more bytes than the 300000 announced');
    expect(p.service.stats.bytes).toBeLessThanOrEqual(300_000);
    await until(() => p.service.active() === 0, 2000, 'the upload to end');
    expect(leftovers(p)).toEqual([]);
    expect(mediaObjects(p.server)).toEqual([]);
  });

  it('fewer bytes than announced: SIZE_MISMATCH, nothing ingested, nothing left', async () => {
    const p = await withPair();
    const blob = await openAsBlob(SAMPLE);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const e = await failure(UploadClient.for(p.session).upload(lying(bytes.subarray(0, 100_000), bytes.length, 'cut.mp4')));
    expect(e.code).toBe('SIZE_MISMATCH');
    expect(e.reason).toBe(`fewer bytes than announced: 100000 of ${bytes.length}`);
    expect(p.stored).toEqual([]);
    expect(leftovers(p)).toEqual([]);
  });

  it('too large: refused before any byte moves (no channel, no file)', async () => {
    const p = await withPair({ maxBytes: 1 << 20 });
    let pulled = 0;
    const src: UploadSource = {
      name: 'big.mp4',
      size: 5 << 20,
      async *chunks() {
        pulled++;
        yield new Uint8Array(1);
      },
    };
    const e = await failure(UploadClient.for(p.session).upload(src));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.reason).toBe('big.mp4 is 5.0 MiB; this server takes files up to 1.0 MiB');
    expect(pulled).toBe(0);
    expect(p.creates).toBe(0);
    expect(p.service.stats.refused).toBe(1);
  });

  it('larger than the data ring: refused too', async () => {
    const p = await withPair({ ringBytes: 1 << 20 });
    const e = await failure(UploadClient.for(p.session).upload(lying(new Uint8Array(1), 2 << 20, 'x.mkv')));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.reason).toContain("more than this server's data ring");
    expect(p.creates).toBe(0);
  });

  it('more uploads at once than a peer may run: BUSY', async () => {
    const p = await withPair({ perPeer: 1 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: UploadSource = {
      name: 'slow.bin',
      size: 2,
      async *chunks() {
        yield new Uint8Array([1]);
        await gate;
        yield new Uint8Array([2]);
      },
    };
    const client = UploadClient.for(p.session);
    const first = client.upload(slow);
    await until(() => p.service.active() === 1, 2000, 'the first upload');
    const e = await failure(client.upload(lying(new Uint8Array(1), 1)));
    expect(e.code).toBe('BUSY');
    release();
    expect((await failure(first)).code).toBe('NOT_MEDIA'); // two bytes are no movie, but they were all received
    expect(leftovers(p)).toEqual([]);
  });

  it('cancel while sending: the server stops and removes the file', async () => {
    const p = await withPair();
    const ac = new AbortController();
    const endless: UploadSource = {
      name: 'endless.webm',
      size: 1 << 30,
      async *chunks(max: number) {
        for (;;) {
          yield new Uint8Array(max);
          await new Promise((r) => setTimeout(r, 5));
        }
      },
    };
    const up = UploadClient.for(p.session).upload(endless, {
      signal: ac.signal,
      onProgress: (x) => {
        if (x.bytes > 1 << 20) ac.abort();
      },
    });
    expect((await failure(up)).code).toBe('CANCELLED');
    await until(() => p.service.active() === 0, 3000, 'the server to clean up');
    expect(leftovers(p)).toEqual([]);
    expect(p.service.stats.failed).toBe(1);
  });

  it('cancel while ingesting: the ingest is aborted and the file removed', async () => {
    let ingestSignal: AbortSignal | undefined;
    const p = await withPair({
      ingest: (_path, o) =>
        new Promise<never>((_, reject) => {
          ingestSignal = o.signal;
          o.onProgress({ bytesRead: 10, total: 20, frames: 1, phase: 'frames' });
          o.signal.addEventListener('abort', () => reject(new MediaError('ABORTED', 'ingest aborted')));
        }),
    });
    const ac = new AbortController();
    const up = UploadClient.for(p.session).upload(lying(new Uint8Array(20), 20, 'a.mp4'), {
      signal: ac.signal,
      onProgress: (x) => {
        if (x.phase === 'ingesting' && x.frames === 1) ac.abort();
      },
    });
    expect((await failure(up)).code).toBe('CANCELLED');
    await until(() => p.service.active() === 0, 3000, 'the server to clean up');
    expect(ingestSignal?.aborted).toBe(true);
    expect(leftovers(p)).toEqual([]);
  });

  it('the session ends mid-upload: the server cleans up', async () => {
    const p = await withPair();
    const src: UploadSource = {
      name: 'cut-off.mp4',
      size: 10 << 20,
      async *chunks(max: number) {
        for (;;) {
          yield new Uint8Array(max);
          await new Promise((r) => setTimeout(r, 5));
        }
      },
    };
    const up = UploadClient.for(p.session).upload(src, {
      onProgress: (x) => {
        if (x.bytes > 512 * 1024) p.session.close('lost', 'cable pulled');
      },
    });
    expect(['CLOSED', 'CANCELLED']).toContain((await failure(up)).code);
    await until(() => p.service.active() === 0, 3000, 'the server to clean up');
    expect(leftovers(p)).toEqual([]);
  });

  it('uploads off: REFUSED with the reason', async () => {
    const p = await withPair({ enabled: false });
    const e = await failure(UploadClient.for(p.session).upload(lying(new Uint8Array(4), 4)));
    expect(e.code).toBe('REFUSED');
    expect(e.reason).toContain('uploads are off');
  });

  it('no live session: NO_SESSION before anything is sent', async () => {
    const p = await withPair();
    p.session.close('closed', 'gone');
    const e = await failure(UploadClient.for(p.session).upload(lying(new Uint8Array(4), 4)));
    expect(e.code).toBe('NO_SESSION');
  });

  it('a hostile file name is never a path: the title is its last part, the file stays in the upload folder', async () => {
    const p = await withPair();
    const blob = await openAsBlob(SAMPLE);
    const r = await UploadClient.for(p.session).upload(blobSource(blob, '../../../etc/\u0000evil\u0007 clip.mp4'));
    expect(r.title).toBe('evil clip');
    expect(leftovers(p)).toEqual([]);
    expect(readdirSync(tmp).every((f) => f.startsWith('uploads-'))).toBe(true);
  });
});

describe('upload names and messages', () => {
  it('sanitizes names', () => {
    expect(sanitizeName('a/b\\c.mp4')).toBe('c.mp4');
    expect(sanitizeName('..')).toBe('upload');
    expect(sanitizeName('')).toBe('upload');
    expect(sanitizeName(undefined)).toBe('upload');
    expect(sanitizeName('x\u0000y\u001f.mp4')).toBe('xy.mp4');
    expect(sanitizeName('é'.repeat(400))).toHaveLength(255);
    expect(titleFromName('.hidden')).toBe('.hidden');
    expect(titleFromName('holiday.2024.mp4')).toBe('holiday.2024');
  });

  it('describes errors in words', () => {
    expect(describeUploadError('NOT_MEDIA', 'not a media file (no known signature)')).toBe('not a media file (no known signature)');
    expect(describeUploadError('TOO_LARGE', 'x is 5 GiB')).toBe('too large: x is 5 GiB');
    expect(describeUploadError('WHATEVER', '')).toBe('failed (WHATEVER)');
  });
});

it('a temporary file of an earlier run is removed when the store opens', async () => {
  const dir = join(tmp, 'stale');
  await FileUploadStore.open(dir, () => Promise.reject(new Error('unused')));
  writeFileSync(join(dir, 'upload-0123456789abcdef.part'), 'half a file');
  writeFileSync(join(dir, 'keep.txt'), 'not ours');
  const s = await FileUploadStore.open(dir, () => Promise.reject(new Error('unused')));
  expect(await s.pending()).toEqual([]);
  expect(readdirSync(dir)).toEqual(['keep.txt']);
});
