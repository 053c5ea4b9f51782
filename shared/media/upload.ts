// Upload over STX (docs/PROTOCOL.md, "Upload"): a viewer sends a media file to a state server, which ingests
// it like `stateos ingest`. The seed's upload service: the request goes over the signaling channel, the
// bytes over a data channel of their own, admitted by a ticket the server hands out, so a multi-GB file
// never ties up the signaling channel. Isomorphic: the browser's app and Node clients use the client below;
// the server's side is upload-service.ts.
//   Upload        name, size, type, title?          → Reply upload=ID, chunk, and a transfer ticket
//                                                    (or TOO_LARGE / BUSY / REFUSED before any byte moves)
//   (data channel stx-data/<stream>: the file, in order, in items of at most `chunk` bytes)
//   UploadStatus  upload, phase (receiving | ingesting | done | failed), bytes, size, frames;
//                 done: media, title, duration; failed: code, reason          (one-way, server → client)
//   UploadCancel  upload                            → Ack once the server has cleaned up
import type { Guid } from '../stu/index.ts';
import { isGuid } from '../stu/index.ts';
import { isStxError, StxError } from '../stx/errors.ts';
import type { Message } from '../stx/message.ts';
import { sendStus } from '../stx/transfer.ts';
import type { PeerSession } from '../sync/session.ts';
import { intParam, ticketParam } from '../sync/wire.ts';

export const UploadMethod = {
  Upload: 'Upload',
  UploadStatus: 'UploadStatus',
  UploadCancel: 'UploadCancel',
} as const;

/** Largest item of the file on the data channel (the server says it in its reply as `chunk`). */
export const UPLOAD_CHUNK = 256 * 1024;
/** Characters of a file name kept (after the path and control characters are stripped). */
export const MAX_NAME = 255;

export type UploadPhase = 'receiving' | 'ingesting' | 'done' | 'failed';

/**
 * Why an upload failed. `code`: a media code (NOT_MEDIA, UNSUPPORTED, TRUNCATED, CORRUPT, TOO_LARGE, …, from
 * ingest), a refusal before any byte moved (TOO_LARGE, BUSY, REFUSED), SIZE_MISMATCH (the bytes sent were
 * not the size announced), NO_SPACE, CANCELLED, CLOSED (the session ended), NO_SESSION (no live server), TIMEOUT.
 */
export class UploadError extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
    this.name = 'UploadError';
  }
}

/** A file name from a peer, safe to show and log: no directories, no control characters, bounded. Never a path. */
export function sanitizeName(name: string | undefined): string {
  const base = (name ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, '').trim();
  const kept = [...clean].slice(0, MAX_NAME).join('');
  return kept === '' || kept === '.' || kept === '..' ? 'upload' : kept;
}

/** The default title of an uploaded file: its name without the extension. */
export function titleFromName(name: string): string {
  const n = sanitizeName(name);
  const dot = n.lastIndexOf('.');
  return dot > 0 ? n.slice(0, dot) : n;
}

/** A sentence for a person: what went wrong with an upload. */
export function describeUploadError(code: string, reason: string): string {
  const r = reason.trim();
  const lead: Record<string, string> = {
    NOT_MEDIA: 'not a media file',
    UNSUPPORTED: 'unsupported',
    TRUNCATED: 'the file is truncated',
    CORRUPT: 'the file is damaged',
    TOO_LARGE: 'too large',
    SIZE_MISMATCH: 'the file changed while it was sent',
    BUSY: 'the server is busy',
    REFUSED: 'refused by the server',
    NO_SPACE: 'the server ran out of disk space',
    CANCELLED: 'cancelled',
    CLOSED: 'the connection to the server was lost',
    NO_SESSION: 'not connected to a server',
    TIMEOUT: 'timed out',
  };
  const l = lead[code] ?? `failed (${code})`;
  if (!r) return l;
  return r.toLowerCase().startsWith(l.toLowerCase()) ? r : `${l}: ${r}`;
}

