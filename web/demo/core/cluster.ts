// The in-tab demo's cluster: N state servers (demo-server.ts) in one page, every pair joined by a real
// RTCPeerConnection (two RtcLinks negotiated in the page: the offer and the answer are handed across
// directly, no signaling server), and one viewer that plays from the server the user picks. Links are the
// cluster's business, not the hubs' (their mesh is off): a cut link stays cut until restored, a link that
// drops on its own between two running servers is made again.
import { createLogger, type Logger } from '../../../shared/log.ts';
import type { IngestProgress } from '../../../shared/media/ingest.ts';
import type { MediaMetadata } from '../../../shared/media/metadata.ts';
import { MEDIA_META } from '../../../shared/media/stu-types.ts';
import { openMemoryRing, memoryDevices } from '../../../shared/ring/memory.ts';
import { type Guid, isGuid, newGuid } from '../../../shared/stu/index.ts';
import { ClusterKey } from '../../../shared/sync/admission.ts';
import { SyncHub } from '../../../shared/sync/hub.ts';
import type { PeerSession } from '../../../shared/sync/session.ts';
import { RingStore } from '../../../shared/sync/store.ts';
import { SIGNALING_LABEL } from '../../../shared/stx/transport.ts';
import type { Channel } from '../../../shared/stx/transport.ts';
import { Emitter } from '../../../shared/util/emitter.ts';
import { deleteIdbRing } from '../../ring/idb-ring.ts';
import { connectLinks, makeBrowserLink, type RtcLink } from '../../stx/index.ts';
import { DemoServer, type IngestFigures, ringNameOf, type ServerRecord } from './demo-server.ts';

export const SAMPLE_TITLE = 'stateos sample clip';
/** Section sizes of a demo server's ring (IndexedDB stores only the pages written). */
export const META_BYTES = 8 << 20;
export const DATA_BYTES = 64 << 20;
/** What "shrink" makes a data section: about 40 % of the sample's frames. */
export const SHRUNK_DATA_BYTES = 256 << 10;

export type LinkState = 'connecting' | 'up' | 'down' | 'cut';

export interface DemoLink {
  a: number;
  b: number;
  state: LinkState;
  /** The sessions at each end (a's, b's) while up. */
  sessions: [PeerSession, PeerSession] | undefined;
  /** Why it last went down. */
  reason: string | undefined;
  /** Bytes carried both ways by the sessions of this link so far (the current connection). */
  connects: number;
}

export interface DemoMetrics {
  /** performance.now() is milliseconds since the page started loading: every figure is from there. */
  startedMs: number;
  serversUpMs?: number;
  linksUpMs?: number;
  ingestDoneMs?: number;
  /** Page load to every running server holding the sample's metadata. */
  convergedMs?: number;
  ingest?: IngestFigures & { server: number };
}

export interface DemoOptions {
  servers?: number;
  /** Prefix of ring names and localStorage keys: one per tab (ring-claim.ts). */
  slot: string;
  sampleUrl: string;
  log?: Logger;
}

const pairKey = (a: number, b: number): string => (a < b ? `${a}-${b}` : `${b}-${a}`);

/** The viewer side of the page: a hub in role "viewer" over a memory ring, with a session to one server. */
export class DemoViewer {
  readonly guid = newGuid();
  hub: SyncHub | undefined;
  session: PeerSession | undefined;
  /** The server number it is connected to. */
  server: number | undefined;

  constructor(private readonly log: Logger) {}

  private async ensureHub(): Promise<SyncHub> {
    if (this.hub) return this.hub;
    const ring = await openMemoryRing(memoryDevices(4 << 20, 1 << 20), { fsync: { mode: 'none' } });
    const store = new RingStore(this.guid, ring);
    this.hub = new SyncHub({
      store,
      role: 'viewer',
      mesh: false,
      log: this.log.child({ viewer: true }),
      newLink: () => makeBrowserLink({ log: this.log }),
      info: () => ({ version: 'demo', apps: ['viewer'] }),
    });
    return this.hub;
  }

