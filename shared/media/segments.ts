// Segments from stored frames, the same code in Node and browsers. A media object's playable streams (its
// first video and first audio track fMP4 can carry) are cut into segments at video key frames near a
// target duration (audio-only media: every `target` seconds), and each segment is built on demand from
// the frames of its time range: one fMP4 media segment, audio and video muxed. Built segments are kept in a
// cache bounded by bytes; concurrent requests for one segment build it once. Rules in docs/MEDIA.md,
// "Segments and HLS".
import type { Guid } from '../stu/guid.ts';
import { MediaError } from './errors.ts';
import { buildFragment, type Fragment, type FragmentSample, type TrackFragment } from './fmp4/fragment.ts';
import { buildInit, hlsCodec, sampleEntryType } from './fmp4/init.ts';
import { parameterSets, startsWithParameterSet } from './fmp4/parameter-sets.ts';
import type { MediaMetadata, MediaTrack } from './metadata.ts';
import { ByteLru, SingleFlight } from './segments-cache.ts';
import type { TimeIndex } from './time-index.ts';
import { rescale } from './timeline.ts';

/** Frame timing, in the track's timescale, as stored (docs/MEDIA.md, frame fields). */
export interface FrameTiming {
  sample: number;
  dts: number;
  pts: number;
  duration: number;
  key: boolean;
  /** Bytes of the frame. */
  size: number;
}

export interface SourceFrame {
  sample: number;
  dts: number;
  pts: number;
  duration: number;
  key: boolean;
  data: Uint8Array;
}

/** Where frames come from: node-peer's MediaSource (the ring, waiting for frames from peers) fits. */
export interface SegmentSource {
  metadata(id: Guid): MediaMetadata | undefined;
  /** Frames presented in [from, to) seconds, in decode order, from the key frame at or before `from`. */
  frames(id: Guid, stream: number, from: number, to: number, opts?: { signal?: AbortSignal }): Promise<SourceFrame[]>;
}

/**
 * Every frame's timing of one stream, in decode order, without reading frames (a local time index), or
 * undefined when not every frame is known here: planning then reads the frames through the source.
 */
export type FrameTimes = (id: Guid, stream: number) => Iterable<FrameTiming> | undefined;

/** Frame timing from a time index: every frame of the stream when all are held here, else undefined. */
export const indexFrameTimes =
  (index: Pick<TimeIndex, 'get' | 'cover'>): FrameTimes =>
  (id, stream) => {
    const t = index.get(id)?.tracks[stream];
    if (!t) return undefined;
    const c = index.cover(id, stream, t.start, t.start + t.duration, 'ticks');
    return c?.complete ? c.frames : undefined;
  };

export interface PlanTrack {
  /** Stream index in the media object. */
  stream: number;
  /** track_ID in the init and media segments: 1, 2 in plan order (video first). */
  id: number;
  track: MediaTrack;
  /**
   * Ticks added to every decode time (tfdt is unsigned, and the first video frame is presented at 0, so
   * composition offsets are negative where decode time runs ahead of presentation). Chosen so that each
   * track's most negative offset is the same span of time: a player that shifts a track by its most
   * negative offset (ffmpeg) then moves every track alike and keeps them in sync.
   */
  shift: number;
}

export interface SegmentPlan {
  media: Guid;
  /** Target segment duration, seconds. */
  target: number;
  tracks: PlanTrack[];
  /** Seconds, 0 to the end of the longest track (the metadata's duration). */
  duration: number;
  /** Number of segments. */
  count: number;
  /** Presentation start of segment i in seconds; starts[count] = duration. */
  starts: Float64Array;
  /** Cut points in the primary track's ticks (video key frame pts, or n * target for audio-only): count + 1 entries, the last one the track's end. */
  cuts: Float64Array;
  /** Video only: first sample (decode order) of segment i; samples[count] = the track's frame count. */
  samples?: Float64Array;
  /** Estimated bytes of segment i (video frame sizes plus the audio's average). */
  bytes: Float64Array;
  /** Longest segment, seconds. */
  maxDuration: number;
  /** RFC 6381 codec strings of the tracks, for HLS CODECS. */
  codecs: string[];
}

