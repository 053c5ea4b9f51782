// Turns frames as containers give them into the frame fields we store (docs/MEDIA.md, "Timestamp rules"):
// - every time stays in the track's own timescale;
// - all tracks are shifted by one instant so the first video presentation time is 0;
// - decode times missing from the container (Matroska) are derived from presentation times;
// - each stored duration is the next frame's decode time minus this one's (the last keeps its own);
// - frames are numbered 0, 1, 2, ... per stream in decode order.
// Pure: no I/O. Holds at most a reorder window of frames per track.
import { corrupt } from './errors.ts';
import type { DemuxTrack, RawFrame } from './demux/types.ts';

export interface TimedFrame {
  stream: number;
  timescale: number;
  sample: number;
  dts: number;
  pts: number;
  duration: number;
  key: boolean;
  data: Uint8Array;
}

export interface TrackStats {
  frames: number;
  bytes: number;
  /** Smallest presentation time (ticks). */
  start: number;
  /** Largest presentation end, pts + duration (ticks). */
  end: number;
  keyFrames: number;
}

export interface TimelineOptions {
  /** Frames looked ahead to derive decode times, and video frames seen before choosing the rebase instant. */
  window?: number;
  /** Bytes buffered at most while waiting for the first video frames (badly interleaved files). */
  bufferLimit?: number;
}

interface Held {
  dts: number;
  pts: number;
  duration?: number;
  key: boolean;
  data: Uint8Array;
}

class TrackLine {
  shift = 0;
  private next = 0;
  private lastDts = -Infinity;
  private lastDuration = 0;
  private held: Held | undefined;
  // Decode-time derivation (hasDts false).
  private win: RawFrame[] = [];
  private heap = new MinHeap();
  private delay: number | undefined;
  readonly stats: TrackStats = { frames: 0, bytes: 0, start: Infinity, end: -Infinity, keyFrames: 0 };

  constructor(
    readonly track: DemuxTrack,
    private readonly window: number,
  ) {}

  push(f: RawFrame, out: TimedFrame[]): void {
    if (this.track.hasDts && f.dts !== undefined) {
      this.stage(f.dts, f.pts, f.duration, f.key, f.data, out);
      return;
    }
    this.win.push({ ...f, data: f.data.slice() });
    this.heap.push(f.pts);
    if (this.delay === undefined) {
      if (this.win.length < this.window) return;
      this.delay = reorderDelay(this.win);
    }
    while (this.win.length > this.window) this.emitDerived(out);
  }

  finish(out: TimedFrame[]): void {
    if (this.delay === undefined) this.delay = reorderDelay(this.win);
    while (this.win.length) this.emitDerived(out);
    if (this.held) {
      const h = this.held;
      this.held = undefined;
      this.emit(h, h.duration ?? this.lastDuration, out);
    }
  }

  private emitDerived(out: TimedFrame[]): void {
    const f = this.win.shift()!;
    const dts = Math.max(this.heap.pop() - this.delay!, this.lastDts);
    this.stage(dts, f.pts, f.duration, f.key, f.data, out);
  }

  private stage(dts: number, pts: number, duration: number | undefined, key: boolean, data: Uint8Array, out: TimedFrame[]): void {
    if (!Number.isSafeInteger(dts) || !Number.isSafeInteger(pts)) throw corrupt(`track ${this.track.index}: time out of range`);
    if (dts < this.lastDts) throw corrupt(`track ${this.track.index}: decode time goes backwards (${dts} after ${this.lastDts})`);
    this.lastDts = dts;
    if (this.held) {
      const h = this.held;
      this.emit(h, dts - h.dts, out);
    }
    this.held = { dts, pts, duration, key, data };
  }