  /** A session with `server` (closing the one with any other): a real RTCPeerConnection, viewer ↔ server. */
  async connect(server: DemoServer): Promise<PeerSession> {
    if (this.session?.state === 'live' && this.server === server.n && server.hub?.session(this.guid)) return this.session;
    this.session?.close('closed', 'the viewer moves to another server');
    this.session = undefined;
    const hub = await this.ensureHub();
    const serverHub = server.hub;
    if (!serverHub) throw new Error(`server ${server.n} is not running`);
    const [mine, theirs] = await pairHubs(hub, serverHub, `demo viewer → server ${server.n}`, 'demo viewer');
    await Promise.all([mine.admitted(), theirs.admitted()]);
    this.session = mine;
    this.server = server.n;
    return mine;
  }
}

/**
 * Connects two hubs with a new pair of in-page links (the first offers) and runs a session on each end.
 * The answering side subscribes to its signaling channel before negotiation, as SyncHub.answer does.
 */
export async function pairHubs(offerer: SyncHub, answerer: SyncHub, howA: string, howB: string, log?: Logger): Promise<[PeerSession, PeerSession]> {
  const la = makeBrowserLink({ log });
  const lb = makeBrowserLink({ log });
  const incoming = signalingChannel(lb);
  incoming.catch(() => undefined);
  await connectLinks(la, lb);
  try {
    return await Promise.all([offerer.attach(la, true, howA), answerer.attach(lb, false, howB, incoming)]);
  } catch (e) {
    la.close('attach failed');
    lb.close('attach failed');
    throw e;
  }
}

function signalingChannel(link: RtcLink): Promise<Channel> {
  return new Promise<Channel>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no signaling channel within 10 s'));
    }, 10_000);
    const off = link.onChannel((c) => {
      if (c.label !== SIGNALING_LABEL) return;
      clearTimeout(timer);
      off();
      resolve(c);
    });
    link.onClose((reason) => {
      clearTimeout(timer);
      off();
      reject(new Error(reason));
    });
  });
}

export class DemoCluster {
  readonly servers: DemoServer[] = [];
  readonly viewer: DemoViewer;
  readonly links = new Map<string, DemoLink>();
  readonly metrics: DemoMetrics;
  readonly changed = new Emitter<void>();
  /** Messages for the page's log (a live region reads the newest). */
  readonly notes = new Emitter<string>();
  sampleId: Guid | undefined;
  /** Set while the sample (or a dropped file) is being ingested. */
  ingesting: { server: number; title: string; progress: IngestProgress | undefined } | undefined;
  private key: ClusterKey | undefined;
  private readonly log: Logger;
  readonly count: number;

  constructor(private readonly opts: DemoOptions) {
    this.count = opts.servers ?? 4;
    this.log = opts.log ?? createLogger('warn', (line) => console.debug(line));
    this.metrics = { startedMs: performance.now() };
    this.viewer = new DemoViewer(this.log);
    for (let a = 1; a <= this.count; a++) for (let b = a + 1; b <= this.count; b++) this.links.set(pairKey(a, b), { a, b, state: 'down', sessions: undefined, reason: undefined, connects: 0 });
  }

  server(n: number): DemoServer {
    const s = this.servers[n - 1];
    if (!s) throw new RangeError(`no server ${n}`);
    return s;
  }

  link(a: number, b: number): DemoLink {
    const l = this.links.get(pairKey(a, b));
    if (!l) throw new RangeError(`no link ${a}-${b}`);
    return l;
  }

  /** Starts every server from its ring, links every pair, and ingests the sample on server 1 unless held. */
  async start(): Promise<void> {
    this.key = await ClusterKey.from(ClusterKey.generate());
    for (let n = 1; n <= this.count; n++) {
      const s = new DemoServer({
        n,
        slot: this.opts.slot,
        record: this.loadRecord(n),
        saveRecord: (r) => this.saveRecord(n, r),
        key: this.key,
        log: this.log,
      });
      s.changed.on(() => this.onChange());
      this.servers.push(s);
    }
    await Promise.all(this.servers.map((s) => s.start()));
    this.metrics.serversUpMs = performance.now();
    await this.connectAll();
    this.metrics.linksUpMs = performance.now();
    const kept = localStorage.getItem(this.storageKey('sample'));
    if (isGuid(kept) && this.servers.some((s) => s.index?.get(kept))) {
      this.sampleId = kept;
      this.notes.emit('The sample is already in the rings from an earlier visit: nothing to ingest.');
    } else {
      const blob = await (await fetch(this.opts.sampleUrl)).blob();
      this.sampleId = await this.ingest(1, blob, SAMPLE_TITLE);
      localStorage.setItem(this.storageKey('sample'), this.sampleId);
    }
    this.onChange();
  }