export interface MediaSegment extends Fragment {
  media: Guid;
  index: number;
  /** Presentation start, seconds (media time). */
  start: number;
  duration: number;
  /** Timescale of each traf, in order (to retime the segment into channel time). */
  timescales: number[];
}

export interface SegmenterOptions {
  /** Target segment duration, seconds. Default 2. */
  target?: number;
  /** Bytes of built segments kept. Default 128 MiB. */
  cacheBytes?: number;
  /** Plans kept (one per media). Default 256. */
  plans?: number;
  /** Frame timing without reading frames (a local time index). */
  frameTimes?: FrameTimes;
  /** Seconds of frames read per call when planning through the source. Default 30. */
  scanWindow?: number;
}

export const DEFAULT_TARGET = 2;

/** The streams we put in segments: the first video and the first audio track fMP4 can carry. */
export function playableStreams(meta: MediaMetadata): MediaTrack[] {
  const v = meta.tracks.find((t) => t.kind === 'video' && sampleEntryType(t));
  const a = meta.tracks.find((t) => t.kind === 'audio' && sampleEntryType(t));
  return [v, a].filter((t): t is MediaTrack => t !== undefined);
}

/**
 * Cut points among key frames (pts in ticks, decode order): from each cut, the next is the key frame
 * nearest to cut + target, at least target / 2 later (the first key frame after that when none is near).
 * The track's end (`end`, ticks) competes as a candidate, so the last segment is not cut short for nothing.
 * Returns indexes into `keys`; the first is 0.
 */
export function chooseCuts(keys: ArrayLike<number>, timescale: number, target: number, end = Infinity): number[] {
  const cuts: number[] = [];
  if (keys.length === 0) return cuts;
  cuts.push(0);
  const T = target * timescale;
  const at = (j: number) => (j < keys.length ? keys[j] : end);
  let i = 0;
  for (;;) {
    const start = keys[i];
    let j = i + 1;
    while (j < keys.length && !(keys[j] >= start + T / 2 && keys[j] > start)) j++;
    if (j >= keys.length) break;
    const goal = start + T;
    while (j + 1 <= keys.length && Math.abs(at(j + 1) - goal) <= Math.abs(at(j) - goal)) j++;
    if (j >= keys.length) break; // the end is nearer than any key frame
    cuts.push(j);
    i = j;
  }
  return cuts;
}

