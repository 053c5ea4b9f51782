// The server's side of Upload (protocol in upload.ts and docs/PROTOCOL.md, "Upload"). Checks the limits
// before any byte moves (size cap, the data ring's size, uploads per peer and in all, free disk space),
// hands out a transfer ticket, writes what arrives to a temporary file (the platform's UploadStore: Node
// writes under the data folder), checks the size the client announced, ingests the file, tells the client
// how it went, and removes the temporary file whatever happened. Bytes from a peer never crash the server:
// the client's file name is only shown and logged (never a path), a size that lies ends that upload.
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { err, isStxError, StxError } from '../stx/errors.ts';
import type { ReplyInit } from '../stx/connection.ts';
import type { Message } from '../stx/message.ts';
import type { SyncHub } from '../sync/hub.ts';
import type { PeerSession } from '../sync/session.ts';
import { intParam, ticketAttrs } from '../sync/wire.ts';
import { isMediaError } from './errors.ts';
import type { IngestProgress, IngestResult } from './ingest.ts';
import { MAX_TITLE_LENGTH } from './metadata.ts';
import { sanitizeName, titleFromName, UPLOAD_CHUNK, UploadMethod, type UploadPhase } from './upload.ts';

/** Where an upload's bytes go until they are ingested (Node: a file under the data folder). */
export interface UploadFile {
  /** Appends bytes, in order. A full disk rejects with an error whose `code` is ENOSPC. */
  write(bytes: Uint8Array): Promise<void>;
  /** Ingests what was written as a new media object (like `stateos ingest`). Rejects with a MediaError. */
  ingest(opts: { title: string; signal: AbortSignal; onProgress(p: IngestProgress): void }): Promise<IngestResult>;
  /** Closes and deletes the file. Safe to call more than once. */
  remove(): Promise<void>;
}

export interface UploadStore {
  /** Bytes free where the files go; undefined when unknown. */
  freeBytes(): Promise<number | undefined>;
  /** A new, empty file for upload `id` (`[0-9a-f]{16}`, made here: never anything from the peer). */
  create(id: string): Promise<UploadFile>;
}

export interface UploadServiceOptions {
  /** Largest file accepted, bytes. Default 4 GiB. */
  maxBytes?: number;
  /** The data ring's capacity: a larger file would evict its own frames while it is ingested. */
  ringBytes?: number;
  /** Uploads one peer may run at once. Default 2. */
  perPeer?: number;
  /** Uploads running at once, from everyone. Default 8. */
  maxActive?: number;
  /** Disk space an upload must leave free, beyond its own size and what running uploads still need. Default 64 MiB. */
  keepFreeBytes?: number;
  /** Progress messages to the client at most this often, ms. Default 250. */
  progressMs?: number;
  log?: Logger;
}

export interface UploadStats {
  accepted: number;
  refused: number;
  done: number;
  failed: number;
  bytes: number;
}

export interface UploadService {
  stats: UploadStats;
  /** Uploads running now (receiving or ingesting). */
  active(): number;
  /** Aborts every upload and waits until their files are removed. */
  close(): Promise<void>;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const size = (n: number): string => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

/** A failure with the code the client is told (any string: media codes, SIZE_MISMATCH, NO_SPACE, …). */
class Failure extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
  }
}

const stripCode = (message: string, code: string): string => (message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message);

/** The code and words an error becomes for the client. */
function failureOf(e: unknown, cancelled: string | undefined): Failure {
  if (e instanceof Failure) return e;
  if (cancelled !== undefined) return new Failure('CANCELLED', cancelled);
  if (isMediaError(e)) return new Failure(e.code, stripCode(e.message, e.code));
  if (e instanceof StxError) {
    if (e.code === 'REMOTE_ERROR') return new Failure(e.remoteCode === 'ABORTED' ? 'CANCELLED' : (e.remoteCode ?? 'FAILED').slice(0, 32), stripCode(e.message, e.code));
    if (e.code === 'ABORTED') return new Failure('CANCELLED', stripCode(e.message, e.code));
    return new Failure(e.code, stripCode(e.message, e.code));
  }
  if ((e as { code?: unknown })?.code === 'ENOSPC') return new Failure('NO_SPACE', 'the server ran out of disk space');
  return new Failure('IO', e instanceof Error ? e.message : String(e));
}

