// Upload and download of media through the State API (docs/API.md, "Upload and download"), on the client's
// own connection (a WebSocket or the WebRTC `stx` channel), in chunks that fit one message:
//   Upload name size [title] [readers] [writers]  → upload=ID chunk=BYTES    (a registered user, not anonymous)
//   UploadChunk upload offset, body: the bytes     → received=N              (in order: offset = what came so far)
//   UploadDone upload                              → the new media (ApiObject), owned by the caller through its ACL
//   UploadCancel upload                            → Ack
//   Download object part=init|N offset             → body: up to chunk bytes; segments=N, size=S, more=0|1
// An upload is written to a temporary file (the platform's UploadStore), ingested as `stateos ingest` does,
// and the file removed whatever happens (also when the connection closes). A download is the media as a
// fragmented MP4: the init segment, then every media segment (shared/media/segments.ts), each fetched in
// chunks, stateless on the server; any player reads the concatenation.
import type { UploadStore } from '../media/upload-service.ts';
import { isMediaError } from '../media/errors.ts';
import { MAX_TITLE_LENGTH } from '../media/metadata.ts';
import { sanitizeName, titleFromName } from '../media/upload.ts';
import { type Guid, NIL_GUID } from '../stu/guid.ts';
import { normalizeAcl } from './acl.ts';
import type { SignalingConnection } from '../stx/connection.ts';
import { err, StxError } from '../stx/errors.ts';
import type { Message } from '../stx/message.ts';

export const FileMethod = {
  Upload: 'Upload',
  UploadChunk: 'UploadChunk',
  UploadDone: 'UploadDone',
  UploadCancel: 'UploadCancel',
  Download: 'Download',
} as const;

/** Bytes per chunk each way: well under every transport's message limit (64 KiB data channels). */
export const FILE_CHUNK = 48 * 1024;

export interface ApiUploads {
  store: UploadStore;
  /** Largest file, bytes. */
  maxBytes: number;
  /** Disk space an upload must leave free beyond its own size. Default 64 MiB. */
  keepFreeBytes?: number;
}

export interface ApiDownloads {
  /** The media's segments: how many, and the bytes of the init segment or of segment n. Throws RangeError for no such media. */
  segments(media: Guid): Promise<number>;
  part(media: Guid, part: 'init' | number): Promise<Uint8Array>;
}

export interface FilesContext {
  /** The registered caller; throws UNAUTHENTICATED when there is none. */
  caller(): { user: string; anonymous: boolean };
  /** The media `id` if the caller may read it; throws NOT_FOUND otherwise. */
  readableMedia(id: Guid): void;
  /** Makes the ingested media the caller's: its ACL, and the object as the client sees it. */
  adopt(media: Guid, readers: string[] | undefined, writers: string[] | undefined): Promise<unknown>;
  uploads?: ApiUploads;
  downloads?: ApiDownloads;
  log: { info(msg: string, fields?: Record<string, unknown>): void };
}

const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

function int(m: Message, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = m.attrs[name];
  if (v === undefined || !/^\d{1,16}$/.test(v) || Number(v) > max) throw err('BAD_PARAM', `${name}: a whole number up to ${max}`);
  return Number(v);
}

const principals = (s: string | undefined) => (s === undefined ? undefined : s.split(',').filter(Boolean));