/** Plans a media's segments from its primary track's frame timing (decode order; undefined for audio-only). */
export function planSegments(meta: MediaMetadata, video: Iterable<FrameTiming> | undefined, target = DEFAULT_TARGET): SegmentPlan {
  if (!(target > 0)) throw new MediaError('BAD_INPUT', `bad target duration ${target}`);
  const chosen = playableStreams(meta);
  if (chosen.length === 0) {
    const codecs = meta.tracks.map((t) => t.codec).join(', ') || 'none';
    throw new MediaError('UNSUPPORTED', `media ${meta.id}: no stream fMP4 can carry (${codecs})`);
  }
  const tracks: PlanTrack[] = chosen.map((t, i) => ({ stream: t.index, id: i + 1, track: t, shift: 0 }));
  // Per track: ticks its decode times must move up (need), and its smallest pts - dts (audio: dts = pts).
  const need = chosen.map((t) => Math.max(0, -t.start));
  const minCto = chosen.map(() => 0);
  const primary = tracks[0].track;
  const ts = primary.timescale;
  const duration = meta.duration;
  const end = primary.start + primary.duration;
  let cuts: number[];
  let samples: number[] | undefined;
  let bytes: number[];
  let videoTotal = 0;

  if (primary.kind === 'video') {
    if (!video) throw new MediaError('BAD_INPUT', 'planning a video track needs its frame timing');
    const keyPts: number[] = [];
    const keySample: number[] = [];
    const before: number[] = []; // video bytes before each key frame
    let total = 0;
    let first = true;
    for (const f of video) {
      if (f.pts - f.dts < minCto[0] || first) minCto[0] = f.pts - f.dts;
      if (first) {
        need[0] = Math.max(0, -f.dts);
        if (!f.key || f.sample !== 0) {
          // Not starting on a key frame: segment 0 still starts with the stream's first frame.
          keyPts.push(Math.min(f.pts, 0));
          keySample.push(f.sample);
          before.push(0);
        }
        first = false;
      }
      if (f.key && (keyPts.length === 0 || f.pts > keyPts[keyPts.length - 1])) {
        keyPts.push(f.pts);
        keySample.push(f.sample);
        before.push(total);
      }
      total += f.size;
    }
    if (keyPts.length === 0) throw new MediaError('CORRUPT', `media ${meta.id}: no video frames to plan from`);
    const at = chooseCuts(keyPts, ts, target, end);
    cuts = at.map((i) => keyPts[i]);
    samples = at.map((i) => keySample[i]);
    bytes = at.map((i, k) => (k + 1 < at.length ? before[at[k + 1]] : total) - before[i]);
    videoTotal = total;
    cuts.push(Math.max(end, cuts[cuts.length - 1] + 1));
    samples.push(primary.frames);
  } else {
    const n = Math.max(1, Math.ceil(duration / target - 1e-9));
    cuts = [];
    for (let i = 0; i < n; i++) cuts.push(Math.round(i * target * ts));
    cuts.push(Math.max(end, cuts[n - 1] + 1));
    bytes = new Array<number>(n).fill(0);
  }

  const lead = Math.max(...tracks.map((t, i) => Math.max(0, need[i] - minCto[i]) / t.track.timescale));
  tracks.forEach((t, i) => (t.shift = Math.max(need[i], minCto[i] + Math.ceil(lead * t.track.timescale - 1e-6))));
  // The rest of the bytes (audio) spread evenly over time: BANDWIDTH is an estimate.
  const audioRate = tracks.some((t) => t.track.kind === 'audio') ? Math.max(0, meta.bytes - videoTotal) / Math.max(duration, 1e-3) : 0;
  const count = cuts.length - 1;
  const starts = new Float64Array(count + 1);
  for (let i = 1; i < count; i++) starts[i] = cuts[i] / ts;
  starts[0] = 0;
  starts[count] = Math.max(duration, starts[count - 1]);
  let maxDuration = 0;
  const b = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const d = starts[i + 1] - starts[i];
    maxDuration = Math.max(maxDuration, d);
    b[i] = bytes[i] + audioRate * d;
  }
  return {
    media: meta.id,
    target,
    tracks,
    duration: starts[count],
    count,
    starts,
    cuts: Float64Array.from(cuts),
    samples: samples ? Float64Array.from(samples) : undefined,
    bytes: b,
    maxDuration,
    codecs: tracks.map((t) => hlsCodec(t.track)),
  };
}

/** Plans and builds segments of media objects from a SegmentSource, with a byte-bounded segment cache. */
export class Segmenter {
  readonly target: number;
  private readonly cache: ByteLru<string, MediaSegment>;
  private readonly inits = new WeakMap<SegmentPlan, Uint8Array>();
  private readonly plans = new Map<Guid, { meta: MediaMetadata; plan: Promise<SegmentPlan> }>();
  private readonly maxPlans: number;
  private readonly building = new SingleFlight<string, MediaSegment>();
  private readonly frameTimes: FrameTimes | undefined;
  private readonly scanWindow: number;
  /** Segments built (cache misses that completed) and their bytes. */
  readonly built = { segments: 0, bytes: 0 };

  constructor(
    private readonly source: SegmentSource,
    opts: SegmenterOptions = {},
  ) {
    this.target = opts.target ?? DEFAULT_TARGET;
    if (!(this.target > 0)) throw new MediaError('BAD_INPUT', `bad target duration ${this.target}`);
    this.cache = new ByteLru(opts.cacheBytes ?? 128 * 1024 * 1024, (s) => s.bytes.length + 256);
    this.maxPlans = opts.plans ?? 256;
    this.frameTimes = opts.frameTimes;
    this.scanWindow = opts.scanWindow ?? 30;
  }

