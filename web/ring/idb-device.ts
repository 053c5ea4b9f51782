// The browser's BlockDevice: a ring section stored in IndexedDB as fixed-size pages.
//
// One database per ring, `stateos-ring:<name>`, with three object stores:
//   meta, data  page number -> ArrayBuffer (see page-map.ts: two 4 KiB pages for the superblocks, then
//               pages of `pageSize`; the last page of a section may be shorter); a page never written is
//               absent and reads as zeros
//   config      'geometry' -> { format, pageSize, headBytes, headPageSize, meta, data } (section sizes in
//               bytes), and the 'synced:<section>' markers that sync() writes
//
// write() is one readwrite transaction holding every page the write touches (partial pages are
// read-modify-written inside it) and resolves once that transaction has committed: like a write() to a
// file, a completed write survives the tab crashing. Its durability hint is chosen per ring: 'strict' when
// every append waits for durability anyway (then sync() has nothing left to do), 'relaxed' otherwise (then
// sync() commits a small 'strict' transaction, which makes every earlier transaction durable too).
// Committed pages stay in a bounded cache, so the page under the head is not read back before each append.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { BlockDevice, Section } from '../../shared/ring/types.ts';
import { RingError } from '../../shared/ring/types.ts';
import { settle, storageError } from './idb-errors.ts';
import { PageMap, type PageLayout, RING_HEAD } from './page-map.ts';

export const DB_PREFIX = 'stateos-ring:';
export const DB_VERSION = 1;
export const GEOMETRY_KEY = 'geometry';
/** Measured best for both small and 64 KiB STUs in Chromium (see docs/RING.md). */
export const DEFAULT_PAGE_SIZE = 128 * 1024;
export const DEFAULT_CACHE_BYTES = 4 * 1024 * 1024;
/** Section sizes of a new ring when none are given. Pages are stored only once written. */
export const DEFAULT_META_BYTES = 16 * 1024 * 1024;
export const DEFAULT_DATA_BYTES = 256 * 1024 * 1024;
const MIN_PAGE = 4096;
const MAX_PAGE = 1024 * 1024;

export const ringDbName = (name: string): string => `${DB_PREFIX}${name}`;

export interface Geometry extends PageLayout {
  format: 1;
  meta: number;
  data: number;
}

export interface RingDb extends DBSchema {
  meta: { key: number; value: ArrayBuffer };
  data: { key: number; value: ArrayBuffer };
  config: { key: string; value: Geometry | number };
}

export type Durability = 'strict' | 'relaxed';

export interface IdbStoreOptions {
  /** Bytes per IndexedDB value in the record region; only used when the ring is created (default 128 KiB). */
  pageSize?: number;
  /** Committed pages kept in memory per section (default 4 MiB). */
  cacheBytes?: number;
  /** Durability hint of write() transactions (default 'strict'). */
  durability?: Durability;
  /** Open an existing ring without writing anything; write() and sync() fail with CLOSED. */
  readOnly?: boolean;
}

/** One open connection to a ring's database and the two devices on it. */
export class IdbRingStore {
  readonly devices: Record<Section, IdbDevice>;
  private closedBecause: string | undefined;
  private users = 2;

  private constructor(
    readonly name: string,
    private readonly db: IDBPDatabase<RingDb>,
    readonly geometry: Geometry,
    /** This open created the ring (there was none, or the browser had discarded it). */
    readonly created: boolean,
    opts: IdbStoreOptions,
  ) {
    const device = (section: Section) =>
      new IdbDevice(this, section, {
        pages: new PageMap(geometry[section], geometry),
        durability: opts.durability ?? 'strict',
        readOnly: opts.readOnly === true,
        cacheBytes: opts.cacheBytes ?? DEFAULT_CACHE_BYTES,
      });
    this.devices = { meta: device('meta'), data: device('data') };
  }