/** What an upload sends: a name, a size, and the bytes in order, at most `max` at a time. */
export interface UploadSource {
  name: string;
  size: number;
  type?: string;
  chunks(max: number): AsyncIterable<Uint8Array>;
}

/** A Blob (a browser File, or Node's openAsBlob) as an upload source, read one chunk at a time. */
export function blobSource(blob: Blob, name?: string): UploadSource {
  const fileName = name ?? (blob as Blob & { name?: string }).name ?? 'upload';
  return {
    name: fileName,
    size: blob.size,
    type: blob.type || undefined,
    async *chunks(max: number) {
      for (let at = 0; at < blob.size; at += max) {
        yield new Uint8Array(await blob.slice(at, Math.min(blob.size, at + max)).arrayBuffer());
      }
    },
  };
}

export interface UploadProgress {
  phase: 'sending' | 'ingesting';
  /** Bytes handed to the data channel (sending), or read by the server's ingest (ingesting). */
  bytes: number;
  size: number;
  /** Frames ingested so far (ingesting). */
  frames?: number;
}

export interface UploadOutcome {
  /** The server's id of the upload. */
  upload: string;
  media: Guid;
  title: string;
  frames: number;
  duration: number;
  size: number;
  /** Milliseconds from the request to the server's answer. */
  ms: number;
  /** Milliseconds the bytes took (the data channel), of `ms`. */
  sendMs: number;
}

export interface UploadOptions {
  /** The media's title (default: the file name without its extension). */
  title?: string;
  signal?: AbortSignal;
  onProgress?(p: UploadProgress): void;
  /** The server accepted the upload (its id). */
  onAccepted?(upload: string): void;
  /** How long to wait for the server's verdict after the data channel failed. Default 3 s. */
  verdictMs?: number;
}

type Final = { ok: true; m: Message } | { ok: false; error: UploadError };

/** The client's side on one session (a viewer's session with its server). One per session: UploadClient.for(). */
export class UploadClient {
  private static readonly clients = new WeakMap<PeerSession, UploadClient>();
  private readonly waiting = new Map<string, (m: Message) => void>();
  private readonly ended = new Set<(e: UploadError) => void>();

  static for(session: PeerSession): UploadClient {
    let c = UploadClient.clients.get(session);
    if (!c) UploadClient.clients.set(session, (c = new UploadClient(session)));
    return c;
  }

  private constructor(readonly session: PeerSession) {
    // statuses for uploads this side does not know (finished, or not ours) are ignored
    session.conn.handle(UploadMethod.UploadStatus, (m) => this.waiting.get(m.attrs.upload ?? '')?.(m));
    session.events.closed.on(({ reason }) => {
      for (const fn of [...this.ended]) fn(new UploadError('CLOSED', reason));
    });
  }