  get cacheStats(): { bytes: number; segments: number; hits: number; misses: number; maxBytes: number } {
    return { bytes: this.cache.bytes, segments: this.cache.size, hits: this.cache.hits, misses: this.cache.misses, maxBytes: this.cache.maxBytes };
  }

  /** The metadata, or RangeError for an unknown media object. */
  metadata(id: Guid): MediaMetadata {
    const m = this.source.metadata(id);
    if (!m) throw new RangeError(`no media ${id}`);
    return m;
  }

  /** The segment plan of a media object (cached while its metadata stays the same object). */
  plan(id: Guid): Promise<SegmentPlan> {
    const meta = this.source.metadata(id);
    if (!meta) return Promise.reject(new RangeError(`no media ${id}`));
    const have = this.plans.get(id);
    if (have && (have.meta === meta || sameTracks(have.meta, meta))) {
      this.plans.delete(id);
      this.plans.set(id, have);
      return have.plan;
    }
    const plan = this.makePlan(meta);
    const entry = { meta, plan };
    this.plans.set(id, entry);
    plan.catch(() => {
      if (this.plans.get(id) === entry) this.plans.delete(id);
    });
    while (this.plans.size > this.maxPlans) this.plans.delete(this.plans.keys().next().value as Guid);
    return plan;
  }

  /** The init segment (ftyp + moov) of a media object's playable streams. */
  async init(id: Guid): Promise<Uint8Array> {
    const plan = await this.plan(id);
    let init = this.inits.get(plan);
    if (!init) this.inits.set(plan, (init = buildInit(plan.tracks.map((t) => ({ ...t.track, id: t.id })))));
    return init;
  }

  /**
   * Media segment `index` (0-based). `inband` puts the H.264/H.265 parameter sets before every key frame
   * (for channels, whose clips' configurations may differ). RangeError for an index out of the plan.
   */
  async segment(id: Guid, index: number, opts: { inband?: boolean; signal?: AbortSignal } = {}): Promise<MediaSegment> {
    const plan = await this.plan(id);
    if (!Number.isSafeInteger(index) || index < 0 || index >= plan.count) throw new RangeError(`media ${id} has segments 0-${plan.count - 1}, not ${index}`);
    const key = `${id}/${index}/${opts.inband ? 1 : 0}`;
    const have = this.cache.get(key);
    if (have) return have;
    return this.building.run(key, async () => {
      const seg = await this.build(plan, index, opts);
      this.cache.set(key, seg);
      this.built.segments++;
      this.built.bytes += seg.bytes.length;
      return seg;
    });
  }

  private async makePlan(meta: MediaMetadata): Promise<SegmentPlan> {
    const chosen = playableStreams(meta);
    const v = chosen[0]?.kind === 'video' ? chosen[0] : undefined;
    if (!v) return planSegments(meta, undefined, this.target);
    const known = this.frameTimes?.(meta.id, v.index);
    return planSegments(meta, known ?? (await this.scan(meta, v)), this.target);
  }

  /** Frame timing of a stream read through the source, a window at a time (the bytes are dropped). */
  private async scan(meta: MediaMetadata, t: MediaTrack): Promise<FrameTiming[]> {
    const out: FrameTiming[] = [];
    const ts = t.timescale;
    const end = (t.start + t.duration) / ts;
    let last = -1;
    for (let from = t.start / ts; from < end; from += this.scanWindow) {
      const frames = await this.source.frames(meta.id, t.index, from, Math.min(end, from + this.scanWindow));
      for (const f of frames) {
        if (f.sample <= last) continue;
        last = f.sample;
        out.push({ sample: f.sample, dts: f.dts, pts: f.pts, duration: f.duration, key: f.key, size: f.data.length });
      }
    }
    return out;
  }

