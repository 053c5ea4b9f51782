// One section of a ring (metadata or data) over a BlockDevice: open-time scan and recovery, sequential
// batched appends with eviction of the oldest records, reads that verify checksums.
import { decodeHeader, decodeStu, type DecodeLimits } from '../stu/header.ts';
import type { Result } from '../stu/index.ts';
import { Kind, RecordQueue } from './deque.ts';
import {
  align,
  decodeSuperblock,
  encodeSuperblock,
  PREFIX_SIZE,
  readPrefix,
  REC_MAGIC,
  stuCheck,
  REGION_START,
  type Superblock,
  SUPERBLOCK_SIZE,
  WRAP_MAGIC,
  writePrefix,
} from './record.ts';
import {
  type BlockDevice,
  type CorruptRegion,
  type FsyncPolicy,
  type Loc,
  RingError,
  type ScanEntry,
  type Section,
  type SectionStats,
  type StoredStu,
} from './types.ts';
import { WindowReader } from './window.ts';
import { concatBytes } from '../util/bytes.ts';

const MIN_REGION = 4096;
const HEADER_READ = PREFIX_SIZE + 512;
/** Parts of one gathered write (IOV_MAX is 1024 on Linux). */
const MAX_PARTS = 900;
const ZEROS = new Uint8Array(8);
/**
 * Read-ahead of a headers-only scan. Each device read costs a round trip (tens of microseconds in Node) and
 * headers are found one after another, so a scan of frames of tens of KiB is fastest reading big windows
 * (measured: 4 KiB windows 2.7x slower than 256 KiB, 1 MiB another 1.2x faster); frames larger than the
 * window are still skipped over.
 */
const HEADERS_WINDOW = 1 << 20;

interface Batch {
  offset: number;
  parts: Uint8Array[];
  bytes: number;
  lastRecSeq: number;
  /** Tail after the evictions this batch needs: must be on disk before the batch overwrites them. */
  tail: number;
  tailRecSeq: number;
  waiters: { resolve: (loc: Loc) => void; reject: (e: unknown) => void; loc: Loc }[];
}

export interface SectionOptions {
  fsync: FsyncPolicy;
  batchBytes: number;
  limits: DecodeLimits;
  retain?: (loc: Loc) => boolean;
  readOnly?: boolean;
  onEvict: (locs: Loc[]) => void;
}

export interface SectionOpenResult {
  recovered: number;
  tornBytes: number;
  corrupt: CorruptRegion[];
}

export class RingSection {
  readonly capacity: number;
  private readonly q = new RecordQueue();
  private head = 0;
  private nextRecSeq = 1;
  private sb: Superblock = { generation: 0, capacity: 0, tail: 0, tailRecSeq: 1, head: 0, headRecSeq: 1 };
  private open: Batch | undefined;
  private readonly sealed: Batch[] = [];
  private writing: Promise<void> | undefined;
  /** Callers waiting for records up to `recSeq` to be written (flush, read, scan). */
  private readonly writeWaiters: { recSeq: number; resolve: () => void }[] = [];
  /** The checkpoint started last: it covers every record written when it started. */
  private checkpointing: Promise<void> | undefined;
  private writtenRecSeq = 0;
  /** tailRecSeq of the last superblock known to be on disk: bytes before that tail may be overwritten. */
  private durableTailRecSeq = 0;
  /** Where the record after `writtenRecSeq` starts. */
  private writtenHead = 0;
  /** The last superblock write made: the next one starts after it has landed (see writeSuperblock). */
  private superblockWritten: Promise<unknown> = Promise.resolve();
  private dirty = false;
  private failed: unknown;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private appended = 0;
  private evicted = 0;

  constructor(
    readonly name: Section,
    private readonly device: BlockDevice,
    private readonly opts: SectionOptions,
  ) {
    this.capacity = Math.floor((device.size - REGION_START) / 8) * 8;
  }

  // ---- open: superblock, scan, recovery ----

