// A channel's segments: the clips of its schedule, each cut to the media segments that cover it, laid end to
// end on the channel's own timeline. On demand, a viewer plays one pass from the start; live, everyone sees
// the same moment: position = (now - startedAt) mod the length of one pass, segments numbered across passes
// (sequence g = pass * segments per pass + i). Pure: plans and inits come from a Segmenter.
import type { Guid } from '../stu/guid.ts';
import type { ChannelSchedule } from './schedule.ts';
import type { SegmentPlan } from './segments.ts';
import { type PlaylistEntry, targetDurationOf, writePlaylist } from './segments-hls.ts';

export interface ChannelEntry {
  /** Index of the clip in the schedule. */
  clip: number;
  media: Guid;
  /** The media segment. */
  index: number;
  /** Channel seconds from the start of a pass. */
  start: number;
  duration: number;
  /** Channel time minus media time for this clip, seconds (add pass * length on later passes). */
  delta: number;
  /** Media whose init segment this entry uses (the first clip's media with the same init bytes). */
  map: Guid;
  /** A discontinuity before this entry: its init differs from the one before (entry 0: from the pass's last). */
  discontinuity: boolean;
}

export interface ChannelTimeline {
  name: string;
  live: boolean;
  startedAt: number;
  entries: ChannelEntry[];
  /** Seconds of one pass: clips snap outward to the media's segment boundaries. */
  length: number;
  targetDuration: number;
  /** Clips left out, and why (unknown media, nothing playable). */
  skipped: Array<{ clip: number; media: Guid; reason: string }>;
  /** cum[i]: discontinuities at entries 1..i of a pass. */
  cum: number[];
}

export interface ChannelSegmentRef {
  entry: ChannelEntry;
  /** Pass number (live), 0 on demand. */
  pass: number;
  /** Seconds to add to each media time of the segment (channel time of the pass included). */
  delta: number;
}