  /**
   * Opens the database of ring `name`, creating the ring with `sizes` (or the defaults) if there is none.
   * An existing ring keeps its geometry: sizes given must match it.
   */
  static async open(name: string, sizes: Partial<Record<Section, number>> = {}, opts: IdbStoreOptions = {}): Promise<IdbRingStore> {
    const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    for (const [what, n] of [['metaBytes', sizes.meta], ['dataBytes', sizes.data], ['pageSize', pageSize]] as const) {
      if (n !== undefined && (!Number.isSafeInteger(n) || n <= 0)) throw new RangeError(`IndexedDB ring "${name}": ${what} must be a positive integer, got ${n}`);
    }
    if (pageSize < MIN_PAGE || pageSize > MAX_PAGE) throw new RangeError(`IndexedDB ring "${name}": pageSize ${pageSize} is outside [${MIN_PAGE}, ${MAX_PAGE}]`);
    const readOnly = opts.readOnly === true;

    let store: IdbRingStore | undefined;
    const db = await connect(name, readOnly, () => store);
    try {
      if (!STORES.every((s) => db.objectStoreNames.contains(s))) {
        throw new RingError('BAD_DEVICE', `IndexedDB database "${ringDbName(name)}" is not a stateos ring: it lacks the ${STORES.join(', ')} stores`);
      }
      const fresh: Geometry = { format: 1, pageSize, ...RING_HEAD, meta: sizes.meta ?? DEFAULT_META_BYTES, data: sizes.data ?? DEFAULT_DATA_BYTES };
      const { geometry, created } = await readGeometry(db, name, readOnly ? undefined : fresh);
      if ((sizes.meta !== undefined && geometry.meta !== sizes.meta) || (sizes.data !== undefined && geometry.data !== sizes.data)) {
        throw new RingError(
          'BAD_DEVICE',
          `IndexedDB ring "${name}" has sections of ${geometry.meta} (meta) and ${geometry.data} (data) bytes, opened as ${sizes.meta ?? geometry.meta} and ${sizes.data ?? geometry.data}`,
        );
      }
      store = new IdbRingStore(name, db, geometry, created, opts);
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** The live connection, or CLOSED. */
  connection(): IDBPDatabase<RingDb> {
    if (this.closedBecause !== undefined) throw new RingError('CLOSED', `IndexedDB ring "${this.name}" is closed: ${this.closedBecause}`);
    return this.db;
  }

  /**
   * Closes the connection now, flushing nothing: transactions already committed stay, nothing more is
   * written, and every later call fails with CLOSED.
   */
  disconnect(reason: string): void {
    if (this.closedBecause !== undefined) return;
    this.closedBecause = reason;
    this.db.close();
  }

  /** Called by each device's close(); the connection closes with the last one. */
  release(): void {
    if (--this.users === 0) this.disconnect('closed');
  }
}

const STORES = ['meta', 'data', 'config'] as const;

/**
 * Opens the ring's database, creating its stores if it is new (unless `readOnly`). Chromium sometimes
 * answers the first open after a browser crash with "UnknownError: Internal error opening backing store"
 * and discards the origin's IndexedDB as corrupt; the open is then tried once more.
 */
async function connect(name: string, readOnly: boolean, store: () => IdbRingStore | undefined, retry = true): Promise<IDBPDatabase<RingDb>> {
  let db: IDBPDatabase<RingDb> | undefined;
  try {
    db = await openDB<RingDb>(ringDbName(name), DB_VERSION, {
      upgrade(up, oldVersion, _newVersion, tx) {
        if (readOnly && oldVersion === 0) {
          // Nothing to open: abort, which leaves no database behind. openDB rejects with that abort (handled
          // below); the upgrade transaction's own `done` rejects with it too, and is settled here.
          tx.done.then(
            () => undefined,
            () => undefined,
          );
          return tx.abort();
        }
        for (const s of STORES) if (!up.objectStoreNames.contains(s)) up.createObjectStore(s);
      },
      // Another tab deletes or upgrades the database: let it, and fail our later calls with CLOSED.
      blocking: () => {
        const s = store();
        if (s) s.disconnect('another connection is deleting or upgrading its database');
        else db?.close();
      },
      terminated: () => store()?.disconnect('the browser closed its database (site data cleared?)'),
    });
    return db;
  } catch (e) {
    const code = (e as { name?: string }).name;
    if (code === 'VersionError') {
      throw new RingError('BAD_DEVICE', `IndexedDB ring "${name}" was written by a newer stateos (database version above ${DB_VERSION})`, { cause: e });
    }
    if (readOnly && code === 'AbortError') throw new RingError('BAD_DEVICE', `there is no IndexedDB ring "${name}" to open read-only`, { cause: e });
    if (retry && code === 'UnknownError') return connect(name, readOnly, store, false);
    throw storageError(name, 'opening its database', [e]);
  }
}

/** The ring's geometry; a ring without one gets `fresh`, or (when none is given) is refused. */
async function readGeometry(db: IDBPDatabase<RingDb>, name: string, fresh: Geometry | undefined): Promise<{ geometry: Geometry; created: boolean }> {
  let found: Geometry | number | undefined;
  if (fresh) {
    const tx = db.transaction('config', 'readwrite', { durability: 'strict' });
    found = await settle(tx, name, 'reading its geometry', async () => {
      const g = await tx.store.get(GEOMETRY_KEY);
      if (g === undefined) await tx.store.put(fresh, GEOMETRY_KEY);
      return g;
    });
  } else {
    const tx = db.transaction('config', 'readonly');
    found = await settle(tx, name, 'reading its geometry', () => tx.store.get(GEOMETRY_KEY));
  }
  if (found === undefined) {
    if (fresh) return { geometry: fresh, created: true };
    throw new RingError('BAD_DEVICE', `IndexedDB ring "${name}" has no geometry record: not a stateos ring`);
  }
  const g = found as Partial<Geometry>;
  const positive = (n: unknown) => Number.isSafeInteger(n) && (n as number) > 0;
  const ok =
    g.format === 1 &&
    positive(g.meta) &&
    positive(g.data) &&
    positive(g.pageSize) &&
    g.pageSize! >= MIN_PAGE &&
    g.pageSize! <= MAX_PAGE &&
    positive(g.headPageSize) &&
    Number.isSafeInteger(g.headBytes) &&
    g.headBytes! >= 0 &&
    g.headBytes! % g.headPageSize! === 0;
  if (!ok) throw new RingError('BAD_DEVICE', `IndexedDB ring "${name}" has a damaged geometry record: ${JSON.stringify(found)}`);
  return { geometry: found as Geometry, created: false };
}

export class IdbDevice implements BlockDevice {
  /** Committed pages, least recently written first. Only write() fills it, so it never holds stale bytes. */
  private readonly cache = new Map<number, Uint8Array>();
  private readonly cachePages: number;
  private busy: Promise<void> | undefined;
  private unsynced = false;
  private closed = false;
  readonly size: number;
  private readonly pages: PageMap;

  constructor(
    private readonly store: IdbRingStore,
    readonly section: Section,
    private readonly opts: { pages: PageMap; durability: Durability; readOnly: boolean; cacheBytes: number },
  ) {
    this.pages = opts.pages;
    this.size = opts.pages.size;
    this.cachePages = Math.max(4, Math.floor(opts.cacheBytes / opts.pages.layout.pageSize));
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const db = this.connection();
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`read at ${offset} is outside the ${this.section} section`);
    const end = Math.min(offset + Math.max(0, length), this.size);
    if (end <= offset) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    const missing = new Set<number>();
    for (let p = this.pages.pageOf(offset); p <= this.pages.pageOf(end - 1); p++) {
      const cached = this.cache.get(p);
      if (cached) this.copyOut(out, offset, p, cached);
      else missing.add(p);
    }
    if (missing.size === 0) return out;
    const wanted = [...missing];
    const range = IDBKeyRange.bound(wanted[0], wanted[wanted.length - 1]);
    const tx = db.transaction(this.section, 'readonly');
    const os = tx.objectStore(this.section);
    const [keys, values] = await settle(tx, this.store.name, `reading ${out.length} bytes at ${offset} of the ${this.section} section`, () =>
      Promise.all([os.getAllKeys(range), os.getAll(range)]),
    );
    keys.forEach((p, i) => {
      if (missing.has(p)) this.copyOut(out, offset, p, asBytes(values[i]));
    });
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.writable();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + data.length > this.size) {
      throw new RangeError(`write of ${data.length} bytes at ${offset} is outside the ${this.section} section (${this.size} bytes)`);
    }
    if (data.length === 0) return;
    await this.exclusive(() => this.commit(offset, data));
  }