  private emit(h: Held, duration: number, out: TimedFrame[]): void {
    if (duration > 0xffff_ffff) throw corrupt(`track ${this.track.index}: a frame lasts ${duration} ticks`);
    this.lastDuration = duration;
    const pts = h.pts - this.shift;
    const s = this.stats;
    s.frames++;
    s.bytes += h.data.length;
    if (h.key) s.keyFrames++;
    if (pts < s.start) s.start = pts;
    if (pts + duration > s.end) s.end = pts + duration;
    out.push({
      stream: this.track.index,
      timescale: this.track.timescale,
      sample: this.next++,
      dts: h.dts - this.shift,
      pts,
      duration,
      key: h.key,
      data: h.data,
    });
  }
}

/** The smallest D with (i-th smallest pts) - D <= pts of the i-th frame in decode order, over a window. */
export function reorderDelay(frames: ReadonlyArray<{ pts: number }>): number {
  const sorted = frames.map((f) => f.pts).sort((a, b) => a - b);
  let d = 0;
  for (let i = 0; i < frames.length; i++) d = Math.max(d, sorted[i] - frames[i].pts);
  return d;
}

export class Timeline {
  private readonly lines: TrackLine[];
  private readonly primary: TrackLine | undefined;
  private readonly window: number;
  private readonly bufferLimit: number;
  /** Frames held until the rebase instant is known. */
  private pending: RawFrame[] | undefined = [];
  private pendingBytes = 0;
  private primarySeen: number[] = [];

  constructor(tracks: readonly DemuxTrack[], startPts?: ReadonlyMap<number, number>, opts: TimelineOptions = {}) {
    this.window = opts.window ?? 16;
    this.bufferLimit = opts.bufferLimit ?? 64 * 1024 * 1024;
    this.lines = tracks.map((t) => new TrackLine(t, this.window));
    this.primary = this.lines.find((l) => l.track.kind === 'video') ?? this.lines[0];
    const known = this.primary && startPts?.get(this.primary.track.index);
    if (known !== undefined && this.primary) this.rebase(this.primary.track.kind === 'video' ? known : Math.max(0, known));
  }

  get stats(): TrackStats[] {
    return this.lines.map((l) => l.stats);
  }

  /** Feeds one frame; returns the frames now final (any track, each track in decode order). */
  push(f: RawFrame): TimedFrame[] {
    const out: TimedFrame[] = [];
    const line = this.lines[f.track];
    if (!line) throw corrupt(`frame of unknown track ${f.track}`);
    if (this.pending) {
      this.pending.push({ ...f, data: f.data.slice() });
      this.pendingBytes += f.data.length;
      if (line === this.primary) this.primarySeen.push(f.pts);
      if (this.primarySeen.length >= this.window || this.pendingBytes > this.bufferLimit) this.release(out);
      return out;
    }
    line.push(f, out);
    return out;
  }

  finish(): TimedFrame[] {
    const out: TimedFrame[] = [];
    if (this.pending) this.release(out);
    for (const l of this.lines) l.finish(out);
    return out;
  }

  private release(out: TimedFrame[]): void {
    const pending = this.pending ?? [];
    const seen = this.primarySeen.length ? Math.min(...this.primarySeen) : 0;
    this.rebase(this.primary?.track.kind === 'video' ? seen : Math.max(0, seen));
    this.primarySeen = [];
    for (const f of pending) this.lines[f.track].push(f, out);
  }

  /** Shifts every track so `start` (in the primary track's ticks) becomes 0. */
  private rebase(start: number): void {
    const p = this.primary!;
    for (const l of this.lines) l.shift = rescale(start, p.track.timescale, l.track.timescale);
    this.pending = undefined;
  }
}

/** `t` ticks of timescale `from` in ticks of `to`, rounded half up; exact for any safe integer. */
export function rescale(t: number, from: number, to: number): number {
  if (from === to) return t;
  const num = BigInt(t) * BigInt(to);
  const den = BigInt(from);
  const q = num / den;
  const r = num % den;
  // Round half up (towards +infinity), also for negative t (BigInt division truncates toward zero).
  const twice = 2n * (r < 0n ? -r : r);
  const adjust = r >= 0n ? (twice >= den ? 1n : 0n) : twice > den ? -1n : 0n;
  return Number(q + adjust);
}

/** A binary min-heap of numbers. */
class MinHeap {
  private a: number[] = [];
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
