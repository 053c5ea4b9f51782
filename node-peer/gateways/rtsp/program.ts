// What an RTSP URL plays: a media object (its tracks, from any time) or a channel (its clips in order; a live
// channel at the position every viewer shares). A program describes its streams for the SDP and lists the
// segments (a stretch of one media object) a play from a given npt goes through, in order.
import type { MediaMetadata, MediaTrack } from '../../../shared/media/metadata.ts';
import { payloadFormat, type PayloadFormat } from '../../../shared/media/rtp/index.ts';
import { type ChannelSchedule, scheduleLengthMs } from '../../../shared/media/schedule.ts';
import { type Guid, isGuid } from '../../../shared/stu/guid.ts';
import type { MediaSource } from '../../media/frames.ts';

/** One m= section: a stream of the program. */
export interface StreamSpec {
  /** Position in the SDP; the control URL is "trackID=<id>". */
  id: number;
  kind: 'video' | 'audio';
  format: PayloadFormat;
  payloadType: number;
  /** Media targets: the media stream index. */
  track?: number;
}

/** A stretch [from, to) seconds of one media object, and which of its streams feed each StreamSpec. */
export interface Segment {
  media: Guid;
  from: number;
  to: number;
  /** Media stream index per StreamSpec id; undefined: that stream has nothing in this segment. */
  tracks: (number | undefined)[];
  /** The program time (npt) of `from`, as scheduled. */
  at: number;
}

export interface Program {
  readonly path: string;
  readonly title: string;
  /** Live channel: npt is "now", viewers share one position, the clips loop. */
  readonly live: boolean;
  /** Length in npt seconds, when finite. */
  readonly duration?: number;
  /** Live channels: seconds of one pass through the clips (npt keeps counting across passes). */
  readonly cycle?: number;
  readonly streams: StreamSpec[];
  readonly media?: Guid;
  readonly channel?: string;
  /** The segments of a play from npt `start` (ignored when live) to npt `end`. */
  segments(start: number, end?: number): Iterator<Segment>;
}

export type Resolved = { ok: true; program: Program; stream?: number } | { ok: false; status: number; reason: string };

/** Resolves a request path: /media/<id>[/trackID=N] or /channel/<name>[/trackID=N]. */
export function resolve(path: string, source: MediaSource, schedules?: (name: string) => ChannelSchedule | undefined, clock: () => number = Date.now): Resolved {
  const m = /^\/(media|channel)\/([^/]+)(?:\/(?:trackID=(\d{1,3}))?)?$/.exec(path);
  if (!m) return { ok: false, status: 404, reason: `no such resource ${path.slice(0, 128)} (rtsp://HOST:PORT/media/<id> or /channel/<name>)` };
  let name: string;
  try {
    name = decodeURIComponent(m[2]);
  } catch {
    return { ok: false, status: 400, reason: 'bad percent-encoding in the path' };
  }
  const stream = m[3] !== undefined ? Number(m[3]) : undefined;
  const made = m[1] === 'media' ? mediaProgram(name, source) : channelProgram(name, source, schedules, clock);
  if (!made.ok) return made;
  if (stream !== undefined && !made.program.streams.some((s) => s.id === stream)) return { ok: false, status: 404, reason: `no stream ${stream} in ${made.program.path}` };
  return { ok: true, program: made.program, stream };
}

type Made = { ok: true; program: Program } | { ok: false; status: number; reason: string };

function specsOf(tracks: MediaTrack[]): { specs: StreamSpec[]; skipped: string[] } {
  const specs: StreamSpec[] = [];
  const skipped: string[] = [];
  for (const t of tracks) {
    const f = payloadFormat(t);
    if (!f.ok) {
      skipped.push(f.error.message);
      continue;
    }
    specs.push({ id: specs.length, kind: t.kind, format: f.value, payloadType: f.value.staticPayloadType ?? 96 + specs.length, track: t.index });
  }
  return { specs, skipped };
}

function mediaProgram(id: string, source: MediaSource): Made {
  const meta = isGuid(id) ? source.metadata(id) : undefined;
  if (!meta) return { ok: false, status: 404, reason: `no media ${id.slice(0, 64)}` };
  const { specs, skipped } = specsOf(meta.tracks);
  if (specs.length === 0) return { ok: false, status: 415, reason: `nothing in media ${id} can be sent over RTP: ${skipped.join('; ')}` };
  const media = meta.id;
  const duration = meta.duration;
  return {
    ok: true,
    program: {
      path: `/media/${media}`,
      title: meta.title,
      live: false,
      duration,
      streams: specs,
      media,
      *segments(start: number, end?: number) {
        const to = Math.min(end ?? duration, duration);
        if (start < to) yield { media, from: start, to, tracks: specs.map((s) => s.track), at: start };
      },
    },
  };
}

