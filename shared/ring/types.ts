// The Ring: where a server keeps its STUs. Two sections of fixed capacity (metadata and data), each an
// append-only circular log that overwrites its oldest records when full. Implementations differ only in
// the BlockDevice underneath (memory, raw file, IndexedDB); the record format lives in docs/FORMAT.md.
import type { Result, Stu, StuHeader } from '../stu/index.ts';

export type Section = 'meta' | 'data';
export const SECTIONS: readonly Section[] = ['meta', 'data'];

/** Where a record lives. `recSeq` is the section's record number: unique for the life of the ring. */
export interface Loc {
  section: Section;
  recSeq: number;
  offset: number;
}

/** Byte storage under a section: a fixed-size region read and written at offsets. */
export interface BlockDevice {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Optional gathered write of consecutive parts (one syscall in Node); otherwise they are joined first. */
  writev?(offset: number, parts: readonly Uint8Array[]): Promise<void>;
  /** Makes every completed write durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export type RingErrorCode =
  | 'EVICTED' // the record was overwritten
  | 'CORRUPT' // the bytes at that place fail their checksums
  | 'TOO_LARGE' // the STU does not fit the section
  | 'FULL' // no record may be evicted (metadata not yet superseded by a summary)
  | 'QUOTA' // the storage refused the write (browser quota, disk full)
  | 'BAD_DEVICE' // the device is not a ring or has another geometry
  | 'CLOSED';

export class RingError extends Error {
  readonly code: RingErrorCode;
  constructor(code: RingErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'RingError';
    this.code = code;
  }
}

/** A damaged stretch found while scanning; never served, reported to the operator and repaired from peers. */
export interface CorruptRegion {
  section: Section;
  offset: number;
  length: number;
  reason: string;
}

/** An STU read back from a ring, with its encoded bytes (to send on without encoding it again). */
export interface StoredStu extends Stu {
  bytes: Uint8Array;
}

export interface ScanEntry {
  loc: Loc;
  header: StuHeader;
  /** Present when the scan read bodies (the metadata section always; data only when asked). */
  body?: Uint8Array;
}

export interface OpenReport {
  /** Records found after the last superblock and kept (written but not yet checkpointed). */
  recovered: number;
  /** Bytes cut from a torn tail. */
  tornBytes: number;
  corrupt: CorruptRegion[];
  live: Record<Section, number>;
}

export type FsyncPolicy =
  | { mode: 'always' } // every append waits for fsync (group commit: one fsync per batch)
  | { mode: 'interval'; ms: number } // fsync at most every `ms`; appends resolve once written
  | { mode: 'none' }; // leave it to the OS (tests, benchmarks of the baseline)

export interface RingOptions {
  fsync?: FsyncPolicy;
  /** Bytes gathered into one device write before it is issued (default 1 MiB). */
  batchBytes?: number;
  /** A metadata record this returns true for may not be evicted; the append fails with FULL instead. */
  retain?: (loc: Loc) => boolean;
  /** Open to look only: nothing is written (not even recovery), appends are refused with CLOSED. */
  readOnly?: boolean;
  maxBody?: number;
}

export interface SectionStats {
  capacity: number;
  used: number;
  records: number;
  evicted: number;
  appended: number;
  headRecSeq: number;
  tailRecSeq: number;
}

export interface Ring {
  readonly report: OpenReport;
  /** Append one encoded STU (header and body). The section comes from the DATA flag. The ring keeps
   *  a reference to `stu` until it is written: do not change those bytes. */
  append(stu: Uint8Array): Promise<Loc>;
  /** The STU at `loc`, checked; `bytes` is the whole encoded STU (header and body) as stored. */
  read(loc: Loc): Promise<Result<StoredStu, RingError>>;
  /** Several STUs, in the order given; records lying back to back are read with one device read. */
  readMany(locs: readonly Loc[]): Promise<Result<StoredStu, RingError>[]>;
  /** Every live record, oldest first. Data records are read headers-only unless `bodies` is set. */
  scan(section: Section, opts?: { bodies?: boolean }): AsyncIterable<ScanEntry>;
  /** Wait until every append so far is durable. */
  flush(): Promise<void>;
  onEvict(listener: (locs: Loc[]) => void): () => void;
  stats(): Record<Section, SectionStats>;
  close(): Promise<void>;
}