  async load(bodies: boolean, visit?: (e: ScanEntry) => void): Promise<SectionOpenResult> {
    if (this.capacity < MIN_REGION) throw new RingError('BAD_DEVICE', `${this.name} section of ${this.device.size} bytes is too small`);
    const sbBytes = await this.device.read(0, REGION_START);
    const copies = [decodeSuperblock(sbBytes.subarray(0, SUPERBLOCK_SIZE)), decodeSuperblock(sbBytes.subarray(SUPERBLOCK_SIZE))];
    const best = copies.filter((c): c is Superblock => c !== undefined).sort((a, b) => b.generation - a.generation)[0];
    if (!best) {
      if (sbBytes.some((b) => b !== 0)) throw new RingError('BAD_DEVICE', `${this.name} section: both superblocks are damaged or this is not a stateos ring`);
      this.sb = { generation: 0, capacity: this.capacity, tail: 0, tailRecSeq: 1, head: 0, headRecSeq: 1 };
      this.durableTailRecSeq = 1;
      if (!this.opts.readOnly) {
        await this.writeSuperblock();
        await this.device.sync();
      }
      return { recovered: 0, tornBytes: 0, corrupt: [] };
    }
    if (best.capacity !== this.capacity) {
      throw new RingError('BAD_DEVICE', `${this.name} section holds a ring of ${best.capacity} bytes, opened as ${this.capacity}`);
    }
    this.sb = best;
    this.durableTailRecSeq = best.tailRecSeq;
    const result = await this.scan(bodies, visit);
    this.writtenRecSeq = this.nextRecSeq - 1;
    this.writtenHead = this.head;
    if (!this.opts.readOnly && (result.recovered > 0 || result.tornBytes > 0 || this.sb.headRecSeq !== this.nextRecSeq)) {
      // Recovered records were read whole and found intact: once synced, the checkpoint covers them.
      await this.device.sync();
      this.sb.head = this.head;
      this.sb.headRecSeq = this.nextRecSeq;
      await this.writeSuperblock();
      await this.device.sync();
    }
    if (!this.opts.readOnly && copies.some((c) => c === undefined)) {
      // One copy was damaged: write both again, so the ring survives the loss of either one next time.
      await this.writeSuperblock();
      await this.writeSuperblock();
      await this.device.sync();
    }
    return result;
  }

  private async scan(bodies: boolean, visit?: (e: ScanEntry) => void): Promise<SectionOpenResult> {
    const reader = new WindowReader(this.device, bodies ? 1 << 20 : HEADERS_WINDOW);
    const corrupt: CorruptRegion[] = [];
    let recovered = 0;
    let tornBytes = 0;
    let pos = this.sb.tail;
    let expect = this.sb.tailRecSeq;
    let scanned = 0;
    while (scanned <= this.capacity) {
      if (this.capacity - pos < PREFIX_SIZE) pos = 0;
      const durable = expect < this.sb.headRecSeq;
      const p = readPrefix(await reader.get(REGION_START + pos, PREFIX_SIZE), 0);
      const total = p ? align(PREFIX_SIZE + p.length) : 0;
      if (p && p.recSeq === expect && p.magic === WRAP_MAGIC) {
        this.q.push(pos, expect, PREFIX_SIZE, Kind.Wrap);
        scanned += this.capacity - pos;
        expect++;
        pos = 0;
        continue;
      }
      if (p && p.recSeq === expect && total <= this.capacity - pos) {
        // A record past the checkpoint may be torn anywhere: read it whole even in a headers-only scan.
        const whole = bodies || !durable;
        const want = whole ? total : Math.min(total, HEADER_READ);
        const bytes = await reader.get(REGION_START + pos, want);
        const decoded = whole
          ? decodeStu(bytes.subarray(0, PREFIX_SIZE + p.length), PREFIX_SIZE, this.opts.limits)
          : decodeHeader(bytes, PREFIX_SIZE, this.opts.limits);
        const loc: Loc = { section: this.name, recSeq: expect, offset: pos };
        const bad = !decoded.ok ? decoded.error.message : stuCheck(bytes, PREFIX_SIZE) !== p.check ? 'record prefix and STU do not match' : undefined;
        if (decoded.ok && bad === undefined) {
          this.q.push(pos, expect, total, Kind.Record);
          if (!durable) recovered++;
          if (visit) {
            const v = decoded.value;
            if (!('header' in v)) visit({ loc, header: v });
            else if (bodies) visit({ loc, header: v.header, body: v.body.slice() });
            else visit({ loc, header: v.header });
          }
        } else if (!durable) {
          tornBytes = total; // a record written after the last checkpoint, cut short by a crash
          break;
        } else {
          this.q.push(pos, expect, total, Kind.Corrupt);
          corrupt.push({ section: this.name, offset: pos, length: total, reason: bad ?? 'damaged' });
        }
        expect++;
        pos += total;
        scanned += total;
        continue;
      }
      if (!durable) break; // end of the log
      // The prefix itself is damaged inside the checkpointed region: find the next intact record.
      const next = await this.resync(reader, pos, expect);
      const length = next ? (next.pos - pos + this.capacity) % this.capacity : this.capacity - pos;
      corrupt.push({ section: this.name, offset: pos, length, reason: 'record prefix damaged' });
      if (!next) break;
      scanned += length;
      pos = next.pos;
      expect = next.recSeq;
    }
    this.head = pos;
    this.nextRecSeq = expect;
    return { recovered, tornBytes, corrupt };
  }

