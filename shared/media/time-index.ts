// The time index: which local frame STUs hold stream S of media M between t1 and t2. Fed by ingest, by a
// ring scan at boot (header + Loc), and by frames fetched from peers; told by the ring what it evicts.
// Per stream the frames are kept in columns ordered by sample number (= decode order), so a query is a
// binary search on decode time; evicted entries are marked and compacted lazily.
import type { Loc } from '../ring/types.ts';
import { isData, type StuHeader } from '../stu/header.ts';
import type { Guid } from '../stu/guid.ts';
import type { Result } from '../stu/errors.ts';
import { MediaError } from './errors.ts';
import { decodeFrameExt, type FrameFields, isFrameHeader } from './frame.ts';
import { type MediaMetadata, parseMetadata } from './metadata.ts';
import { MEDIA_META } from './stu-types.ts';

export type TimeUnit = 's' | 'ms' | 'ticks';

export interface FrameRef {
  media: Guid;
  stream: number;
  sample: number;
  timescale: number;
  dts: number;
  pts: number;
  duration: number;
  key: boolean;
  /** Where the frame STU lives in the local ring. */
  loc: Loc;
  /** Body (sample) bytes. */
  size: number;
}

/**
 * Frames a player of the range needs that are not held locally: samples [fromSample, toSample), spanning
 * about [start, end) in ticks (decode times of the held neighbours; t1 when the start of the range is
 * missing). Ask peers for that time span: they send from the key frame before it.
 */
export interface Gap {
  fromSample: number;
  toSample: number;
  start: number;
  end: number;
}

export interface Coverage {
  timescale: number;
  /** Frames in decode order, from the key frame at or before t1 (video) to the last presented before t2. */
  frames: FrameRef[];
  /** What a player of [t1, t2) needs that is not here: ask peers for it (data discovery). */
  gaps: Gap[];
  complete: boolean;
}

const KEY = 1;
const DEAD = 2;

/** Frames of one stream in growable columns, sorted by sample number. */
class StreamFrames {
  n = 0;
  dead = 0;
  sample = new Float64Array(64);
  dts = new Float64Array(64);
  pts = new Float64Array(64);
  dur = new Float64Array(64);
  recSeq = new Float64Array(64);
  offset = new Float64Array(64);
  size = new Float64Array(64);
  flags = new Uint8Array(64);
  timescale = 0;

  constructor(
    readonly media: Guid,
    readonly stream: number,
    readonly sid: number,
  ) {}

  get live(): number {
    return this.n - this.dead;
  }

  private grow(): void {
    const cap = this.sample.length * 2;
    const g = <T extends Float64Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    this.sample = g(this.sample);
    this.dts = g(this.dts);
    this.pts = g(this.pts);
    this.dur = g(this.dur);
    this.recSeq = g(this.recSeq);
    this.offset = g(this.offset);
    this.size = g(this.size);
    this.flags = g(this.flags);
  }

  /** First position whose sample number is >= s. */
  lowerSample(s: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.sample[m] < s) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  /** First position whose decode time is > t. */
  upperDts(t: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.dts[m] <= t) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  /** Inserts or replaces the entry of `f.sample`; returns the recSeq it replaced, if any. */
  put(f: FrameFields, loc: Loc, size: number): number | undefined {
    this.timescale = f.timescale;
    const i = this.n === 0 || this.sample[this.n - 1] < f.sample ? this.n : this.lowerSample(f.sample);
    let replaced: number | undefined;
    if (i < this.n && this.sample[i] === f.sample) {
      if (this.flags[i] & DEAD) this.dead--;
      else replaced = this.recSeq[i];
    } else {
      if (this.n === this.sample.length) this.grow();
      if (i < this.n) {
        for (const a of this.columns()) a.copyWithin(i + 1, i, this.n);
      }
      this.n++;
    }
    this.sample[i] = f.sample;
    this.dts[i] = f.dts;
    this.pts[i] = f.pts;
    this.dur[i] = f.duration;
    this.recSeq[i] = loc.recSeq;
    this.offset[i] = loc.offset;
    this.size[i] = size;
    this.flags[i] = f.key ? KEY : 0;
    return replaced;
  }

