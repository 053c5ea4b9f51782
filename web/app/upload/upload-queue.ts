// The files a person dropped or chose, one upload at a time to the server the viewer joined (Upload over
// STX, shared/media/upload.ts): each file's state, bytes sent, ingest progress, and the media it became or
// why it did not. Plain TypeScript: the component (<stateos-upload>) renders it.
import { blobSource, describeUploadError, UploadClient, UploadError, type UploadSource } from '../../../shared/media/upload.ts';
import type { SyncHub } from '../../../shared/sync/hub.ts';
import type { PeerSession } from '../../../shared/sync/session.ts';
import { Emitter } from '../../../shared/util/emitter.ts';

export type UploadState = 'waiting' | 'sending' | 'ingesting' | 'done' | 'failed';

export interface UploadItem {
  key: number;
  name: string;
  size: number;
  state: UploadState;
  /** Bytes handed to the data channel. */
  sent: number;
  /** Bytes of the file the server's ingest has read, and the frames it made. */
  ingested: number;
  frames: number;
  /** Done: the media object and its title. */
  media?: string;
  title?: string;
  /** Failed: the code and a sentence for a person. */
  code?: string;
  error?: string;
  /** Milliseconds from the request to the server's answer, when done. */
  ms?: number;
}

/** What the queue needs of the viewer: its hub, and which server session to prefer (the one joined). */
export interface UploadTarget {
  hub: SyncHub | undefined;
  preferred?: string;
  /** Why there is no live session, when known ("reconnecting: the connection was lost"). */
  why?: string;
}

export class UploadQueue {
  /** An item changed (undefined: several did). */
  readonly changed = new Emitter<UploadItem | undefined>();
  readonly items: UploadItem[] = [];
  private readonly sources = new Map<number, UploadSource>();
  private readonly aborts = new Map<number, AbortController>();
  private next = 1;
  private running = false;

  constructor(private readonly target: () => UploadTarget) {}

  /** Queues files (a browser File is a Blob with a name). */
  add(files: Iterable<Blob & { name?: string }>): UploadItem[] {
    const added: UploadItem[] = [];
    for (const f of files) {
      const src = blobSource(f, f.name ?? 'upload');
      const item: UploadItem = { key: this.next++, name: src.name, size: src.size, state: 'waiting', sent: 0, ingested: 0, frames: 0 };
      this.items.push(item);
      this.sources.set(item.key, src);
      added.push(item);
      this.changed.emit(item);
    }
    void this.pump();
    return added;
  }

  /** Stops an upload (the server removes what it received) or takes a waiting one off the queue. */
  cancel(key: number): void {
    const item = this.items.find((i) => i.key === key);
    if (!item) return;
    if (item.state === 'waiting') {
      this.sources.delete(key);
      this.fail(item, 'CANCELLED', 'cancelled');
    } else this.aborts.get(key)?.abort();
  }

  /** Forgets the uploads that ended. */
  clearFinished(): void {
    for (let i = this.items.length - 1; i >= 0; i--) if (this.items[i].state === 'done' || this.items[i].state === 'failed') this.items.splice(i, 1);
    this.changed.emit(undefined);
  }

  get busy(): boolean {
    return this.items.some((i) => i.state !== 'done' && i.state !== 'failed');
  }

  private session(): PeerSession | undefined {
    const t = this.target();
    const servers = t.hub?.sessions().filter((s) => s.peerRole === 'server' && s.state === 'live') ?? [];
    return servers.find((s) => s.peer === t.preferred) ?? servers[0];
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let item = this.nextWaiting(); item; item = this.nextWaiting()) await this.send(item);
    } finally {
      this.running = false;
    }
  }

  private nextWaiting(): UploadItem | undefined {
    return this.items.find((i) => i.state === 'waiting' && this.sources.has(i.key));
  }

  private async send(item: UploadItem): Promise<void> {
    const src = this.sources.get(item.key)!;
    this.sources.delete(item.key);
    const session = this.session();
    if (!session) {
      const why = this.target().why;
      return this.fail(item, 'NO_SESSION', `the page has no live session with a state server${why ? ` (${why})` : ''}; try again once it is connected`);
    }
    const ac = new AbortController();
    this.aborts.set(item.key, ac);
    this.update(item, { state: 'sending' });
    try {
      const r = await UploadClient.for(session).upload(src, {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === 'sending') this.update(item, { sent: p.bytes });
          else this.update(item, { state: 'ingesting', sent: item.size, ingested: p.bytes, frames: p.frames ?? 0 });
        },
      });
      this.update(item, { state: 'done', sent: item.size, ingested: item.size, frames: r.frames, media: r.media, title: r.title, ms: r.ms });
    } catch (e) {
      const u = e instanceof UploadError ? e : new UploadError('FAILED', e instanceof Error ? e.message : String(e));
      this.fail(item, u.code, u.reason);
    } finally {
      this.aborts.delete(item.key);
    }
  }

  private fail(item: UploadItem, code: string, reason: string): void {
    this.update(item, { state: 'failed', code, error: describeUploadError(code, reason) });
  }

  private update(item: UploadItem, patch: Partial<UploadItem>): void {
    Object.assign(item, patch);
    this.changed.emit(item);
  }
}
