// A state server's core on this machine: identity, ring, business-object engine, media time index.
// Boot: open the ring (metadata read whole, data headers only), restore the object cache snapshot if it
// agrees with the ring or rebuild it from the metadata STUs, index the frames.
import { ACL_TYPE, aclApp } from '../shared/api/acl.ts';
import { ISSUER_TYPE, trustApp } from '../shared/api/trust.ts';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../shared/log.ts';
import { mediaApp } from '../shared/media/app.ts';
import { channelApp, type ChannelState, scheduleByName } from '../shared/media/channel.ts';
import { playlistApp, type PlaylistState } from '../shared/media/playlist.ts';
import type { ChannelSchedule } from '../shared/media/schedule.ts';
import { usageApp, type UsageState } from '../shared/media/usage.ts';
import type { IngestProgress, IngestResult } from '../shared/media/ingest.ts';
import { cleanTitle, encodeMetadata, type MediaMetadata } from '../shared/media/metadata.ts';
import { CHANNEL, mediaStuTypeName, MEDIA_META, PLAYLIST, USAGE } from '../shared/media/stu-types.ts';
import { TimeIndex } from '../shared/media/time-index.ts';
import type { FsyncPolicy, Loc, Ring, ScanEntry } from '../shared/ring/types.ts';
import { StateEngine } from '../shared/state/engine.ts';
import type { BusinessObject } from '../shared/state/types.ts';
import { isData, stuId } from '../shared/stu/index.ts';
import { RingStore } from '../shared/sync/store.ts';
import { loadIdentity } from './identity.ts';
import type { Play } from './media/frames.ts';
import { ingestFile } from './media/ingest-file.ts';
import { makeUsageRecorder, type UsageRecorder, usageTotals, type UsageTotalsView } from './media/usage.ts';
import { openFileRing } from './ring/file-ring.ts';
import { lockDir } from './ring/lock.ts';

export interface NodeOptions {
  dir: string;
  metaBytes?: number;
  dataBytes?: number;
  fsync?: FsyncPolicy;
  log: Logger;
  /** Look only: no lock, nothing written (ls, dump while a server runs). */
  readOnly?: boolean;
}

/** One entry of `stateos ls` and GET /api/objects. */
export interface ObjectSummary {
  id: string;
  type: string;
  stuType: number;
  title: string;
  owner: string;
  updated: string;
  /** The object's version: the timestamp of its latest applied STU (an edit based on it names it as If-Match). */
  version: string;
  deleted: boolean;
  media?: { duration: number; container: string; tracks: { index: number; kind: string; codec: string; frames: number }[]; frames: number; bytes: number; localFrames: number };
  /** Media: its plays (from its usage chain). Usage objects (one per server): the plays that server saw. */
  usage?: UsageTotalsView;
  playlist?: { clips: number };
  channel?: { name: string; mode: string; playlists: number };
}

export interface BootReport {
  ms: number;
  snapshot: 'restored' | 'rebuilt' | 'none';
  metaStus: number;
  dataStus: number;
  recovered: number;
  tornBytes: number;
  corrupt: number;
}

const SNAPSHOT = 'objects.snapshot';

export class StateNode {
  private readonly metaIds = new Map<number, string>();
  private recorder: UsageRecorder | undefined;

  private constructor(
    readonly dir: string,
    readonly guid: string,
    readonly ring: Ring,
    readonly engine: StateEngine,
    readonly index: TimeIndex,
    /** The ring with its held-STU index: what sync reads from and writes to. */
    readonly stus: RingStore,
    readonly boot: BootReport,
    private readonly log: Logger,
    private readonly unlock: (() => Promise<void>) | undefined,
  ) {}