function newId(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(8));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** One upload, from the accepted request to the removed file. */
class Upload {
  phase: UploadPhase = 'receiving';
  received = 0;
  file: UploadFile | undefined;
  cancelTransfer: ((reason: string) => void) | undefined;
  /** Set before anything else when the upload is cancelled (by the client, the session ending, shutdown). */
  cancelled: string | undefined;
  private failure: Failure | undefined;
  private readonly ingestAbort = new AbortController();
  private lastStatus = 0;
  readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    readonly id: string,
    readonly session: PeerSession,
    readonly name: string,
    readonly size: number,
    readonly title: string,
    private readonly opts: { progressMs: number; log: Logger; stats: UploadStats },
  ) {
    this.finished = new Promise((r) => (this.finish = r));
  }

  /** One item from the data channel: written in order; more bytes than announced end the upload. */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.received + bytes.length > this.size) {
      this.failure = new Failure('SIZE_MISMATCH', `more bytes than the ${this.size} announced`);
      throw err('TOO_LARGE', this.failure.reason);
    }
    try {
      await this.file!.write(bytes);
    } catch (e) {
      this.failure = failureOf(e, undefined);
      throw e;
    }
    this.received += bytes.length;
    this.opts.stats.bytes += bytes.length;
    this.progress({ phase: 'receiving', bytes: String(this.received), size: String(this.size) });
  }

  /** After the transfer: check the size, ingest, remove the file, then answer. Never rejects. */
  async run(transfer: Promise<unknown>): Promise<void> {
    const { log } = this.opts;
    const t0 = performance.now();
    let verdict: Record<string, string>;
    try {
      await transfer;
      if (this.received !== this.size) throw new Failure('SIZE_MISMATCH', `fewer bytes than announced: ${this.received} of ${this.size}`);
      if (this.cancelled !== undefined) throw new Failure('CANCELLED', this.cancelled);
      this.phase = 'ingesting';
      this.status({ phase: 'ingesting', bytes: '0', size: String(this.size), frames: '0' });
      const r = await this.file!.ingest({
        title: this.title,
        signal: this.ingestAbort.signal,
        onProgress: (p) => this.progress({ phase: 'ingesting', bytes: String(p.bytesRead), size: String(p.total), frames: String(p.frames) }),
      });
      this.opts.stats.done++;
      log.info('upload ingested', { upload: this.id, name: this.name, media: r.id, frames: r.frames, bytes: this.size, ms: Math.round(performance.now() - t0) });
      verdict = { phase: 'done', media: r.id, title: r.title, frames: String(r.frames), duration: r.duration.toFixed(3), size: String(this.size) };
    } catch (e) {
      const f = this.failure ?? failureOf(e, this.cancelled);
      this.opts.stats.failed++;
      // a peer's bad file is not the server's trouble: info; the server's own failures: warn
      const level = f.code === 'IO' || f.code === 'NO_SPACE' || f.code === 'SINK' ? 'warn' : 'info';
      log[level]('upload failed', { upload: this.id, name: this.name, code: f.code, reason: f.reason, received: this.received, size: this.size });
      verdict = { phase: 'failed', code: f.code, reason: f.reason.slice(0, 500) };
    }
    // the file goes first: once the client hears the verdict, nothing of the upload is left
    try {
      await this.file?.remove();
    } catch (e) {
      log.warn('upload file not removed', { upload: this.id, error: (e as Error).message });
    }
    this.phase = verdict.phase as UploadPhase;
    this.status(verdict);
    this.finish();
  }

  /** Stops the upload wherever it is; `finished` resolves once the file is gone. */
  cancel(reason: string): Promise<void> {
    if (this.phase === 'done' || this.phase === 'failed') return this.finished;
    this.cancelled ??= reason;
    this.cancelTransfer?.(reason);
    this.ingestAbort.abort(new Error(reason));
    return this.finished;
  }

  private progress(attrs: Record<string, string>): void {
    const now = performance.now();
    if (now - this.lastStatus < this.opts.progressMs) return;
    this.status(attrs);
  }

  private status(attrs: Record<string, string>): void {
    this.lastStatus = performance.now();
    if (this.session.state !== 'live') return;
    try {
      this.session.conn.send(UploadMethod.UploadStatus, { attrs: { upload: this.id, ...attrs } });
    } catch {
      // the session is closing: nobody to tell
    }
  }
}

/**
 * Serves Upload and UploadCancel to the viewers (and servers) of a hub. `store` undefined: uploads are off,
 * and every Upload is answered REFUSED (rather than left unknown).
 */