  private columns(): Array<Float64Array | Uint8Array> {
    return [this.sample, this.dts, this.pts, this.dur, this.recSeq, this.offset, this.size, this.flags];
  }

  kill(sample: number, recSeq: number): boolean {
    const i = this.lowerSample(sample);
    if (i >= this.n || this.sample[i] !== sample || this.recSeq[i] !== recSeq || this.flags[i] & DEAD) return false;
    this.flags[i] |= DEAD;
    this.dead++;
    if (this.dead > 1024 && this.dead * 4 > this.n) this.compact();
    return true;
  }

  compact(): void {
    let w = 0;
    const cols = this.columns();
    for (let r = 0; r < this.n; r++) {
      if (this.flags[r] & DEAD) continue;
      if (w !== r) for (const a of cols) a[w] = a[r];
      w++;
    }
    this.n = w;
    this.dead = 0;
  }

  alive(i: number): boolean {
    return (this.flags[i] & DEAD) === 0;
  }

  ref(i: number): FrameRef {
    return {
      media: this.media,
      stream: this.stream,
      sample: this.sample[i],
      timescale: this.timescale,
      dts: this.dts[i],
      pts: this.pts[i],
      duration: this.dur[i],
      key: (this.flags[i] & KEY) !== 0,
      loc: { section: 'data', recSeq: this.recSeq[i], offset: this.offset[i] },
      size: this.size[i],
    };
  }
}

interface MediaEntry {
  meta?: MediaMetadata;
  streams: Map<number, StreamFrames>;
}

/** Frames looked past t2 (and before the search point) to cover reordered (B-)frames. */
const REORDER_SLACK = 32;

export class TimeIndex {
  private readonly media = new Map<Guid, MediaEntry>();
  private readonly streamsById: StreamFrames[] = [];
  /** recSeq of a frame STU -> stream id * 2^32 + sample. */
  private readonly byRecSeq = new Map<number, number>();

  /** Indexes any STU (ring scan at boot, STUs from peers): frames and media metadata; ignores the rest. */
  addStu(entry: { loc: Loc; header: StuHeader; body?: Uint8Array }): Result<'frame' | 'media' | 'ignored', MediaError> {
    const h = entry.header;
    if (isFrameHeader(h)) {
      const f = decodeFrameExt(h.ext);
      if (!f.ok) return f;
      this.addFrame(h.object, f.value, entry.loc, h.bodySize);
      return { ok: true, value: 'frame' };
    }
    if (h.type === MEDIA_META && !isData(h)) {
      if (!entry.body) return { ok: false, error: new MediaError('BAD_METADATA', 'metadata STU without its body') };
      const m = parseMetadata(entry.body);
      if (!m.ok) return m;
      if (m.value.id !== h.object) return { ok: false, error: new MediaError('BAD_METADATA', `metadata of ${m.value.id} in an STU of ${h.object}`) };
      this.addMedia(m.value);
      return { ok: true, value: 'media' };
    }
    return { ok: true, value: 'ignored' };
  }

  addFrame(media: Guid, f: FrameFields, loc: Loc, size: number): void {
    let m = this.media.get(media);
    if (!m) this.media.set(media, (m = { streams: new Map() }));
    let s = m.streams.get(f.stream);
    if (!s) {
      s = new StreamFrames(media, f.stream, this.streamsById.length);
      this.streamsById.push(s);
      m.streams.set(f.stream, s);
    }
    const replaced = s.put(f, loc, size);
    if (replaced !== undefined && replaced !== loc.recSeq) this.byRecSeq.delete(replaced);
    this.byRecSeq.set(loc.recSeq, s.sid * 2 ** 32 + f.sample);
  }

  addMedia(meta: MediaMetadata): void {
    const m = this.media.get(meta.id);
    if (m) m.meta = meta;
    else this.media.set(meta.id, { meta, streams: new Map() });
  }

  /** Forgets a media object and its frames (a delete). */
  removeMedia(id: Guid): void {
    const m = this.media.get(id);
    if (!m) return;
    for (const s of m.streams.values()) {
      for (let i = 0; i < s.n; i++) if (s.alive(i)) this.byRecSeq.delete(s.recSeq[i]);
    }
    this.media.delete(id);
  }

