// Walks an MP4 sample table (stbl: stts, ctts, stsc, stco/co64, stsz/stz2, stss) one sample at a time,
// without building an object per sample: memory is the tables themselves, whatever the file size.
import { corrupt, unsupported } from '../errors.ts';

export interface SampleInfo {
  /** Byte offset in the file. */
  offset: number;
  size: number;
  /** Decode time in the track's timescale (the sum of stts deltas before this sample). */
  dts: number;
  /** Composition (presentation) time before any edit list: dts + ctts offset. */
  cts: number;
  duration: number;
  key: boolean;
}

/** The table arrays as mp4box parses them (plain number arrays). */
export interface StblTables {
  sampleSizes: ArrayLike<number>;
  sttsCounts: ArrayLike<number>;
  sttsDeltas: ArrayLike<number>;
  cttsCounts?: ArrayLike<number>;
  cttsOffsets?: ArrayLike<number>;
  stscFirstChunk: ArrayLike<number>;
  stscSamplesPerChunk: ArrayLike<number>;
  stscDescription: ArrayLike<number>;
  chunkOffsets: ArrayLike<number>;
  /** 1-based numbers of sync samples; undefined = every sample is a sync sample. */
  syncSamples?: ArrayLike<number>;
}

export class SampleCursor {
  readonly count: number;
  /** Index of the next sample. */
  index = 0;
  private dts = 0;
  private stts = 0;
  private sttsLeft: number;
  private ctts = 0;
  private cttsLeft: number;
  private stsc = 0;
  private chunk = 0;
  private inChunk = 0;
  private chunkSamples = 0;
  private offset = 0;
  private sync = 0;

  constructor(
    private readonly t: StblTables,
    private readonly label: string,
    private readonly allSync = false,
  ) {
    this.count = t.sampleSizes.length;
    this.sttsLeft = t.sttsCounts.length ? t.sttsCounts[0] : 0;
    this.cttsLeft = t.cttsCounts?.length ? t.cttsCounts[0] : 0;
    if (this.count === 0) return;
    if (t.stscFirstChunk.length === 0 || t.chunkOffsets.length === 0) throw corrupt(`${label}: ${this.count} samples but no chunks`);
    let prev = 0;
    for (let i = 0; i < t.stscFirstChunk.length; i++) {
      const fc = t.stscFirstChunk[i];
      if (fc <= prev || fc < 1) throw corrupt(`${label}: stsc entries out of order`);
      prev = fc;
      if (t.stscDescription[i] !== 1) throw unsupported(`${label}: more than one sample description`);
    }
    if (t.stscFirstChunk[0] !== 1) throw corrupt(`${label}: stsc does not start at chunk 1`);
    this.enterChunk();
  }

  private samplesPerChunk(chunk: number): number {
    const fc = this.t.stscFirstChunk;
    while (this.stsc + 1 < fc.length && fc[this.stsc + 1] - 1 <= chunk) this.stsc++;
    return this.t.stscSamplesPerChunk[this.stsc];
  }

  private enterChunk(): void {
    // Skip empty chunks (samples_per_chunk 0 is legal if odd).
    for (;;) {
      if (this.chunk >= this.t.chunkOffsets.length) {
        throw corrupt(`${this.label}: chunk tables cover ${this.index} of ${this.count} samples`);
      }
      this.chunkSamples = this.samplesPerChunk(this.chunk);
      if (this.chunkSamples > 0) break;
      this.chunk++;
    }
    this.offset = this.t.chunkOffsets[this.chunk];
    this.inChunk = 0;
  }

  /** File offset of the next sample, or Infinity at the end. */
  peekOffset(): number {
    return this.index < this.count ? this.offset : Infinity;
  }

  next(): SampleInfo | undefined {
    if (this.index >= this.count) return undefined;
    const t = this.t;
    const size = t.sampleSizes[this.index];
    // Decode time and duration (a table shorter than the sample count repeats its last delta).
    while (this.sttsLeft === 0 && this.stts + 1 < t.sttsCounts.length) this.sttsLeft = t.sttsCounts[++this.stts];
    const duration = t.sttsDeltas.length ? t.sttsDeltas[Math.min(this.stts, t.sttsDeltas.length - 1)] : 0;
    if (this.sttsLeft > 0) this.sttsLeft--;
    let offsetCts = 0;
    if (t.cttsCounts && t.cttsOffsets && t.cttsCounts.length) {
      while (this.cttsLeft === 0 && this.ctts + 1 < t.cttsCounts.length) this.cttsLeft = t.cttsCounts[++this.ctts];
      // ctts version 0 is unsigned on paper; writers put negative offsets there anyway: read as int32.
      offsetCts = t.cttsOffsets[this.ctts] | 0;
      if (this.cttsLeft > 0) this.cttsLeft--;
    }
    let key = true;
    if (!this.allSync && t.syncSamples) {
      const n = this.index + 1;
      while (this.sync < t.syncSamples.length && t.syncSamples[this.sync] < n) this.sync++;
      key = this.sync < t.syncSamples.length && t.syncSamples[this.sync] === n;
    }
    const s: SampleInfo = { offset: this.offset, size, dts: this.dts, cts: this.dts + offsetCts, duration, key };
    this.dts += duration;
    this.index++;
    this.offset += size;
    if (++this.inChunk >= this.chunkSamples && this.index < this.count) {
      this.chunk++;
      this.enterChunk();
    }
    return s;
  }

  /** The composition times of the first `n` samples (for the track's presentation start), without moving the cursor. */
  static firstCts(t: StblTables, n: number): number[] {
    const out: number[] = [];
    let dts = 0;
    let stts = 0;
    let sttsLeft = t.sttsCounts.length ? t.sttsCounts[0] : 0;
    let ctts = 0;
    let cttsLeft = t.cttsCounts?.length ? t.cttsCounts[0] : 0;
    for (let i = 0; i < Math.min(n, t.sampleSizes.length); i++) {
      while (sttsLeft === 0 && stts + 1 < t.sttsCounts.length) sttsLeft = t.sttsCounts[++stts];
      const d = t.sttsDeltas.length ? t.sttsDeltas[Math.min(stts, t.sttsDeltas.length - 1)] : 0;
      if (sttsLeft > 0) sttsLeft--;
      let off = 0;
      if (t.cttsCounts && t.cttsOffsets && t.cttsCounts.length) {
        while (cttsLeft === 0 && ctts + 1 < t.cttsCounts.length) cttsLeft = t.cttsCounts[++ctts];
        off = t.cttsOffsets[ctts] | 0;
        if (cttsLeft > 0) cttsLeft--;
      }
      out.push(dts + off);
      dts += d;
    }
    return out;
  }
}