  private async resync(reader: WindowReader, from: number, expect: number): Promise<{ pos: number; recSeq: number } | undefined> {
    for (let pos = from + 8; pos + PREFIX_SIZE <= this.capacity; pos += 8) {
      const p = readPrefix(await reader.get(REGION_START + pos, PREFIX_SIZE), 0);
      if (p && p.recSeq > expect && p.recSeq <= this.sb.headRecSeq) return { pos, recSeq: p.recSeq };
    }
    return undefined;
  }

  // ---- append ----

  append(stu: Uint8Array): Promise<Loc> {
    if (this.closed || this.opts.readOnly) return Promise.reject(new RingError('CLOSED', this.closed ? 'ring is closed' : 'ring is open read-only'));
    if (this.failed) return Promise.reject(this.failed);
    const total = align(PREFIX_SIZE + stu.length);
    if (total > this.capacity) {
      return Promise.reject(new RingError('TOO_LARGE', `an STU of ${stu.length} bytes does not fit the ${this.name} section (${this.capacity} bytes)`));
    }
    const evicted: Loc[] = [];
    try {
      this.makeRoom(total, evicted);
    } catch (e) {
      if (evicted.length) this.opts.onEvict(evicted);
      return Promise.reject(e);
    }
    const loc: Loc = { section: this.name, recSeq: this.nextRecSeq++, offset: this.head };
    // The record goes out as three parts, without copying the STU: prefix, the caller's bytes, padding.
    const prefix = new Uint8Array(PREFIX_SIZE);
    writePrefix(prefix, 0, { magic: REC_MAGIC, length: stu.length, recSeq: loc.recSeq, check: stuCheck(stu, 0) });
    const pad = total - PREFIX_SIZE - stu.length;
    this.q.push(loc.offset, loc.recSeq, total, Kind.Record);
    const done = this.enqueue(pad ? [prefix, stu, ZEROS.subarray(0, pad)] : [prefix, stu], total, loc);
    this.head += total;
    this.appended++;
    if (evicted.length) this.opts.onEvict(evicted);
    return done;
  }

  /** Evicts oldest records (and wraps) until `total` bytes fit at the head. */
  private makeRoom(total: number, evicted: Loc[]): void {
    for (;;) {
      const tail = this.q.length ? this.q.offsetAt(0) : -1;
      if (tail >= this.head) {
        if (this.head + total <= tail) return;
        this.evictOldest(evicted);
      } else if (this.head + total <= this.capacity) {
        return;
      } else {
        if (this.capacity - this.head >= PREFIX_SIZE) {
          const marker = new Uint8Array(PREFIX_SIZE);
          writePrefix(marker, 0, { magic: WRAP_MAGIC, length: 0, recSeq: this.nextRecSeq, check: 0 });
          this.q.push(this.head, this.nextRecSeq, PREFIX_SIZE, Kind.Wrap);
          // Nobody waits on the marker: a failed write also fails (and rejects) the records after it.
          this.enqueue([marker], PREFIX_SIZE, { section: this.name, recSeq: this.nextRecSeq++, offset: this.head }).catch(() => undefined);
        }
        this.head = 0;
      }
    }
  }

