// One state server of the in-tab demo: what `stateos serve` runs (node-peer/serve.ts), on the browser's
// parts. Its own IndexedDB ring, the business-object engine with the media applications, the media time
// index, a RingStore, a SyncHub in role "server" with the demo's cluster key, data discovery, and the
// segment service (GetPlaylist/GetSegment) over a Segmenter whose frames come from this ring, or from the
// other demo servers through data discovery when they are not held here. Links are made by the cluster
// (cluster.ts), not by the hub: the hub's mesh is off so a link the user cuts stays cut.
import { mediaApp } from '../../../shared/media/app.ts';
import { channelApp } from '../../../shared/media/channel.ts';
import { RingMediaSource } from '../../../shared/media/frame-source.ts';
import { blobSource } from '../../../shared/media/byte-source.ts';
import { ingest, type IngestProgress, type IngestResult } from '../../../shared/media/ingest.ts';
import { cleanTitle, encodeMetadata, type MediaMetadata } from '../../../shared/media/metadata.ts';
import { playlistApp } from '../../../shared/media/playlist.ts';
import { serveSegments } from '../../../shared/media/segment-service.ts';
import { indexFrameTimes, Segmenter } from '../../../shared/media/segments.ts';
import { MEDIA_META } from '../../../shared/media/stu-types.ts';
import { TimeIndex } from '../../../shared/media/time-index.ts';
import { usageApp } from '../../../shared/media/usage.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Loc, Section, SectionStats } from '../../../shared/ring/types.ts';
import { StateEngine } from '../../../shared/state/engine.ts';
import type { Collision, StateApp } from '../../../shared/state/types.ts';
import { type Guid, isData, type StuHeader } from '../../../shared/stu/index.ts';
import type { ClusterKey } from '../../../shared/sync/admission.ts';
import { Discovery } from '../../../shared/sync/discovery.ts';
import { SyncHub } from '../../../shared/sync/hub.ts';
import { RingStore } from '../../../shared/sync/store.ts';
import { Emitter } from '../../../shared/util/emitter.ts';
import { deleteIdbRing, type IdbRing, openIdbRing } from '../../ring/idb-ring.ts';
import { makeBrowserLink } from '../../stx/index.ts';
import { windowedFetch } from './windowed-fetch.ts';

export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping';

/** What a demo server keeps across page loads (localStorage): its GUID and which IndexedDB ring is its own. */
export interface ServerRecord {
  guid: Guid;
  /** The ring's generation: a shrink copies the ring into a new one (IndexedDB rings keep their geometry). */
  gen: number;
  metaBytes: number;
  dataBytes: number;
}

export interface DemoServerOptions {
  /** 1-based number shown on the page. */
  n: number;
  /** Prefix of the IndexedDB ring names (one per tab, see ring-claim.ts). */
  slot: string;
  record: ServerRecord;
  /** Called when the record changes (a shrink): the cluster saves it. */
  saveRecord: (r: ServerRecord) => void;
  key: ClusterKey;
  log: Logger;
  syncIntervalMs?: number;
  /** Seconds of frames the Segmenter reads at once when it plans through the source (default 4). */
  scanWindow?: number;
}

/** Counters that survive a restart of the server (the page shows them). */
export interface ServerTotals {
  /** Frame STUs this server received from peers through data discovery. */
  framesFetched: number;
  /** Frame STUs this server sent to peers through data discovery. */
  framesSent: number;
  /** DownloadMedia requests this server made (frames missing here when a segment or a plan needed them). */
  downloads: number;
  segmentsServed: number;
  /** Records the ring evicted (both sections). */
  evictions: number;
  restarts: number;
}

export interface IngestFigures {
  bytes: number;
  stus: number;
  ms: number;
  /** STU bytes appended to the IndexedDB ring per second while ingesting (demux and appends overlap). */
  mibPerSecond: number;
}

const MEDIA_APPS: StateApp<any>[] = [mediaApp, playlistApp, channelApp, usageApp];

export class DemoServer {
  readonly n: number;
  state: ServerState = 'stopped';
  /** Why the last start or stop failed, if it did. */
  error: string | undefined;
  ring: IdbRing | undefined;
  engine: StateEngine | undefined;
  index: TimeIndex | undefined;
  store: RingStore | undefined;
  hub: SyncHub | undefined;
  discovery: Discovery | undefined;
  media: RingMediaSource | undefined;
  segmenter: Segmenter | undefined;
  readonly totals: ServerTotals = { framesFetched: 0, framesSent: 0, downloads: 0, segmentsServed: 0, evictions: 0, restarts: 0 };
  /** Fired on every state change and every STU stored (the page re-renders from it, coalesced). */
  readonly changed = new Emitter<void>();
  private segmentStats: { segments: number } | undefined;
  private base = { framesFetched: 0, framesSent: 0, downloads: 0, segmentsServed: 0 };
  private offs: (() => void)[] = [];

  constructor(private readonly opts: DemoServerOptions) {
    this.n = opts.n;
  }

  get guid(): Guid {
    return this.opts.record.guid;
  }

  get record(): ServerRecord {
    return this.opts.record;
  }