  async sync(): Promise<void> {
    await this.exclusive(async () => {
      const db = this.writable();
      if (!this.unsynced) return;
      const tx = db.transaction('config', 'readwrite', { durability: 'strict' });
      await settle(tx, this.store.name, `making the ${this.section} section durable`, () => tx.store.put(Date.now(), `synced:${this.section}`));
      this.unsynced = false;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusive(async () => {
      this.closed = true;
      this.cache.clear();
      this.store.release();
    });
  }

  // ---- internals ----

  private connection(): IDBPDatabase<RingDb> {
    if (this.closed) throw new RingError('CLOSED', `the ${this.section} section of IndexedDB ring "${this.store.name}" is closed`);
    return this.store.connection();
  }

  private writable(): IDBPDatabase<RingDb> {
    const db = this.connection();
    if (this.opts.readOnly) throw new RingError('CLOSED', `IndexedDB ring "${this.store.name}" is open read-only`);
    return db;
  }

  /** Runs writes and syncs one at a time, so each read-modify-write starts from the last committed page. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.busy) await this.busy;
    let release!: () => void;
    this.busy = new Promise<void>((resolve) => (release = resolve));
    try {
      return await fn();
    } finally {
      this.busy = undefined;
      release();
    }
  }

  private async commit(offset: number, data: Uint8Array): Promise<void> {
    const db = this.writable();
    const end = offset + data.length;
    const first = this.pages.pageOf(offset);
    const last = this.pages.pageOf(end - 1);
    const partial = (p: number) => offset > this.pages.start(p) || end < this.pages.start(p) + this.pages.length(p);
    // Edge pages the write covers only in part, and that are not cached, are read inside the transaction.
    const toRead = [...new Set([first, last])].filter((p) => partial(p) && !this.cache.has(p));
    const tx = db.transaction(this.section, 'readwrite', { durability: this.opts.durability });
    const os = tx.objectStore(this.section);
    const pages = await settle(tx, this.store.name, `writing ${data.length} bytes at ${offset} of the ${this.section} section`, async () => {
      const old = await Promise.all(toRead.map((p) => os.get(p)));
      const out: [number, Uint8Array<ArrayBuffer>][] = [];
      for (let p = first; p <= last; p++) {
        const start = this.pages.start(p);
        const page = new Uint8Array(this.pages.length(p));
        if (partial(p)) {
          const base = this.cache.get(p) ?? asBytes(old[toRead.indexOf(p)]);
          page.set(base.subarray(0, page.length));
        }
        const from = Math.max(offset, start);
        const to = Math.min(end, start + page.length);
        page.set(data.subarray(from - offset, to - offset), from - start);
        out.push([p, page]);
      }
      await Promise.all(out.map(([p, page]) => os.put(page.buffer, p)));
      return out;
    });
    for (const [p, page] of pages) this.remember(p, page);
    if (this.opts.durability === 'relaxed') this.unsynced = true;
  }

  private remember(p: number, page: Uint8Array): void {
    this.cache.delete(p);
    this.cache.set(p, page);
    while (this.cache.size > this.cachePages) this.cache.delete(this.cache.keys().next().value as number);
  }

  /** Copies the part of page `p` that overlaps `out` (which starts at device offset `at`). */
  private copyOut(out: Uint8Array, at: number, p: number, page: Uint8Array): void {
    const start = this.pages.start(p);
    const from = Math.max(at, start);
    const to = Math.min(at + out.length, start + page.length);
    if (to > from) out.set(page.subarray(from - start, to - start), from - at);
  }
}

/**
 * A stored page as bytes. Anything but an ArrayBuffer (a database someone else wrote) reads as zeros; a short
 * page is zero-padded. The ring's checksums then report the damage, as they would for a bad disk sector.
 */
function asBytes(v: unknown): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(0);
}