  /** Drops the frames the ring overwrote (data section Locs; others are ignored). */
  evict(locs: readonly Loc[]): number {
    let n = 0;
    for (const loc of locs) {
      if (loc.section !== 'data') continue;
      const key = this.byRecSeq.get(loc.recSeq);
      if (key === undefined) continue;
      this.byRecSeq.delete(loc.recSeq);
      const s = this.streamsById[Math.floor(key / 2 ** 32)];
      if (s.kill(key % 2 ** 32, loc.recSeq)) n++;
    }
    return n;
  }

  /** Follows a ring's evictions; returns the unsubscribe function. */
  attach(ring: { onEvict(listener: (locs: Loc[]) => void): () => void }): () => void {
    return ring.onEvict((locs) => {
      this.evict(locs);
    });
  }

  /** Metadata of a complete media object (its metadata STU is here); undefined otherwise. */
  get(id: Guid): MediaMetadata | undefined {
    return this.media.get(id)?.meta;
  }

  /** Every complete media object. Frames without metadata (orphans) are not listed. */
  list(): MediaMetadata[] {
    const out: MediaMetadata[] = [];
    for (const m of this.media.values()) if (m.meta) out.push(m.meta);
    return out;
  }

  /** Objects with frames but no metadata STU (an ingest that failed, or metadata not yet replicated). */
  orphans(): Array<{ id: Guid; frames: number }> {
    const out: Array<{ id: Guid; frames: number }> = [];
    for (const [id, m] of this.media) {
      if (m.meta) continue;
      let frames = 0;
      for (const s of m.streams.values()) frames += s.live;
      if (frames) out.push({ id, frames });
    }
    return out;
  }

  /** Frames held locally for one stream of a complete object. */
  held(id: Guid, stream: number): number {
    const m = this.media.get(id);
    return m?.meta ? (m.streams.get(stream)?.live ?? 0) : 0;
  }

  stats(): { media: number; orphans: number; frames: number } {
    let frames = 0;
    for (const s of this.streamsById) frames += s.live;
    return { media: this.list().length, orphans: this.orphans().length, frames };
  }