  get ringName(): string {
    return ringNameOf(this.opts.slot, this.n, this.opts.record.gen);
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Opens the ring from IndexedDB (creating it the first time), rebuilds the objects from it, starts the hub. */
  async start(): Promise<void> {
    if (this.state !== 'stopped') throw new Error(`server ${this.n} is ${this.state}`);
    this.state = 'starting';
    this.error = undefined;
    this.changed.emit();
    try {
      const r = this.opts.record;
      const ring = await openIdbRing(this.ringName, { metaBytes: r.metaBytes, dataBytes: r.dataBytes, persist: false });
      const engine = new StateEngine();
      for (const app of MEDIA_APPS) engine.register(app);
      const index = new TimeIndex();
      const store = new RingStore(r.guid, ring, {
        engine,
        onAppend: (header, loc) => {
          if (isData(header)) index.addStu({ header, loc });
        },
      });
      // Boot as a Node server does: metadata whole, data headers only; the engine and the index from them.
      const meta: { header: StuHeader; body: Uint8Array }[] = [];
      for await (const e of ring.scan('meta')) {
        store.visit(e);
        meta.push({ header: e.header, body: e.body ?? new Uint8Array(0) });
      }
      for await (const e of ring.scan('data')) {
        store.visit(e);
        index.addStu(e);
      }
      engine.ingestAll(meta);
      for (const o of engine.list(MEDIA_META)) if (o.state) index.addMedia(o.state as MediaMetadata);
      this.offs.push(
        engine.onChange((ev) => {
          if (ev.object.type !== MEDIA_META) return;
          if (ev.kind === 'deleted' || ev.kind === 'removed') index.removeMedia(ev.object.id);
          else if (ev.object.state) index.addMedia(ev.object.state as MediaMetadata);
        }),
      );
      index.attach(ring);
      this.offs.push(ring.onEvict((locs: Loc[]) => (this.totals.evictions += locs.length)));
      this.offs.push(store.onStored(() => this.changed.emit()));

      const stats = ring.stats();
      const hub = new SyncHub({
        store,
        role: 'server',
        key: this.opts.key,
        mesh: false,
        syncIntervalMs: this.opts.syncIntervalMs ?? 5000,
        log: this.opts.log.child({ server: this.n }),
        newLink: () => makeBrowserLink({ log: this.opts.log }),
        info: () => ({ version: 'demo', apps: ['media'], metaCapacity: stats.meta.capacity, dataCapacity: stats.data.capacity }),
      });
      const discovery = new Discovery({
        hub,
        holder: index,
        log: this.opts.log.child({ server: this.n }),
        wholeMedia: (id) => index.get(id)?.tracks.map((t) => ({ stream: t.index, ranges: [{ from: 0, to: t.frames }] })) ?? [],
      });
      const media = new RingMediaSource(
        { index, ring },
        { waitMs: 10_000, fetchMissing: windowedFetch({ index, download: (id, stream, ranges, signal) => discovery.download(id, stream, ranges, signal) }) },
      );
      // A small scan window: a server whose data ring is smaller than the media can still plan it (the
      // frames of one window must fit in the ring at once).
      const segmenter = new Segmenter(media, { frameTimes: indexFrameTimes(index), scanWindow: this.opts.scanWindow ?? 4, cacheBytes: 16 << 20 });
      this.segmentStats = serveSegments(hub, segmenter, { log: this.opts.log.child({ server: this.n }) }).stats;
      this.offs.push(hub.events.admitted.on(() => this.changed.emit()), hub.events.ended.on(() => this.changed.emit()), hub.events.progress.on(() => this.changed.emit()));
      Object.assign(this, { ring, engine, index, store, hub, discovery, media, segmenter });
      this.state = 'running';
    } catch (e) {
      this.state = 'stopped';
      this.error = (e as Error).message;
      await this.ring?.close().catch(() => undefined);
      this.ring = undefined;
      throw e;
    } finally {
      this.changed.emit();
    }
  }

  /** Unregisters from every peer (they do not reconnect) and closes the ring; the IndexedDB data stays. */
  async stop(): Promise<void> {
    if (this.state !== 'running') throw new Error(`server ${this.n} is ${this.state}`);
    this.state = 'stopping';
    this.changed.emit();
    this.foldTotals();
    try {
      await this.hub?.close('shutdown');
      await this.ring?.close();
    } finally {
      for (const off of this.offs) off();
      this.offs = [];
      Object.assign(this, { ring: undefined, engine: undefined, index: undefined, store: undefined, hub: undefined, discovery: undefined, media: undefined, segmenter: undefined, segmentStats: undefined });
      this.state = 'stopped';
      this.totals.restarts++;
      this.changed.emit();
    }
  }

  /**
   * Shrinks the data section (the server must be stopped): IndexedDB rings keep the geometry they were
   * made with, so the ring is copied record by record into a new one with a `dataBytes` data section. The
   * new ring evicts its oldest frames as it fills (counted as evictions here); then the old ring is deleted.
   * Returns how many data records the copy evicted.
   */
  async shrink(dataBytes: number): Promise<{ copied: number; evicted: number }> {
    if (this.state !== 'stopped') throw new Error(`stop server ${this.n} before shrinking its ring`);
    const old = this.opts.record;
    const oldName = this.ringName;
    const next: ServerRecord = { ...old, gen: old.gen + 1, dataBytes };
    const from = await openIdbRing(oldName, { metaBytes: old.metaBytes, dataBytes: old.dataBytes, persist: false });
    const to = await openIdbRing(ringNameOf(this.opts.slot, this.n, next.gen), { metaBytes: next.metaBytes, dataBytes: next.dataBytes, persist: false, fsync: { mode: 'none' } });
    let copied = 0;
    let evicted = 0;
    const off = to.onEvict((locs) => (evicted += locs.length));
    try {
      for (const section of ['meta', 'data'] as Section[]) {
        const locs: Loc[] = [];
        for await (const e of from.scan(section)) locs.push(e.loc);
        // in order, a few hundred at a time: records lying back to back are read with one device read, and
        // the appends of a chunk are gathered into one write
        for (let i = 0; i < locs.length; i += 256) {
          const got = await from.readMany(locs.slice(i, i + 256));
          const stus = got.flatMap((r) => (r.ok ? [r.value.bytes] : [])); // a damaged record: peers have it
          await Promise.all(stus.map((b) => to.append(b)));
          copied += stus.length;
        }
      }
      await to.flush();
    } finally {
      off();
      await to.close();
      await from.close();
    }
    this.totals.evictions += evicted;
    this.opts.record = next;
    this.opts.saveRecord(next);
    await deleteIdbRing(oldName);
    this.changed.emit();
    return { copied, evicted };
  }

  /** Ingests a file or blob here: one frame STU per frame and a metadata STU, appended to this ring. */
  async ingest(blob: Blob, title: string, onProgress?: (p: IngestProgress) => void): Promise<{ result: IngestResult; figures: IngestFigures }> {
    const store = this.need('store');
    const ring = this.need('ring');
    let bytes = 0;
    let stus = 0;
    const t0 = performance.now();
    const result = await ingest(blobSource(blob), {
      origin: store.origin,
      ring: {
        append: async (stu: Uint8Array) => {
          const s = await store.storeMade(stu);
          bytes += stu.length;
          stus++;
          return s.loc;
        },
      },
      title,
      onProgress,
    });
    await ring.flush();
    const ms = performance.now() - t0;
    return { result, figures: { bytes, stus, ms, mibPerSecond: bytes / 1048576 / (ms / 1000) } };
  }

  /**
   * Renames a media object: a new metadata STU after version `basedOn` (default: the version held here).
   * Two servers doing it from the same version make a collision, which every server resolves the same way.
   */
  async retitle(id: Guid, title: string, basedOn?: bigint): Promise<void> {
    const engine = this.need('engine');
    const o = engine.get(id, MEDIA_META);
    if (!o || !o.state || o.deleted) throw new RangeError(`server ${this.n} holds no media ${id}`);
    const m = o.state as MediaMetadata;
    await this.need('store').create({ type: MEDIA_META, object: id, prevTs: basedOn ?? o.ts, user: o.owner }, encodeMetadata({ ...m, title: cleanTitle(title) }));
  }

  /** Media objects held here (their metadata). */
  mediaList(): MediaMetadata[] {
    return this.index?.list() ?? [];
  }

  collisions(): Collision[] {
    return this.engine?.collisions() ?? [];
  }

  /** Metadata STUs held (the sum of the sync vector): equal on every server once they are in sync. */
  metaStus(): number {
    return this.store?.held.vector().reduce((n, e) => n + e.upTo, 0) ?? 0;
  }

  ringStats(): Record<Section, SectionStats> | undefined {
    return this.ring?.stats();
  }

  /** Frames of a media held in this ring, and how many it has in all. */
  framesHeld(m: MediaMetadata): { held: number; total: number } {
    return { held: m.tracks.reduce((n, t) => n + (this.index?.held(m.id, t.index) ?? 0), 0), total: m.frames };
  }

  /** The counters so far, this run's added to the earlier runs'. */
  liveTotals(): ServerTotals {
    const d = this.discovery?.stats;
    return {
      ...this.totals,
      framesFetched: this.base.framesFetched + (d?.receivedStus ?? 0),
      framesSent: this.base.framesSent + (d?.sentStus ?? 0),
      downloads: this.base.downloads + (d?.requested ?? 0),
      segmentsServed: this.base.segmentsServed + (this.segmentStats?.segments ?? 0),
    };
  }

  private foldTotals(): void {
    const t = this.liveTotals();
    this.base = { framesFetched: t.framesFetched, framesSent: t.framesSent, downloads: t.downloads, segmentsServed: t.segmentsServed };
  }

  private need<K extends 'store' | 'ring' | 'engine' | 'hub'>(k: K): NonNullable<this[K]> {
    const v = this[k];
    if (!v || this.state !== 'running') throw new Error(`server ${this.n} is ${this.state}`);
    return v as NonNullable<this[K]>;
  }
}

export const ringNameOf = (slot: string, n: number, gen: number): string => `${slot} server ${n}${gen > 0 ? ` g${gen}` : ''}`;