  private async build(plan: SegmentPlan, index: number, opts: { inband?: boolean; signal?: AbortSignal }): Promise<MediaSegment> {
    const primary = plan.tracks[0].track;
    const last = index === plan.count - 1;
    const lo = plan.cuts[index];
    const hi = plan.cuts[index + 1];
    const trafs = await Promise.all(
      plan.tracks.map(async (pt): Promise<TrackFragment | undefined> => {
        const t = pt.track;
        const ts = t.timescale;
        let frames: SourceFrame[];
        if (t.kind === 'video' && plan.samples) {
          frames = await this.videoFrames(plan, pt, index, opts.signal);
        } else {
          // Frames presented in [lo, hi) of the primary track's time, in this track's ticks; the first segment
          // also takes what comes before (an AAC priming frame), the last what comes after.
          const from = index === 0 ? -Infinity : rescale(lo, primary.timescale, ts);
          const to = last ? Infinity : rescale(hi, primary.timescale, ts);
          const got = await this.source.frames(plan.media, pt.stream, (index === 0 ? t.start : from) / ts, (last ? t.start + t.duration + 1 : to) / ts, { signal: opts.signal });
          frames = got.filter((f) => f.pts >= from && f.pts < to);
        }
        if (frames.length === 0) return undefined;
        const ps = opts.inband && t.kind === 'video' ? parameterSets(t.config) : undefined;
        const hevc = t.config?.format === 'hvcC';
        const samples: FragmentSample[] = frames.map((f) => ({
          data: f.data,
          duration: f.duration,
          cto: f.pts - f.dts - pt.shift,
          key: t.kind === 'audio' || f.key,
          prefix: ps && f.key && !startsWithParameterSet(f.data, ps.lengthSize, hevc) ? ps.prefix : undefined,
        }));
        const base = frames[0].dts + pt.shift;
        if (base < 0) throw new MediaError('CORRUPT', `media ${plan.media} stream ${pt.stream}: decode time ${frames[0].dts} before the track's first`);
        return { id: pt.id, baseDecodeTime: base, samples };
      }),
    );
    const present = trafs.filter((t): t is TrackFragment => t !== undefined);
    if (present.length === 0) throw new MediaError('CORRUPT', `media ${plan.media}: segment ${index} has no frames`);
    const f = buildFragment(index + 1, present);
    return {
      ...f,
      media: plan.media,
      index,
      start: plan.starts[index],
      duration: plan.starts[index + 1] - plan.starts[index],
      timescales: present.map((t) => plan.tracks[t.id - 1].track.timescale),
    };
  }

  /** The video frames of segment `index`: samples [samples[index], samples[index + 1]) exactly. */
  private async videoFrames(plan: SegmentPlan, pt: PlanTrack, index: number, signal?: AbortSignal): Promise<SourceFrame[]> {
    const t = pt.track;
    const ts = t.timescale;
    const s0 = plan.samples![index];
    const s1 = plan.samples![index + 1];
    const from = index === 0 ? Math.min(t.start, plan.cuts[0]) : plan.cuts[index];
    let to = index === plan.count - 1 ? t.start + t.duration + 1 : plan.cuts[index + 1];
    for (let attempt = 0; ; attempt++) {
      const got = await this.source.frames(plan.media, pt.stream, from / ts, to / ts, { signal });
      const frames = got.filter((f) => f.sample >= s0 && f.sample < s1);
      const complete = frames.length === s1 - s0 && frames[0]?.sample === s0;
      if (complete || attempt === 2) {
        if (!complete) throw new MediaError('CORRUPT', `media ${plan.media}: segment ${index} needs video samples ${s0}-${s1 - 1}, the source gave ${frames.length}`);
        return frames;
      }
      to += plan.target * ts; // a frame decoded before the next cut but presented after it (open GOP)
    }
  }
}

function sameTracks(a: MediaMetadata, b: MediaMetadata): boolean {
  if (a.tracks.length !== b.tracks.length || a.duration !== b.duration) return false;
  return a.tracks.every((t, i) => {
    const u = b.tracks[i];
    return t.codec === u.codec && t.timescale === u.timescale && t.frames === u.frames && t.start === u.start && t.duration === u.duration;
  });
}