/** Lays out a schedule's clips. `plan` and `init` come from a Segmenter; a clip whose plan fails is skipped. */
export async function channelTimeline(
  schedule: ChannelSchedule,
  seg: { plan(id: Guid): Promise<SegmentPlan>; init(id: Guid): Promise<Uint8Array> },
): Promise<ChannelTimeline> {
  const entries: ChannelEntry[] = [];
  const skipped: ChannelTimeline['skipped'] = [];
  const groups: Array<{ media: Guid; init: Uint8Array }> = [];
  let at = 0;
  let prevMap: Guid | undefined;
  for (const [clip, c] of schedule.clips.entries()) {
    let plan: SegmentPlan;
    let init: Uint8Array;
    try {
      plan = await seg.plan(c.media);
      init = await seg.init(c.media);
    } catch (e) {
      skipped.push({ clip, media: c.media, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const [first, last] = clipSegments(plan, c.startMs / 1000, c.endMs / 1000);
    if (first > last) {
      skipped.push({ clip, media: c.media, reason: `clip ${c.startMs}-${c.endMs} ms is outside the media (${plan.duration} s)` });
      continue;
    }
    let group = groups.find((g) => sameBytes(g.init, init));
    if (!group) groups.push((group = { media: c.media, init }));
    const delta = at - plan.starts[first];
    for (let i = first; i <= last; i++) {
      const duration = plan.starts[i + 1] - plan.starts[i];
      entries.push({ clip, media: c.media, index: i, start: at, duration, delta, map: group.media, discontinuity: i === first && prevMap !== undefined && prevMap !== group.media });
      at += duration;
    }
    prevMap = group.media;
  }
  if (entries.length) entries[0].discontinuity = entries[0].map !== entries[entries.length - 1].map;
  const cum: number[] = [];
  let n = 0;
  entries.forEach((e, i) => cum.push((n += i > 0 && e.discontinuity ? 1 : 0)));
  return {
    name: schedule.name,
    live: schedule.live,
    startedAt: schedule.startedAt,
    entries,
    length: at,
    targetDuration: targetDurationOf(entries.map((e) => e.duration)),
    skipped,
    cum,
  };
}

/** The media segments a clip [start, end) seconds needs: from the one holding `start` to the one holding the last instant before `end`. */
export function clipSegments(plan: SegmentPlan, start: number, end: number): [number, number] {
  if (!(end > start) || start >= plan.duration || end <= 0) return [0, -1];
  return [segmentAt(plan, Math.max(0, start)), segmentAt(plan, Math.min(end, plan.duration) - 1e-9)];
}

/** The segment presented at t seconds (the last whose start is at or before t). */
export function segmentAt(plan: SegmentPlan, t: number): number {
  let lo = 0;
  let hi = plan.count - 1;
  while (lo < hi) {
    const m = (lo + hi + 1) >>> 1;
    if (plan.starts[m] <= t) lo = m;
    else hi = m - 1;
  }
  return lo;
}

/** Sequence number g to its entry; undefined past the end (on demand) or for an empty channel. */
export function channelSegment(tl: ChannelTimeline, g: number): ChannelSegmentRef | undefined {
  const k = tl.entries.length;
  if (k === 0 || !Number.isSafeInteger(g) || g < 0) return undefined;
  const pass = Math.floor(g / k);
  if (!tl.live && pass > 0) return undefined;
  const entry = tl.entries[g % k];
  return { entry, pass, delta: pass * tl.length + entry.delta };
}

/** Discontinuities up to and including sequence g (the discontinuity sequence number of segment g). */
export function discontinuitySequence(tl: ChannelTimeline, g: number): number {
  const k = tl.entries.length;
  const pass = Math.floor(g / k);
  const perPass = tl.cum[k - 1] + (tl.entries[0].discontinuity ? 1 : 0);
  return pass * perPass + tl.cum[g % k];
}

export interface ChannelPlaylistOptions {
  /** Epoch milliseconds now (live). */
  now: number;
  /** Live: segments in the sliding window. Default 6. */
  window?: number;
  /** URI of segment g and of a media's init segment. */
  segmentUri?: (g: number) => string;
  initUri?: (media: Guid) => string;
}

/** The channel's playlist: on demand, one pass as VOD; live, the window ending with the segment playing now. Undefined before a live channel starts. */
export function channelPlaylist(tl: ChannelTimeline, opts: ChannelPlaylistOptions): string | undefined {
  const seg = opts.segmentUri ?? ((g: number) => `seg-${g}.m4s`);
  const init = opts.initUri ?? ((m: Guid) => `init-${m}.mp4`);
  const k = tl.entries.length;
  const entry = (g: number, withDate: boolean): PlaylistEntry => {
    const r = channelSegment(tl, g)!;
    return {
      uri: seg(g),
      duration: r.entry.duration,
      map: init(r.entry.map),
      discontinuity: g % k === 0 ? g > 0 && r.entry.discontinuity : r.entry.discontinuity,
      programDateTime: withDate ? tl.startedAt + (r.pass * tl.length + r.entry.start) * 1000 : undefined,
    };
  };
  if (!tl.live) {
    return writePlaylist({ vod: true, targetDuration: tl.targetDuration, entries: tl.entries.map((_, i) => entry(i, false)) });
  }
  const now = liveSequence(tl, opts.now);
  if (now === undefined) return undefined;
  const first = Math.max(0, now - (opts.window ?? 6) + 1);
  const entries: PlaylistEntry[] = [];
  for (let g = first; g <= now; g++) entries.push(entry(g, true));
  return writePlaylist({ vod: false, targetDuration: tl.targetDuration, mediaSequence: first, discontinuitySequence: discontinuitySequence(tl, first), entries });
}

/** The sequence number of the segment playing at `now` on a live channel; undefined before it starts or when empty. */
export function liveSequence(tl: ChannelTimeline, now: number): number | undefined {
  const k = tl.entries.length;
  const elapsed = (now - tl.startedAt) / 1000;
  if (k === 0 || !(tl.length > 0) || elapsed < 0) return undefined;
  const pass = Math.floor(elapsed / tl.length);
  const pos = elapsed - pass * tl.length;
  let lo = 0;
  let hi = k - 1;
  while (lo < hi) {
    const m = (lo + hi + 1) >>> 1;
    if (tl.entries[m].start <= pos) lo = m;
    else hi = m - 1;
  }
  return pass * k + lo;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