  private evictOldest(evicted: Loc[]): void {
    const loc: Loc = { section: this.name, recSeq: this.q.recSeqAt(0), offset: this.q.offsetAt(0) };
    const kind = this.q.kindAt(0);
    if (kind === Kind.Record && this.opts.retain?.(loc)) {
      throw new RingError('FULL', `${this.name} section is full of records that no summary supersedes yet; give it more room`);
    }
    this.q.shift();
    if (kind === Kind.Record) {
      evicted.push(loc);
      this.evicted++;
    }
  }

  private tailNow(): { tail: number; tailRecSeq: number } {
    return this.q.length ? { tail: this.q.offsetAt(0), tailRecSeq: this.q.recSeqAt(0) } : { tail: this.head, tailRecSeq: this.nextRecSeq };
  }

  private enqueue(parts: Uint8Array[], size: number, loc: Loc): Promise<Loc> {
    let b = this.open;
    if (b && (b.offset + b.bytes !== loc.offset || b.bytes >= this.opts.batchBytes || b.parts.length > MAX_PARTS)) {
      this.sealed.push(b);
      b = undefined;
    }
    if (!b) {
      b = { offset: loc.offset, parts: [], bytes: 0, lastRecSeq: loc.recSeq, tail: 0, tailRecSeq: 0, waiters: [] };
      this.open = b;
    }
    b.parts.push(...parts);
    b.bytes += size;
    b.lastRecSeq = loc.recSeq;
    const { tail, tailRecSeq } = this.tailNow();
    b.tail = tail;
    b.tailRecSeq = tailRecSeq;
    const batch = b;
    const p = new Promise<Loc>((resolve, reject) => batch.waiters.push({ resolve, reject, loc }));
    this.kick();
    return p;
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = Promise.resolve()
      .then(() => this.drain())
      .finally(() => {
        this.writing = undefined;
        if (this.open || this.sealed.length) this.kick();
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.open) {
        this.sealed.push(this.open);
        this.open = undefined;
      }
      const b = this.sealed.shift();
      if (!b) return;
      try {
        if (this.failed) throw this.failed;
        if (b.tailRecSeq > this.durableTailRecSeq) {
          // Evictions: checkpoint the new tail before overwriting what it no longer covers. A checkpoint may
          // have put an even newer tail in the superblock already, but until its sync is done it does not count.
          if (b.tailRecSeq > this.sb.tailRecSeq) {
            this.sb.tail = b.tail;
            this.sb.tailRecSeq = b.tailRecSeq;
          }
          const tailRecSeq = this.sb.tailRecSeq;
          await this.writeSuperblock();
          if (this.opts.fsync.mode !== 'none') await this.device.sync();
          this.durableTailRecSeq = Math.max(this.durableTailRecSeq, tailRecSeq);
        }
        if (this.device.writev && b.parts.length > 1) await this.device.writev(REGION_START + b.offset, b.parts);
        else await this.device.write(REGION_START + b.offset, b.parts.length === 1 ? b.parts[0] : concatBytes(b.parts, b.bytes));
        this.writtenRecSeq = b.lastRecSeq;
        this.writtenHead = b.offset + b.bytes;
        this.dirty = true;
        if (this.opts.fsync.mode === 'always') await this.checkpoint();
        else if (this.opts.fsync.mode === 'interval') this.schedule(this.opts.fsync.ms);
        for (const w of b.waiters) w.resolve(w.loc);
      } catch (e) {
        this.failed ??= e;
        for (const w of b.waiters) w.reject(e);
      }
      this.wakeWriteWaiters();
    }
  }

  /**
   * Resolves once every record up to `recSeq` is written (or writing failed). Appends made meanwhile do not
   * delay it: under a steady stream of appends the queue is never empty.
   */
  private writtenUpTo(recSeq: number): Promise<void> {
    recSeq = Math.min(recSeq, this.nextRecSeq - 1); // a record never appended will never be written
    if (this.writtenRecSeq >= recSeq || this.failed) return Promise.resolve();
    this.kick();
    return new Promise((resolve) => this.writeWaiters.push({ recSeq, resolve }));
  }

