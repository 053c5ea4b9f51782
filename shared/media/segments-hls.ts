// HLS playlists (RFC 8216) for segment plans: a VOD media playlist, a master playlist naming its codecs,
// and the general writer the channel playlists use. Pure text; the gateway serves it.
import type { SegmentPlan } from './segments.ts';

export const HLS_VERSION = 7;

export interface PlaylistEntry {
  uri: string;
  /** Seconds. */
  duration: number;
  /** EXT-X-MAP URI to announce before this segment (the first one always gets the current map). */
  map?: string;
  /** EXT-X-DISCONTINUITY before this segment (ignored on the first entry: counted in the sequence instead). */
  discontinuity?: boolean;
  /** EXT-X-PROGRAM-DATE-TIME, epoch milliseconds. */
  programDateTime?: number;
}

export interface Playlist {
  entries: PlaylistEntry[];
  /** VOD: a finished playlist (EXT-X-PLAYLIST-TYPE:VOD, EXT-X-ENDLIST); otherwise live (sliding). */
  vod: boolean;
  mediaSequence?: number;
  discontinuitySequence?: number;
  /** EXT-X-TARGETDURATION; default: the longest entry, rounded (RFC 8216 §4.3.3.1). */
  targetDuration?: number;
}

/** EXTINF seconds: microsecond precision, trailing zeros dropped down to milliseconds ("2.000", "0.033333"). */
export const fmtDuration = (s: number): string => s.toFixed(6).replace(/(\.\d{3}\d*?)0+$/, '$1');

/** RFC 8216: every EXTINF rounded to the nearest integer is at most the target duration. */
export const targetDurationOf = (durations: Iterable<number>): number => {
  let max = 0;
  for (const d of durations) max = Math.max(max, d);
  return Math.max(1, Math.round(max));
};

export function writePlaylist(p: Playlist): string {
  const target = p.targetDuration ?? targetDurationOf(p.entries.map((e) => e.duration));
  const out = ['#EXTM3U', `#EXT-X-VERSION:${HLS_VERSION}`, `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence ?? 0}`];
  if (p.discontinuitySequence) out.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  if (p.vod) out.push('#EXT-X-PLAYLIST-TYPE:VOD');
  out.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let map: string | undefined;
  p.entries.forEach((e, i) => {
    if (i > 0 && e.discontinuity) out.push('#EXT-X-DISCONTINUITY');
    if (e.map !== undefined && e.map !== map) {
      map = e.map;
      out.push(`#EXT-X-MAP:URI="${quoted(e.map)}"`);
    }
    if (e.programDateTime !== undefined) out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(e.programDateTime).toISOString()}`);
    out.push(`#EXTINF:${fmtDuration(e.duration)},`, e.uri);
  });
  if (p.vod) out.push('#EXT-X-ENDLIST');
  return out.join('\n') + '\n';
}

/** The VOD media playlist of a plan: init.mp4 and seg-<n>.m4s beside it. */
export function mediaPlaylist(plan: SegmentPlan, uris: { init?: string; segment?: (i: number) => string } = {}): string {
  const seg = uris.segment ?? ((i: number) => `seg-${i}.m4s`);
  const entries: PlaylistEntry[] = [];
  for (let i = 0; i < plan.count; i++) entries.push({ uri: seg(i), duration: plan.starts[i + 1] - plan.starts[i], map: uris.init ?? 'init.mp4' });
  return writePlaylist({ entries, vod: true, targetDuration: targetDurationOf(entries.map((e) => e.duration)) });
}

/** A master playlist with one variant: the media playlist, its codecs, resolution, frame rate and bit rates. */
export function masterPlaylist(plan: SegmentPlan, uri = 'index.m3u8'): string {
  let peak = 0;
  let total = 0;
  for (let i = 0; i < plan.count; i++) {
    const d = plan.starts[i + 1] - plan.starts[i];
    total += plan.bytes[i];
    if (d > 0) peak = Math.max(peak, (8 * plan.bytes[i]) / Math.max(d, 0.5));
  }
  const average = plan.duration > 0 ? (8 * total) / plan.duration : peak;
  const attrs = [`BANDWIDTH=${Math.ceil(Math.max(peak, average, 1))}`, `AVERAGE-BANDWIDTH=${Math.ceil(Math.max(average, 1))}`, `CODECS="${plan.codecs.join(',')}"`];
  const v = plan.tracks.find((t) => t.track.kind === 'video')?.track;
  if (v?.width && v.height) attrs.push(`RESOLUTION=${v.width}x${v.height}`);
  if (v && v.duration > 0) attrs.push(`FRAME-RATE=${((v.frames * v.timescale) / v.duration).toFixed(3)}`);
  return ['#EXTM3U', `#EXT-X-VERSION:${HLS_VERSION}`, '#EXT-X-INDEPENDENT-SEGMENTS', `#EXT-X-STREAM-INF:${attrs.join(',')}`, uri, ''].join('\n');
}

const quoted = (s: string): string => s.replace(/["\r\n]/g, encodeURIComponent);