  /** Sends `source` and resolves once the server ingested it; rejects with an UploadError. */
  async upload(source: UploadSource, opts: UploadOptions = {}): Promise<UploadOutcome> {
    const s = this.session;
    const t0 = performance.now();
    const { signal } = opts;
    if (signal?.aborted) throw new UploadError('CANCELLED', 'cancelled before it started');
    if (s.state !== 'live') throw new UploadError('NO_SESSION', 'the session with the server is not live');
    if (!Number.isSafeInteger(source.size) || source.size <= 0) throw new UploadError('BAD_INPUT', `${source.name}: an empty file`);
    const attrs: Record<string, string> = { name: sanitizeName(source.name), size: String(source.size) };
    if (source.type) attrs.type = source.type.slice(0, 127);
    if (opts.title) attrs.title = opts.title;
    let reply: Message;
    try {
      reply = await s.conn.request(UploadMethod.Upload, { attrs }, undefined, { signal });
    } catch (e) {
      throw toUploadError(e, signal);
    }
    const id = reply.attrs.upload ?? '';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UploadError('BAD_REPLY', 'the server named no upload');
    const ticket = ticketParam(reply.attrs);
    const serverChunk = intParam(reply.attrs, 'chunk', 64 * 1024 * 1024, UPLOAD_CHUNK) || UPLOAD_CHUNK;
    // an item that fits one channel message travels whole (1 type byte + 5 record header bytes)
    const chunk = Math.max(1024, Math.min(serverChunk, s.link.maxMessageSize - 6));
    opts.onAccepted?.(id);

    // the server's last word on this upload: done or failed (or the session ending)
    let settle!: (f: Final) => void;
    const final = new Promise<Final>((r) => (settle = r));
    const onEnd = (error: UploadError) => settle({ ok: false, error });
    this.ended.add(onEnd);
    this.waiting.set(id, (m) => {
      const phase = m.attrs.phase as UploadPhase | undefined;
      if (phase === 'done') settle({ ok: true, m });
      else if (phase === 'failed') settle({ ok: false, error: new UploadError((m.attrs.code ?? 'FAILED').slice(0, 32), (m.attrs.reason ?? '').slice(0, 512)) });
      else if (phase === 'ingesting') opts.onProgress?.({ phase: 'ingesting', bytes: num(m.attrs.bytes), size: source.size, frames: num(m.attrs.frames) });
    });
    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      s.conn.request(UploadMethod.UploadCancel, { attrs: { upload: id } }).catch(() => undefined);
      onEnd(new UploadError('CANCELLED', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let sendMs = 0;
      try {
        const st = await sendStus(s.link, ticket, source.chunks(chunk), {
          signal,
          onProgress: (p) => opts.onProgress?.({ phase: 'sending', bytes: p.bytes, size: source.size }),
        });
        sendMs = st.ms;
      } catch (e) {
        if (cancelled || signal?.aborted) throw new UploadError('CANCELLED', 'cancelled');
        // the server's own verdict says more than the channel's (a size that lied, a full disk)
        const verdict = await Promise.race([final, new Promise<undefined>((r) => setTimeout(r, opts.verdictMs ?? 3000))]);
        if (verdict && !verdict.ok) throw verdict.error;
        throw toUploadError(e, signal);
      }
      const f = await final;
      if (!f.ok) throw f.error;
      const media = f.m.attrs.media;
      if (!isGuid(media)) throw new UploadError('BAD_REPLY', 'the server named no media object');
      return {
        upload: id,
        media,
        title: (f.m.attrs.title ?? '').slice(0, 1024),
        frames: num(f.m.attrs.frames),
        duration: Number(f.m.attrs.duration) || 0,
        size: source.size,
        ms: performance.now() - t0,
        sendMs,
      };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.waiting.delete(id);
      this.ended.delete(onEnd);
    }
  }
}

const num = (v: string | undefined): number => (v !== undefined && /^\d{1,16}$/.test(v) ? Number(v) : 0);

function toUploadError(e: unknown, signal: AbortSignal | undefined): UploadError {
  if (e instanceof UploadError) return e;
  if (signal?.aborted || isStxError(e, 'CANCELLED') || isStxError(e, 'ABORTED')) return new UploadError('CANCELLED', 'cancelled');
  if (e instanceof StxError) {
    const reason = e.message.replace(/^[A-Z_]+: /, '');
    if (e.code === 'REMOTE_ERROR') {
      const code = e.remoteCode ?? 'FAILED';
      // "peer replied CODE: CODE: words" (the peer's message repeats its code)
      const words = reason.replace(/^(peer replied|the peer aborted the transfer:) [A-Z0-9_]+(: )?/, '');
      return new UploadError(code === 'ABORTED' ? 'CANCELLED' : code, words.startsWith(`${code}: `) ? words.slice(code.length + 2) : words);
    }
    return new UploadError(e.code, reason);
  }
  return new UploadError('FAILED', e instanceof Error ? e.message : String(e));
}
