// What sync needs from a server's storage, and the one implementation every platform uses: a Ring (file,
// IndexedDB or memory) with the held-STU index, the origin's counters, and optionally the business-object
// engine. Every STU stored, made here or received, is announced once through onStored (the hub relays
// metadata from there).
import type { Loc, Ring, ScanEntry } from '../ring/types.ts';
import type { StateEngine } from '../state/engine.ts';
import { decodeHeader, decodeStu, type Guid, HEADER_SIZE, isData, type NewStu, Origin, type StuHeader, stuId } from '../stu/index.ts';
import { err } from '../stx/errors.ts';
import { Emitter } from '../util/emitter.ts';
import { HeldIndex } from './held.ts';

export interface Stored {
  header: StuHeader;
  bytes: Uint8Array;
  loc: Loc;
  /** The peer it came from; undefined when made here. */
  from?: Guid;
}

export interface SyncStore {
  readonly guid: Guid;
  readonly held: HeldIndex;
  /** The encoded STU at `loc`, or undefined when it is gone (evicted) or damaged. */
  read(loc: Loc): Promise<Uint8Array | undefined>;
  /** The same for several, in order (one device read for records lying back to back). */
  readMany(locs: readonly Loc[]): Promise<(Uint8Array | undefined)[]>;
  /** Checks and stores an STU from a peer. Throws StxError BAD_PARAM for bytes that are not a valid STU. */
  put(bytes: Uint8Array, from: Guid): Promise<'stored' | 'duplicate'>;
  onStored(fn: (s: Stored) => void): () => void;
}

export interface RingStoreOptions {
  /** Applies metadata STUs (business objects); absent for a store that only keeps STUs. */
  engine?: StateEngine;
  /** Told of each record once appended (the media time index, the node's bookkeeping). */
  onAppend?: (header: StuHeader, loc: Loc, bytes: Uint8Array) => void;
}

export class RingStore implements SyncStore {
  readonly held = new HeldIndex();
  readonly origin: Origin;
  private readonly stored = new Emitter<Stored>();
  private readonly pending = new Set<string>();

  constructor(
    readonly guid: Guid,
    readonly ring: Ring,
    private readonly opts: RingStoreOptions = {},
  ) {
    this.origin = new Origin(guid);
    ring.onEvict((locs) => {
      for (const l of locs) this.held.evicted(l);
    });
  }

  /** Call for each record a boot scan finds (before serving). */
  visit(e: Pick<ScanEntry, 'header' | 'loc'>): void {
    this.origin.observe(e.header.origin, e.header.type, e.header.seq, e.header.ts);
    this.held.add(e.header, e.loc);
  }

  /** Scans the whole ring into the index (and, with an engine, applies the metadata). */
  async load(): Promise<void> {
    const meta = [];
    for await (const e of this.ring.scan('meta')) {
      this.visit(e);
      meta.push({ header: e.header, body: e.body ?? new Uint8Array(0) });
    }
    for await (const e of this.ring.scan('data')) this.visit(e);
    this.opts.engine?.ingestAll(meta);
  }

  async read(loc: Loc): Promise<Uint8Array | undefined> {
    const r = await this.ring.read(loc);
    return r.ok ? r.value.bytes : undefined;
  }

  async readMany(locs: readonly Loc[]): Promise<(Uint8Array | undefined)[]> {
    return (await this.ring.readMany(locs)).map((r) => (r.ok ? r.value.bytes : undefined));
  }

  /** Makes a new STU here (next sequence of its type) and stores it. */
  async create(init: NewStu, body?: Uint8Array): Promise<Stored> {
    const bytes = this.origin.create(init, body);
    const d = decodeHeader(bytes);
    if (!d.ok) throw d.error;
    return this.append(d.value, bytes);
  }

  /** Stores an STU this server just encoded (its body checksum is not computed again). */
  async storeMade(bytes: Uint8Array): Promise<Stored> {
    const d = decodeHeader(bytes);
    if (!d.ok) throw d.error;
    return this.append(d.value, bytes);
  }

  async put(bytes: Uint8Array, from: Guid): Promise<'stored' | 'duplicate'> {
    const d = decodeStu(bytes);
    if (!d.ok) throw err('BAD_PARAM', `not a valid STU: ${d.error.message}`);
    const header = d.value.header;
    const id = stuId(header);
    if (this.held.has(header) || this.pending.has(id)) return 'duplicate';
    this.pending.add(id);
    try {
      await this.append(header, bytes.length === HEADER_SIZE + header.bodySize ? bytes : bytes.slice(0, HEADER_SIZE + header.bodySize), from);
    } finally {
      this.pending.delete(id);
    }
    return 'stored';
  }

  onStored(fn: (s: Stored) => void): () => void {
    return this.stored.on(fn);
  }

  private async append(header: StuHeader, bytes: Uint8Array, from?: Guid): Promise<Stored> {
    const loc = await this.ring.append(bytes);
    this.origin.observe(header.origin, header.type, header.seq, header.ts);
    this.held.add(header, loc);
    this.opts.onAppend?.(header, loc, bytes);
    if (!isData(header)) this.opts.engine?.ingest({ header, body: bytes.slice(HEADER_SIZE, HEADER_SIZE + header.bodySize) });
    const s: Stored = { header, bytes, loc, from };
    this.stored.emit(s);
    return s;
  }
}