  private wakeWriteWaiters(): void {
    for (let i = this.writeWaiters.length - 1; i >= 0; i--) {
      const w = this.writeWaiters[i];
      if (this.failed || this.writtenRecSeq >= w.recSeq) {
        this.writeWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((e) => {
        this.failed ??= e;
      });
    }, ms);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Sync written records, then record the head in the superblock. */
  private checkpoint(): Promise<void> {
    // Nothing new written: the checkpoint under way (if any) covers everything, so wait for it.
    if (!this.dirty) return this.checkpointing ?? Promise.resolve();
    this.dirty = false;
    const p = this.writeCheckpoint();
    this.checkpointing = p;
    const done = () => {
      if (this.checkpointing === p) this.checkpointing = undefined;
    };
    p.then(done, done);
    return p;
  }

  private async writeCheckpoint(): Promise<void> {
    // The head this sync covers: records written while it runs wait for the next checkpoint.
    const head = this.writtenHead;
    const headRecSeq = this.writtenRecSeq + 1;
    await this.device.sync();
    const { tail, tailRecSeq } = this.tailNow();
    // A tail past the head (everything written since evicted) keeps the superblock's own, consistent tail.
    if (tailRecSeq <= headRecSeq) {
      this.sb.tail = tail;
      this.sb.tailRecSeq = tailRecSeq;
    }
    this.sb.head = head;
    this.sb.headRecSeq = headRecSeq;
    const written = this.sb.tailRecSeq;
    await this.writeSuperblock();
    await this.device.sync();
    this.durableTailRecSeq = Math.max(this.durableTailRecSeq, written);
  }

  /**
   * Writes the next generation of the superblock. Superblock writes land in the order they are made, one at a
   * time: a checkpoint (timer, flush) and the write queue (a new tail before overwriting evicted records) both
   * write it, concurrently, and generation g + 2 goes to the same copy as g. Were g still under way when g + 2
   * was written (a pwrite on a descheduled pool thread), it could land last: the newest copy would then be
   * g + 1, with an older tail, whose records the batch after g + 2 has already overwritten.
   */
  private writeSuperblock(): Promise<void> {
    this.sb.generation++;
    this.sb.capacity = this.capacity;
    const at = (this.sb.generation % 2) * SUPERBLOCK_SIZE;
    const bytes = encodeSuperblock(this.sb);
    const written = this.superblockWritten.then(() => this.device.write(at, bytes));
    this.superblockWritten = written.catch(() => undefined);
    return written;
  }

  async flush(): Promise<void> {
    await this.writtenUpTo(this.nextRecSeq - 1);
    if (this.failed) throw this.failed;
    await this.checkpoint();
  }

  // ---- read ----

  async read(loc: Loc): Promise<Result<StoredStu, RingError>> {
    if (loc.recSeq > this.writtenRecSeq) await this.writtenUpTo(loc.recSeq);
    const i = this.q.find(loc.recSeq);
    if (i < 0 || this.q.offsetAt(i) !== loc.offset) return err('EVICTED', `${this.name} record ${loc.recSeq} is no longer in the ring`);
    if (this.q.kindAt(i) === Kind.Corrupt) return err('CORRUPT', `${this.name} record ${loc.recSeq} at offset ${loc.offset} is damaged`);
    const bytes = await this.device.read(REGION_START + loc.offset, this.q.sizeAt(i));
    return this.decodeRecord(bytes, loc);
  }

  /**
   * Several records, in the order given. Records lying back to back in the region (the usual case for a
   * run of consecutive record numbers) are read with one device read of at most `maxRun` bytes.
   */
  async readMany(locs: readonly Loc[], maxRun = 1 << 20): Promise<Result<StoredStu, RingError>[]> {
    const out: Result<StoredStu, RingError>[] = new Array(locs.length);
    let newest = 0;
    for (const l of locs) newest = Math.max(newest, l.recSeq);
    if (newest > this.writtenRecSeq) await this.writtenUpTo(newest);
    // runs of records lying back to back; each run is one device read, all issued at once
    const reads: Promise<void>[] = [];
    let i = 0;
    while (i < locs.length) {
      const first = locs[i];
      const k = this.q.find(first.recSeq);
      if (k < 0 || this.q.offsetAt(k) !== first.offset || this.q.kindAt(k) === Kind.Corrupt) {
        const at = i;
        reads.push(this.read(first).then((r) => void (out[at] = r)));
        i++;
        continue;
      }
      let j = i + 1;
      let end = first.offset + this.q.sizeAt(k);
      while (j < locs.length) {
        const kk = k + (j - i);
        const l = locs[j];
        if (kk >= this.q.length || this.q.recSeqAt(kk) !== l.recSeq || this.q.offsetAt(kk) !== l.offset || l.offset !== end) break;
        if (this.q.kindAt(kk) === Kind.Corrupt || end + this.q.sizeAt(kk) - first.offset > maxRun) break;
        end += this.q.sizeAt(kk);
        j++;
      }
      const [from, to] = [i, j];
      const sizes = Array.from({ length: to - from }, (_, n) => this.q.sizeAt(k + n)); // the queue may move before the read ends
      reads.push(
        this.device.read(REGION_START + first.offset, end - first.offset).then((bytes) => {
          for (let n = from; n < to; n++) {
            const at = locs[n].offset - first.offset;
            out[n] = this.decodeRecord(bytes.subarray(at, at + sizes[n - from]), locs[n]);
          }
        }),
      );
      i = j;
    }
    await Promise.all(reads);
    return out;
  }

  private decodeRecord(bytes: Uint8Array, loc: Loc): Result<StoredStu, RingError> {
    const p = readPrefix(bytes, 0);
    if (!p || p.recSeq !== loc.recSeq) return err('CORRUPT', `${this.name} record ${loc.recSeq} at offset ${loc.offset}: prefix damaged`);
    const d = decodeStu(bytes.subarray(0, PREFIX_SIZE + p.length), PREFIX_SIZE, this.opts.limits);
    if (!d.ok || stuCheck(bytes, PREFIX_SIZE) !== p.check) {
      const i = this.q.find(loc.recSeq);
      if (i >= 0) this.markCorrupt(i);
      return err('CORRUPT', `${this.name} record ${loc.recSeq} at offset ${loc.offset}: ${d.ok ? 'record prefix and STU do not match' : d.error.message}`);
    }
    return { ok: true, value: { header: d.value.header, body: d.value.body, bytes: bytes.subarray(PREFIX_SIZE, PREFIX_SIZE + p.length) } };
  }

  private markCorrupt(i: number): void {
    this.q.setKind(i, Kind.Corrupt);
  }

  async *records(bodies: boolean): AsyncGenerator<ScanEntry> {
    const upTo = this.nextRecSeq - 1;
    await this.writtenUpTo(upTo);
    const reader = new WindowReader(this.device, bodies ? 1 << 20 : HEADERS_WINDOW);
    if (this.q.length === 0) return;
    const first = this.q.recSeqAt(0);
    // Records appended since are not written yet: the scan ends where it was asked.
    const last = Math.min(this.q.recSeqAt(this.q.length - 1), upTo);
    for (let s = first; s <= last; s++) {
      const i = this.q.find(s);
      if (i < 0 || this.q.kindAt(i) !== Kind.Record) continue;
      const loc: Loc = { section: this.name, recSeq: this.q.recSeqAt(i), offset: this.q.offsetAt(i) };
      const size = this.q.sizeAt(i);
      const bytes = await reader.get(REGION_START + loc.offset, bodies ? size : Math.min(size, HEADER_READ));
      if (bodies) {
        const r = this.decodeRecord(bytes, loc);
        if (r.ok) yield { loc, header: r.value.header, body: r.value.body.slice() };
      } else {
        const h = decodeHeader(bytes, PREFIX_SIZE, this.opts.limits);
        if (h.ok) yield { loc, header: h.value };
      }
    }
  }

  stats(): SectionStats {
    const { tail, tailRecSeq } = this.tailNow();
    const used = this.q.length === 0 ? 0 : tail < this.head ? this.head - tail : this.capacity - tail + this.head;
    let records = 0;
    for (let k = 0; k < this.q.length; k++) if (this.q.kindAt(k) === Kind.Record) records++;
    return { capacity: this.capacity, used, records, evicted: this.evicted, appended: this.appended, headRecSeq: this.nextRecSeq - 1, tailRecSeq };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // no appends from here on, so the flush covers every one
    try {
      await this.flush();
    } finally {
      if (this.timer) clearTimeout(this.timer);
      await this.device.close();
    }
  }
}

const err = (code: RingError['code'], message: string): Result<never, RingError> => ({ ok: false, error: new RingError(code, message) });