export function serveUploads(hub: SyncHub, store: UploadStore | undefined, opts: UploadServiceOptions = {}): UploadService {
  const log = opts.log ?? silentLogger;
  const maxBytes = opts.maxBytes ?? 4 * GiB;
  const perPeer = opts.perPeer ?? 2;
  const maxActive = opts.maxActive ?? 8;
  const keepFree = opts.keepFreeBytes ?? 64 * MiB;
  const stats: UploadStats = { accepted: 0, refused: 0, done: 0, failed: 0, bytes: 0 };
  const uploads = new Map<string, Upload>();
  const watched = new WeakSet<PeerSession>();
  let closed = false;

  const refuse = (code: 'REFUSED' | 'TOO_LARGE' | 'BUSY', reason: string, fields: Record<string, unknown>): never => {
    stats.refused++;
    log.info('upload refused', { code, reason, ...fields });
    throw err(code, reason);
  };

  /** Uploads of a session end with it while they are still receiving; a file fully received is ingested anyway. */
  const watch = (s: PeerSession) => {
    if (watched.has(s)) return;
    watched.add(s);
    s.events.closed.on(({ reason }) => {
      for (const u of uploads.values()) if (u.session === s && u.phase === 'receiving') void u.cancel(`the session ended: ${reason}`);
    });
  };

  hub.handle(
    UploadMethod.Upload,
    async (from: PeerSession, m: Message): Promise<ReplyInit> => {
      const announced = intParam(m.attrs, 'size');
      const name = sanitizeName(m.attrs.name);
      const fields = { peer: from.peer, name, size: announced };
      if (!store || closed) return refuse('REFUSED', closed ? 'the server is shutting down' : 'uploads are off on this server (--uploads off)', fields);
      if (announced === 0) throw err('BAD_PARAM', 'size: an empty file');
      const title = m.attrs.title !== undefined && m.attrs.title.trim() !== '' ? m.attrs.title.trim().slice(0, MAX_TITLE_LENGTH) : titleFromName(name);
      if (announced > maxBytes) return refuse('TOO_LARGE', `${name} is ${size(announced)}; this server takes files up to ${size(maxBytes)}`, fields);
      if (opts.ringBytes !== undefined && announced > opts.ringBytes) return refuse('TOO_LARGE', `${name} is ${size(announced)}, more than this server's data ring (${size(opts.ringBytes)})`, fields);
      const mine = [...uploads.values()].filter((u) => u.session === from).length;
      if (mine >= perPeer) return refuse('BUSY', `${mine} of your uploads are running; at most ${perPeer} at once`, fields);
      if (uploads.size >= maxActive) return refuse('BUSY', `${uploads.size} uploads are running; at most ${maxActive} at once`, fields);
      const id = newId();
      const up = new Upload(id, from, name, announced, title, { progressMs: opts.progressMs ?? 250, log, stats });
      uploads.set(id, up); // holds its place while the disk is asked
      try {
        const free = await store.freeBytes();
        const owed = [...uploads.values()].filter((u) => u !== up && u.phase === 'receiving').reduce((n, u) => n + u.size - u.received, 0);
        if (free !== undefined && free - owed - announced < keepFree) {
          return refuse('REFUSED', `not enough disk space on the server for ${size(announced)}: ${size(Math.max(0, free - owed))} free, ${size(keepFree)} kept free`, fields);
        }
        up.file = await store.create(id);
        const exp = from.expect((bytes) => up.write(bytes));
        up.cancelTransfer = (reason) => exp.cancel(reason);
        stats.accepted++;
        watch(from);
        log.info('upload accepted', { upload: id, ...fields });
        void up.run(exp.done).finally(() => uploads.delete(id));
        return { attrs: { upload: id, chunk: String(UPLOAD_CHUNK), ...ticketAttrs(exp.ticket) } };
      } catch (e) {
        if (up.file) await up.file.remove().catch(() => undefined);
        if (uploads.get(id) === up && !up.cancelTransfer) uploads.delete(id);
        if (isStxError(e)) throw e;
        log.warn('upload not started', { ...fields, error: (e as Error).message });
        throw err('HANDLER_FAILED', `the server could not start the upload: ${(e as Error).message}`);
      }
    },
    { viewers: true },
  );

  hub.handle(
    UploadMethod.UploadCancel,
    async (from: PeerSession, m: Message): Promise<void> => {
      const up = uploads.get(m.attrs.upload ?? '');
      if (!up || up.session !== from) throw err('NOT_FOUND', 'no such upload running');
      await up.cancel('cancelled by the client');
    },
    { viewers: true },
  );

  return {
    stats,
    active: () => uploads.size,
    async close() {
      closed = true;
      await Promise.all([...uploads.values()].map((u) => u.cancel('the server is shutting down')));
    },
  };
}