  /**
   * Frames of stream `stream` needed to present [from, to): for video from the key frame at or before
   * `from`, in decode order, up to the last frame presented before `to`; and the gaps not held locally.
   * Undefined for an unknown object, an orphan, or a stream the metadata does not list.
   */
  cover(id: Guid, stream: number, from: number, to: number, unit: TimeUnit = 's'): Coverage | undefined {
    const m = this.media.get(id);
    const track = m?.meta?.tracks[stream];
    if (!m || !track) return undefined;
    const ts = track.timescale;
    const t1 = toTicks(from, unit, ts, Math.floor);
    const t2 = toTicks(to, unit, ts, Math.ceil);
    const total = track.frames;
    const trackStart = track.start;
    const trackEnd = track.start + track.duration;
    const s = m.streams.get(stream);
    const out: Coverage = { timescale: ts, frames: [], gaps: [], complete: true };
    if (t2 <= t1 || t2 <= trackStart || t1 >= trackEnd) return out;
    if (!s || s.live === 0) {
      out.gaps.push({ fromSample: 0, toSample: total, start: trackStart, end: trackEnd });
      out.complete = false;
      return out;
    }
    if (s.dead) s.compact();
    const video = track.kind === 'video';
    const lo = Math.max(t1, trackStart);
    const hole = (fromSample: number, toSample: number, start: number, end: number) => {
      if (toSample > fromSample) out.gaps.push({ fromSample, toSample, start, end });
    };
    const finish = () => {
      out.complete = out.gaps.length === 0;
      return out;
    };

    // End: the last frame in decode order presented before t2 (reordered frames sit a few places later).
    let last = Math.min(s.n - 1, s.upperDts(t2 - 1) - 1 + REORDER_SLACK);
    while (last >= 0 && s.pts[last] >= t2) last--;
    if (last < 0) {
      // Everything we hold is presented at or after t2.
      hole(0, s.sample[0], lo, s.dts[0]);
      return finish();
    }
    let heldEnd = -Infinity;
    for (let i = Math.max(0, last - REORDER_SLACK); i <= last; i++) heldEnd = Math.max(heldEnd, s.pts[i] + s.dur[i]);
    if (heldEnd <= t1) {
      // Everything we hold before t2 ends before t1.
      const next = last + 1 < s.n ? last + 1 : -1;
      hole(s.sample[last] + 1, next >= 0 ? s.sample[next] : total, lo, next >= 0 ? s.dts[next] : trackEnd);
      return finish();
    }

    // Start: the last frame presented at or before t1 (a key frame for video), searched back from near
    // decode time t1, but not across a hole lying wholly before t1 (the right key frame may be in it).
    let first = -1;
    let stop = -1;
    for (let i = Math.min(last, s.upperDts(t1) - 1 + REORDER_SLACK); i >= 0; i--) {
      if (s.pts[i] <= t1 && (!video || s.flags[i] & KEY)) {
        first = i;
        break;
      }
      if (i > 0 && s.sample[i - 1] + 1 !== s.sample[i] && s.dts[i] <= t1) {
        stop = i - 1;
        break;
      }
    }
    if (first < 0) {
      // The start is not held: report it, and begin at the first usable frame after the hole.
      first = stop + 1;
      if (video) while (first <= last && !(s.flags[first] & KEY)) first++;
      if (first > last) {
        hole(stop >= 0 ? s.sample[stop] + 1 : 0, s.sample[last] + 1, lo, s.dts[last] + s.dur[last]);
        return finish();
      }
      hole(stop >= 0 ? s.sample[stop] + 1 : 0, s.sample[first], lo, s.dts[first]);
    }

    let endHeld = -Infinity;
    for (let i = first; i <= last; i++) {
      out.frames.push(s.ref(i));
      endHeld = Math.max(endHeld, s.pts[i] + s.dur[i]);
      if (i < last && s.sample[i + 1] !== s.sample[i] + 1) hole(s.sample[i] + 1, s.sample[i + 1], s.dts[i] + s.dur[i], s.dts[i + 1]);
    }
    if (endHeld < Math.min(t2, trackEnd) && s.sample[last] + 1 < total) {
      const next = last + 1 < s.n ? last + 1 : -1;
      hole(s.sample[last] + 1, next >= 0 ? s.sample[next] : total, s.dts[last] + s.dur[last], next >= 0 ? s.dts[next] : trackEnd);
    }
    out.complete = out.gaps.length === 0;
    return out;
  }

  /** Held frames with fromSample ≤ sample < toSample, in sample order (data discovery sends these). */
  samples(id: Guid, stream: number, fromSample: number, toSample: number): FrameRef[] {
    const s = this.media.get(id)?.streams.get(stream);
    if (!s) return [];
    if (s.dead) s.compact();
    const out: FrameRef[] = [];
    for (let i = s.lowerSample(fromSample); i < s.n && s.sample[i] < toSample; i++) out.push(s.ref(i));
    return out;
  }

  /** The sample ranges [from, to) of a stream held here, within [fromSample, toSample). */
  heldRanges(id: Guid, stream: number, fromSample = 0, toSample = Infinity): { from: number; to: number }[] {
    const s = this.media.get(id)?.streams.get(stream);
    if (!s) return [];
    if (s.dead) s.compact();
    const out: { from: number; to: number }[] = [];
    for (let i = s.lowerSample(fromSample); i < s.n && s.sample[i] < toSample; i++) {
      const last = out[out.length - 1];
      if (last && last.to === s.sample[i]) last.to++;
      else out.push({ from: s.sample[i], to: s.sample[i] + 1 });
    }
    return out;
  }

  /** The key frame at or before `t` (video) or the frame presented at `t` (audio), if held. */
  seekPoint(id: Guid, stream: number, t: number, unit: TimeUnit = 's'): FrameRef | undefined {
    const c = this.cover(id, stream, t, t + (unit === 'ticks' ? 1 : unit === 'ms' ? 1 : 0.001), unit);
    return c?.frames[0];
  }
}

export function toTicks(t: number, unit: TimeUnit, timescale: number, round: (x: number) => number = Math.round): number {
  if (unit === 'ticks') return t;
  const x = unit === 's' ? t * timescale : (t * timescale) / 1000;
  // Absorb float noise (0.1 * 48000 = 4800.000000000001) before rounding.
  const r = Math.round(x);
  return Math.abs(x - r) < 1e-6 ? r : round(x);
}