  /** Ingests a blob on server `n`; returns the media GUID. */
  async ingest(n: number, blob: Blob, title: string): Promise<Guid> {
    const s = this.server(n);
    this.ingesting = { server: n, title, progress: undefined };
    this.changed.emit();
    try {
      const { result, figures } = await s.ingest(blob, title, (p) => {
        if (this.ingesting) this.ingesting.progress = p;
        this.changed.emit();
      });
      if (title === SAMPLE_TITLE || !this.metrics.ingest) this.metrics.ingest = { ...figures, server: n };
      this.metrics.ingestDoneMs ??= performance.now();
      this.notes.emit(`Server ${n} ingested “${result.title}”: ${result.frames} frames, ${(figures.bytes / 1048576).toFixed(2)} MiB of STUs in ${figures.ms.toFixed(0)} ms.`);
      return result.id;
    } finally {
      this.ingesting = undefined;
      this.changed.emit();
    }
  }

  /** Links every pair of running servers whose link is neither up nor cut. */
  async connectAll(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const l of this.links.values()) {
      if (l.state === 'down' && this.server(l.a).running && this.server(l.b).running) jobs.push(this.connect(l).catch((e: unknown) => this.notes.emit(`Link ${l.a}–${l.b} did not come up: ${(e as Error).message}`)));
    }
    await Promise.all(jobs);
  }

  private async connect(l: DemoLink): Promise<void> {
    const a = this.server(l.a);
    const b = this.server(l.b);
    if (!a.hub || !b.hub) return;
    l.state = 'connecting';
    l.reason = undefined;
    this.changed.emit();
    let sessions: [PeerSession, PeerSession];
    try {
      sessions = await pairHubs(a.hub, b.hub, `demo link to server ${l.b}`, `demo link from server ${l.a}`, this.log);
      await Promise.all(sessions.map((s) => s.admitted()));
    } catch (e) {
      if (l.state === 'connecting') l.state = 'down';
      l.reason = (e as Error).message;
      this.changed.emit();
      throw e;
    }
    if (l.state !== 'connecting') {
      // cut while connecting
      for (const s of sessions) s.close('closed', 'link cut');
      return;
    }
    l.state = 'up';
    l.sessions = sessions;
    l.connects++;
    const mine = sessions;
    for (const s of sessions) {
      s.events.closed.on(({ reason }) => {
        if (l.sessions !== mine) return;
        l.sessions = undefined;
        if (l.state === 'up') l.state = 'down';
        l.reason = reason;
        this.changed.emit();
        // a link that dropped on its own between two running servers is made again
        setTimeout(() => {
          if (l.state === 'down' && this.server(l.a).running && this.server(l.b).running) void this.connect(l).catch(() => undefined);
        }, 1000);
      });
    }
    this.changed.emit();
  }

  /** Closes the link between two servers (both RTCPeerConnections) and keeps it closed until restored. */
  cutLink(a: number, b: number): void {
    const l = this.link(a, b);
    const sessions = l.sessions;
    l.state = 'cut';
    l.sessions = undefined;
    l.reason = 'cut';
    for (const s of sessions ?? []) s.link.close('cut by the demo');
    this.notes.emit(`Link ${l.a}–${l.b} cut: STUs now reach those servers only through the others (relay).`);
    this.changed.emit();
  }

  async restoreLink(a: number, b: number): Promise<void> {
    const l = this.link(a, b);
    if (l.state !== 'cut') return;
    l.state = 'down';
    this.notes.emit(`Link ${l.a}–${l.b} restored.`);
    if (this.server(l.a).running && this.server(l.b).running) await this.connect(l);
  }

  async stopServer(n: number): Promise<void> {
    const s = this.server(n);
    if (this.viewer.server === n) {
      this.viewer.session?.close('closed', 'server stopped');
      this.viewer.session = undefined;
      this.viewer.server = undefined;
    }
    await s.stop();
    this.notes.emit(`Server ${n} stopped: it said Unregister to its peers and closed its IndexedDB ring.`);
  }

  /** Reopens the server's ring from IndexedDB, rebuilds its objects, and links it again: it catches up. */
  async startServer(n: number): Promise<void> {
    const s = this.server(n);
    await s.start();
    this.notes.emit(`Server ${n} restarted from its IndexedDB ring (${s.metaStus()} metadata STUs) and rejoins.`);
    await this.connectAll();
  }

  /** Stops the server if running, copies its ring into one with a smaller data section, starts it again. */
  async shrink(n: number, dataBytes = SHRUNK_DATA_BYTES): Promise<{ copied: number; evicted: number }> {
    const s = this.server(n);
    if (s.running) await this.stopServer(n);
    const r = await s.shrink(dataBytes);
    this.notes.emit(`Server ${n}'s data section is now ${dataBytes >> 10} KiB: copying its ring evicted ${r.evicted} records.`);
    await this.startServer(n);
    return r;
  }

  /**
   * Renames the sample on two servers at once, both from the version server `a` holds: two metadata STUs
   * with the same predecessor, a collision every server detects and decides the same way.
   */
  async collide(a = 1, b = 2): Promise<{ base: bigint; titles: [string, string] }> {
    const id = this.sampleId;
    if (!id) throw new Error('no sample yet');
    const sa = this.server(a);
    const sb = this.server(b);
    const o = sa.engine?.get(id, MEDIA_META);
    if (!o) throw new Error(`server ${a} holds no sample`);
    const stamp = new Date().toLocaleTimeString();
    const titles: [string, string] = [`Renamed on server ${a} at ${stamp}`, `Renamed on server ${b} at ${stamp}`];
    await Promise.all([sa.retitle(id, titles[0], o.ts), sb.retitle(id, titles[1], o.ts)]);
    this.notes.emit(`Servers ${a} and ${b} renamed the sample at once, both after version ${o.ts}.`);
    return { base: o.ts, titles };
  }

  /** Stops everything and deletes every ring of this tab's demo (the next load starts afresh). */
  async reset(): Promise<void> {
    for (const s of this.servers) if (s.running) await s.stop().catch(() => undefined);
    for (let n = 1; n <= this.count; n++) {
      const r = this.loadRecord(n);
      await deleteIdbRing(ringNameOf(this.opts.slot, n, r.gen));
      localStorage.removeItem(this.storageKey(`server ${n}`));
    }
    localStorage.removeItem(this.storageKey('sample'));
  }

  sample(n: number): MediaMetadata | undefined {
    return this.sampleId ? this.server(n).index?.get(this.sampleId) : undefined;
  }

  private onChange(): void {
    if (this.metrics.convergedMs === undefined && this.sampleId) {
      const running = this.servers.filter((s) => s.running);
      if (running.length === this.count && running.every((s) => s.index?.get(this.sampleId!))) {
        this.metrics.convergedMs = performance.now();
        this.notes.emit(`All ${this.count} servers hold the sample's metadata, ${(this.metrics.convergedMs / 1000).toFixed(2)} s after the page started loading.`);
      }
    }
    this.changed.emit();
  }

  private storageKey(what: string): string {
    return `stateos.demo.${this.opts.slot}.${what}`;
  }

  private loadRecord(n: number): ServerRecord {
    try {
      const r = JSON.parse(localStorage.getItem(this.storageKey(`server ${n}`)) ?? 'null') as ServerRecord | null;
      if (r && isGuid(r.guid) && Number.isSafeInteger(r.gen) && r.metaBytes > 0 && r.dataBytes > 0) return r;
    } catch {
      // a damaged record: start afresh
    }
    const fresh: ServerRecord = { guid: newGuid(), gen: 0, metaBytes: META_BYTES, dataBytes: DATA_BYTES };
    this.saveRecord(n, fresh);
    return fresh;
  }

  private saveRecord(n: number, r: ServerRecord): void {
    localStorage.setItem(this.storageKey(`server ${n}`), JSON.stringify(r));
  }
}