  static async open(opts: NodeOptions): Promise<StateNode> {
    const t0 = performance.now();
    const unlock = opts.readOnly ? undefined : await lockDir(await ensureDir(opts.dir));
    try {
      const identity = await loadIdentity(opts.dir, opts.readOnly);
      const engine = new StateEngine();
      engine.register(mediaApp);
      engine.register(playlistApp);
      engine.register(channelApp);
      engine.register(usageApp);
      engine.register(aclApp);
      engine.register(trustApp);
      const index = new TimeIndex();
      const meta: ScanEntry[] = [];
      const seen: ScanEntry[] = [];
      let dataStus = 0;
      const late: { node?: StateNode } = {}; // the ring's retain policy asks the node, which exists once the ring does
      const ring = await openFileRing(opts.dir, {
        metaBytes: opts.metaBytes,
        dataBytes: opts.dataBytes,
        fsync: opts.fsync,
        readOnly: opts.readOnly,
        retain: (loc) => late.node?.retains(loc) ?? true,
        visit: (e) => {
          seen.push(e);
          if (e.loc.section === 'meta') meta.push(e);
          else if (index.addStu(e).ok) dataStus++;
        },
      });
      const stus = new RingStore(identity.guid, ring, {
        engine,
        onAppend: (header, loc) => {
          if (isData(header)) index.addStu({ header, loc });
          else late.node?.metaIds.set(loc.recSeq, stuId(header));
        },
      });
      for (const e of seen) stus.visit(e);
      seen.length = 0;
      const snapshot = await restoreOrRebuild(opts.dir, engine, meta, opts.log);
      const boot: BootReport = {
        ms: performance.now() - t0,
        snapshot,
        metaStus: meta.length,
        dataStus,
        recovered: ring.report.recovered,
        tornBytes: ring.report.tornBytes,
        corrupt: ring.report.corrupt.length,
      };
      const node = new StateNode(opts.dir, identity.guid, ring, engine, index, stus, boot, opts.log, unlock);
      late.node = node;
      for (const e of meta) node.metaIds.set(e.loc.recSeq, stuId(e.header));
      for (const o of engine.list(MEDIA_META)) index.addMedia(o.state as MediaMetadata);
      engine.onChange((ev) => {
        if (ev.object.type !== MEDIA_META) return;
        if (ev.kind === 'deleted' || ev.kind === 'removed') index.removeMedia(ev.object.id);
        else if (ev.object.state) index.addMedia(ev.object.state as MediaMetadata);
      });
      index.attach(ring);
      ring.onEvict((locs) => {
        for (const l of locs) if (l.section === 'meta') node.metaIds.delete(l.recSeq);
      });
      for (const c of ring.report.corrupt) opts.log.warn('corrupt ring region', { ...c });
      opts.log.info('booted', { server: identity.guid, ...boot });
      return node;
    } catch (e) {
      await unlock?.();
      throw e;
    }
  }

  /** A metadata record may be overwritten only once a summary supersedes it. */
  private retains(loc: Loc): boolean {
    const id = this.metaIds.get(loc.recSeq);
    return id !== undefined && !this.engine.isSuperseded(id);
  }

  get origin() {
    return this.stus.origin;
  }

  /** Stores an STU this server just encoded and applies it when it is metadata (sync relays it from there). */
  async store(bytes: Uint8Array): Promise<Loc> {
    return (await this.stus.storeMade(bytes)).loc;
  }

  async ingestFile(path: string, opts: { title?: string; onProgress?: (done: number, total: number) => void } = {}): Promise<IngestResult> {
    const result = await ingestFile(path, {
      origin: this.origin,
      ring: { append: (stu: Uint8Array) => this.store(stu) },
      title: opts.title,
      onProgress: (p: IngestProgress) => opts.onProgress?.(p.bytesRead, p.total),
    });
    await this.ring.flush();
    this.log.info('ingested', { id: result.id, title: result.title, frames: result.frames, bytes: result.bytes });
    return result;
  }

  /** Ingests the bundled sample unless a media object of the same title and size is already here. */
  async ensureSample(path: string): Promise<string> {
    const size = (await stat(path)).size;
    const title = 'stateos sample clip';
    const have = this.engine.list(MEDIA_META).find((o) => {
      const m = o.state as MediaMetadata | undefined;
      return m?.title === title && m.size === size;
    });
    if (have) return have.id;
    return (await this.ingestFile(path, { title })).id;
  }