/** Registers the upload and download handlers on one API connection. Returns what to run when it closes. */
export function serveFiles(conn: SignalingConnection, ctx: FilesContext): () => void {
  let active: { id: string; size: number; received: number; title: string; readers?: string[]; writers?: string[]; file: Awaited<ReturnType<UploadStore['create']>>; busy: boolean; writing: Promise<void> } | undefined;
  const drop = async () => {
    const a = active;
    active = undefined;
    await a?.file.remove().catch(() => undefined);
  };
  const mine = (m: Message) => {
    if (!active || m.attrs.upload !== active.id) throw err('NOT_FOUND', `no upload ${String(m.attrs.upload).slice(0, 32)} on this connection`);
    return active;
  };

  conn.handle(FileMethod.Upload, async (m) => {
    const c = ctx.caller();
    if (c.anonymous) throw err('FORBIDDEN', 'anonymous clients may not upload');
    const up = ctx.uploads;
    if (!up) throw err('UNSUPPORTED', 'this server takes no uploads (--uploads off)');
    if (active) throw err('BUSY', 'one upload at a time on a connection');
    const size = int(m, 'size');
    if (size === 0) throw err('BAD_PARAM', 'size: an empty file is no media');
    if (size > up.maxBytes) throw err('TOO_LARGE', `${size} bytes (at most ${up.maxBytes}, --upload-max)`);
    const free = await up.store.freeBytes();
    if (free !== undefined && free < size + (up.keepFreeBytes ?? 64 * 1024 * 1024)) throw err('TOO_LARGE', `not enough free disk for ${size} bytes`);
    const readers = principals(m.attrs.readers);
    const writers = principals(m.attrs.writers);
    try {
      normalizeAcl({ object: NIL_GUID, owner: c.user, readers: readers ?? [], writers: writers ?? [] });
    } catch (e) {
      throw err('BAD_PARAM', (e as Error).message);
    }
    const name = sanitizeName(m.attrs.name ?? 'upload');
    const title = (m.attrs.title ?? titleFromName(name)).slice(0, MAX_TITLE_LENGTH);
    const id = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('');
    active = { id, size, received: 0, title, readers, writers, file: await up.store.create(id), busy: false, writing: Promise.resolve() };
    ctx.log.info('api upload started', { user: c.user, upload: id, size, name });
    return { attrs: { upload: id, chunk: String(FILE_CHUNK) } };
  });

  conn.handle(FileMethod.UploadChunk, async (m) => {
    const a = mine(m);
    if (a.busy) throw err('BUSY', 'the upload is being ingested');
    const offset = int(m, 'offset');
    if (offset !== a.received) throw err('BAD_PARAM', `offset ${offset}: ${a.received} bytes came so far`);
    if (a.received + m.body.length > a.size) {
      await drop();
      throw err('TOO_LARGE', `more bytes than the ${a.size} announced; the upload is cancelled`);
    }
    a.received += m.body.length;
    // in order, even when a client sends the next chunk before this one is acknowledged
    const body = m.body.slice();
    a.writing = a.writing.then(() => a.file.write(body));
    await a.writing;
    return { attrs: { received: String(a.received) } };
  });

  conn.handle(FileMethod.UploadDone, async (m) => {
    const a = mine(m);
    if (a.busy) throw err('BUSY', 'the upload is being ingested');
    if (a.received !== a.size) throw err('BAD_PARAM', `${a.received} of the ${a.size} bytes announced came`);
    a.busy = true;
    try {
      await a.writing;
      const r = await a.file.ingest({ title: a.title, signal: new AbortController().signal, onProgress: () => undefined });
      return { body: json(await ctx.adopt(r.id as Guid, a.readers, a.writers)) };
    } catch (e) {
      if (isMediaError(e)) throw new StxError(e.code === 'UNSUPPORTED' ? 'UNSUPPORTED' : 'BAD_PARAM', e.message);
      throw e;
    } finally {
      await drop();
    }
  });

  conn.handle(FileMethod.UploadCancel, async (m) => {
    mine(m);
    await drop();
  });

  conn.handle(FileMethod.Download, async (m) => {
    ctx.caller();
    const d = ctx.downloads;
    if (!d) throw err('UNSUPPORTED', 'this server offers no downloads');
    const id = m.attrs.object;
    if (typeof id !== 'string') throw err('BAD_PARAM', 'object: a media GUID');
    ctx.readableMedia(id as Guid);
    const partAttr = m.attrs.part ?? 'init';
    const part = partAttr === 'init' ? 'init' : int(m, 'part', 1 << 30);
    const offset = m.attrs.offset === undefined ? 0 : int(m, 'offset');
    let segments: number;
    let bytes: Uint8Array;
    try {
      segments = await d.segments(id as Guid);
      if (part !== 'init' && part >= segments) throw err('NOT_FOUND', `media ${id} has segments 0-${segments - 1}`);
      bytes = await d.part(id as Guid, part);
    } catch (e) {
      if (e instanceof RangeError) throw err('NOT_FOUND', e.message);
      if (isMediaError(e)) throw new StxError('UNSUPPORTED', e.message);
      throw e;
    }
    if (offset > bytes.length) throw err('BAD_PARAM', `offset ${offset}: the part has ${bytes.length} bytes`);
    const end = Math.min(bytes.length, offset + FILE_CHUNK);
    return { attrs: { segments: String(segments), size: String(bytes.length), more: end < bytes.length ? '1' : '0' }, body: bytes.subarray(offset, end) };
  });

  return () => void drop();
}