/** A clip's stream for each spec: its first track of the same kind whose RTP format matches the spec's. */
export function mapTracks(meta: MediaMetadata, specs: StreamSpec[]): (number | undefined)[] {
  const used = new Set<number>();
  return specs.map((s) => {
    for (const t of meta.tracks) {
      if (t.kind !== s.kind || used.has(t.index)) continue;
      const f = payloadFormat(t);
      if (!f.ok || f.value.encoding !== s.format.encoding || f.value.clockRate !== s.format.clockRate) continue;
      // Audio decoders cannot switch configuration mid-stream; video carries its parameter sets in-band.
      if (s.kind === 'audio' && f.value.fmtp !== s.format.fmtp) continue;
      used.add(t.index);
      return t.index;
    }
    return undefined;
  });
}

function channelProgram(name: string, source: MediaSource, schedules: ((name: string) => ChannelSchedule | undefined) | undefined, clock: () => number): Made {
  const schedule = schedules?.(name);
  if (!schedule) return { ok: false, status: 404, reason: `no channel ${name.slice(0, 64)}` };
  const clips = schedule.clips.filter((c) => c.endMs > c.startMs);
  const lengthMs = scheduleLengthMs({ clips });
  const first = clips.map((c) => source.metadata(c.media)).find((m) => m !== undefined);
  if (!first || lengthMs <= 0) return { ok: false, status: 404, reason: `channel ${name.slice(0, 64)} has no playable clip here` };
  // The first video and the first audio stream of the first clip held here define the channel's streams.
  const { specs: all } = specsOf(first.tracks);
  const specs = [all.find((s) => s.kind === 'video'), all.find((s) => s.kind === 'audio')]
    .filter((s): s is StreamSpec => s !== undefined)
    .map((s, i) => ({ ...s, id: i, track: undefined, payloadType: s.format.staticPayloadType ?? 96 + i }));
  if (specs.length === 0) return { ok: false, status: 415, reason: `the clips of channel ${name} have no stream that can be sent over RTP` };
  const length = lengthMs / 1000;
  const segmentsFrom = function* (cycle: number, index: number, offsetMs: number, end: number) {
    const cum: number[] = [];
    let acc = 0;
    for (const c of clips) {
      cum.push(acc);
      acc += c.endMs - c.startMs;
    }
    let sinceHeld = 0;
    for (let i = index, off = offsetMs; ; i++, off = 0) {
      if (i === clips.length) {
        if (!schedule.live) return;
        i = 0;
        cycle++;
      }
      const c = clips[i];
      const at = cycle * length + (cum[i] + off) / 1000;
      if (at >= end) return;
      const meta = source.metadata(c.media);
      const tracks = meta ? mapTracks(meta, specs) : [];
      if (!meta || tracks.every((t) => t === undefined)) {
        if (++sinceHeld > clips.length) return; // a whole cycle with nothing to play
        continue;
      }
      sinceHeld = 0;
      const from = (c.startMs + off) / 1000;
      const to = Math.min(c.endMs / 1000, from + (end - at));
      yield { media: c.media, from, to, tracks, at };
    }
  };
  return {
    ok: true,
    program: {
      path: `/channel/${encodeURIComponent(name)}`,
      title: name,
      live: schedule.live,
      duration: schedule.live ? undefined : length,
      cycle: schedule.live ? length : undefined,
      streams: specs,
      channel: name,
      segments(start: number, end?: number) {
        // Live: where the schedule is now, on a timeline that keeps counting across cycles (so RTP time never
        // goes back when the clips loop). On demand: npt `start` of the channel's own timeline.
        const pos = schedule.live ? Math.max(0, clock() - schedule.startedAt) : Math.max(0, start * 1000);
        const cycle = schedule.live ? Math.floor(pos / lengthMs) : 0;
        let inCycle = pos - cycle * lengthMs;
        let i = 0;
        for (; i < clips.length; i++) {
          const len = clips[i].endMs - clips[i].startMs;
          if (inCycle < len) break;
          inCycle -= len;
        }
        if (i === clips.length) return (function* () {})();
        return segmentsFrom(cycle, i, inCycle, schedule.live ? Infinity : Math.min(end ?? length, length));
      },
    },
  };
}