  /**
   * Renames a media object: a new metadata STU after `basedOn` (default: the version held here). Two servers
   * editing the same version make a collision, decided the same way everywhere (first-wins).
   */
  async retitle(id: string, title: string, basedOn?: bigint): Promise<ObjectSummary> {
    const o = this.engine.get(id, MEDIA_META);
    if (!o || !o.state || o.deleted) throw new RangeError(`no media object ${id}`);
    const m = o.state as MediaMetadata;
    const body = encodeMetadata({ ...m, title: cleanTitle(title) });
    await this.stus.create({ type: MEDIA_META, object: id, prevTs: basedOn ?? o.ts, user: o.owner }, body);
    return this.summary(this.engine.get(id, MEDIA_META)!);
  }

  /** Business objects; a media object's usage chain is folded into the media's entry. */
  objects(): ObjectSummary[] {
    return this.engine
      .list()
      // ACLs are the State API's (GetAcl), not objects of their own here
      .filter((o) => o.type !== ACL_TYPE && o.type !== ISSUER_TYPE && (o.type !== USAGE || (o.state as UsageState | undefined)?.scope === 'server'))
      .map((o) => this.summary(o));
  }

  /** What the gateways play on channel `name` (undefined: no such channel). */
  schedules(name: string): ChannelSchedule | undefined {
    return scheduleByName(this.engine, name);
  }

  /** Usage reporting for the gateways: plays are aggregated and written as USAGE STUs (node-peer/media/usage.ts). */
  recordPlay(play: Play): void {
    if (!this.unlock) return; // read-only
    (this.recorder ??= makeUsageRecorder(this, { log: this.log }))(play);
  }

  private summary(o: BusinessObject): ObjectSummary {
    const base = {
      id: o.id,
      type: typeName(o.type),
      stuType: o.type,
      title: '',
      owner: o.owner,
      updated: new Date(Number(o.ts >> 16n)).toISOString(),
      version: String(o.ts),
      deleted: o.deleted,
    };
    if (o.type === PLAYLIST && o.state) {
      const p = o.state as PlaylistState;
      return { ...base, title: p.title, playlist: { clips: p.clips.length } };
    }
    if (o.type === CHANNEL && o.state) {
      const c = o.state as ChannelState;
      return { ...base, title: c.title, channel: { name: c.name, mode: c.mode, playlists: c.playlists.length } };
    }
    if (o.type === USAGE && o.state) return { ...base, title: `plays seen by server ${o.id}`, usage: usageTotals(o.state as UsageState) };
    if (o.type !== MEDIA_META || !o.state) return base;
    const m = o.state as MediaMetadata;
    return {
      ...base,
      title: m.title,
      media: {
        duration: m.duration,
        container: m.container,
        tracks: m.tracks.map((t) => ({ index: t.index, kind: t.kind, codec: t.codec, frames: t.frames })),
        frames: m.frames,
        bytes: m.bytes,
        localFrames: this.localFrames(m),
      },
      usage: usageTotals(this.engine.get<UsageState>(o.id, USAGE)?.state),
    };
  }

  private localFrames(m: MediaMetadata): number {
    return m.tracks.reduce((n, t) => n + this.index.held(m.id, t.index), 0);
  }

  async close(): Promise<void> {
    await this.recorder?.close();
    try {
      if (!this.unlock) return void (await this.ring.close());
      await this.ring.close();
      const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
      await writeFile(tmp, this.engine.snapshot());
      await rename(tmp, join(this.dir, SNAPSHOT));
    } finally {
      await this.unlock?.();
    }
  }
}

async function ensureDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

async function restoreOrRebuild(dir: string, engine: StateEngine, meta: ScanEntry[], log: Logger): Promise<BootReport['snapshot']> {
  const bytes = await readFile(join(dir, SNAPSHOT)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') log.warn('object cache snapshot unreadable; rebuilding from the ring', { error: e.message });
    return undefined;
  });
  if (bytes) {
    const r = engine.restore(new Uint8Array(bytes), meta.map((e) => stuId(e.header)));
    if (r.ok) return 'restored';
    log.warn('object cache snapshot not used; rebuilding from the ring', { reason: r.error.message });
  }
  engine.ingestAll(meta.map((e) => ({ header: e.header, body: e.body ?? new Uint8Array(0) })));
  return bytes ? 'rebuilt' : 'none';
}

function typeName(t: number): string {
  const n = mediaStuTypeName(t);
  return n === 'MEDIA_META' ? 'media' : n ? n.toLowerCase() : `0x${t.toString(16).padStart(4, '0')}`;
}
