// What the editors check before anything is sent, and the ops they send: times typed in seconds, a clip's
// range, a channel's name, moving a clip. Pure functions (no DOM, no lit), tested in Node
// (tests/unit/web/edit-input.test.ts). The server checks everything again; these only spare a round trip
// and say what is wrong next to the field.
import { CHANNEL_NAME } from '../../../shared/media/channel.ts';
import { MAX_MS } from '../../../shared/media/playlist-xml.ts';
import { formatMs } from '../core/format.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const TIME_HINT = 'seconds (12.5) or minutes:seconds (1:30)';

/**
 * A time in a media as typed: "" (not given), "12", "12.5", "12,5", "12s", "1:30", "1:02:03.5". Milliseconds,
 * rounded; undefined when empty.
 */
export function parseSeconds(text: string): Parsed<number | undefined> {
  const t = text.trim().replace(',', '.');
  if (t === '') return { ok: true, value: undefined };
  let seconds: number | undefined;
  const plain = /^(\d+(?:\.\d*)?|\.\d+)\s*s?$/.exec(t);
  const clock = /^(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d*)?)$/.exec(t);
  if (plain) seconds = Number(plain[1]);
  else if (clock) {
    const [, h, m, s] = clock;
    if (Number(s) >= 60 || (h !== undefined && Number(m) >= 60)) return { ok: false, error: `"${text.trim()}": seconds and minutes go up to 59` };
    seconds = Number(h ?? 0) * 3600 + Number(m) * 60 + Number(s);
  }
  if (seconds === undefined || !Number.isFinite(seconds)) return { ok: false, error: `"${text.trim()}" is not a time: use ${TIME_HINT}` };
  const ms = Math.round(seconds * 1000);
  if (ms > MAX_MS) return { ok: false, error: `"${text.trim()}" is too large` };
  return { ok: true, value: ms };
}

/** Milliseconds as an input's text, in seconds: 8000 → "8", 12500 → "12.5", undefined → "". */
export const formatSeconds = (ms: number | undefined): string => (ms === undefined ? '' : String(ms / 1000));

export interface ClipRange {
  startMs: number;
  /** Undefined: to the end of the media. */
  endMs: number | undefined;
}

export type RangeCheck = { ok: true; value: ClipRange } | { ok: false; field: 'start' | 'end'; error: string };

/**
 * A clip's start and end as typed (seconds; empty start: 0, empty end: to the end of the media), checked
 * like the server does: start before end, start before the end of the media when its length is known.
 */
export function clipRange(startText: string, endText: string, mediaMs?: number): RangeCheck {
  const start = parseSeconds(startText);
  if (!start.ok) return { ok: false, field: 'start', error: `Start: ${start.error}` };
  const end = parseSeconds(endText);
  if (!end.ok) return { ok: false, field: 'end', error: `End: ${end.error}` };
  const startMs = start.value ?? 0;
  const endMs = end.value;
  if (endMs !== undefined && endMs <= startMs) return { ok: false, field: 'end', error: `End (${seconds(endMs)}) must be after start (${seconds(startMs)})` };
  if (mediaMs !== undefined && startMs >= mediaMs) return { ok: false, field: 'start', error: `Start (${seconds(startMs)}) is past the end of the media (${formatMs(mediaMs)})` };
  return { ok: true, value: { startMs, endMs } };
}

const seconds = (ms: number): string => `${formatSeconds(ms)} s`;

/** Why a channel name would be refused, or undefined when it is well formed (whether it is free is the server's to say). */
export function channelNameProblem(name: string): string | undefined {
  if (name === '') return 'A name is required';
  if (!CHANNEL_NAME.test(name)) return 'Use 1 to 64 of a–z, 0–9, "-" and "_", starting with a letter or digit (it is part of the channel\'s address)';
  return undefined;
}

export interface ClipRef {
  clip: string;
  media: string;
  title: string;
  startMs: number;
  endMs: number | undefined;
}

export type PlaylistOp =
  | { op: 'add'; media: string; startMs?: number; endMs?: number; title?: string; position?: number }
  | { op: 'remove'; clip: string }
  | { op: 'set'; clip: string; startMs?: number; endMs?: number | null; title?: string }
  | { op: 'rename'; title: string };

export type ChannelOp = { op: 'add'; playlist: string; position?: number } | { op: 'remove'; playlist: string } | { op: 'set'; title?: string; mode?: 'live' | 'on-demand'; startMs?: number };

/**
 * Moving clip `index` by `delta` (-1 up, +1 down): the API has no move, so one request removes it and adds
 * the same stretch at its new place (a new clip id). `mediaTitle` is the title of the clip's media: a
 * clip titled the same has no title of its own, and must not get one. Undefined when it cannot move.
 */
export function moveClipOps(clips: readonly ClipRef[], index: number, delta: -1 | 1, mediaTitle: string | undefined): PlaylistOp[] | undefined {
  const c = clips[index];
  const to = index + delta;
  if (!c || to < 0 || to >= clips.length) return undefined;
  const add: PlaylistOp = { op: 'add', media: c.media, startMs: c.startMs, position: to };
  if (c.endMs !== undefined) add.endMs = c.endMs;
  if (c.title && c.title !== mediaTitle && c.title !== c.media.slice(0, 8)) add.title = c.title;
  return [{ op: 'remove', clip: c.clip }, add];
}

/** The set op that changes a clip's range, or undefined when nothing changes (an end cleared: null, to the end). */
export function trimOp(c: ClipRef, range: ClipRange): PlaylistOp | undefined {
  const op: { op: 'set'; clip: string; startMs?: number; endMs?: number | null } = { op: 'set', clip: c.clip };
  if (range.startMs !== c.startMs) op.startMs = range.startMs;
  if (range.endMs !== c.endMs) op.endMs = range.endMs ?? null;
  return op.startMs === undefined && op.endMs === undefined ? undefined : op;
}

/** Whether the page's version of an object (a HLC timestamp as a decimal string) is at least the one the server answered. */
export function atLeast(version: string | undefined, answered: string): boolean {
  if (version === undefined) return false;
  try {
    return BigInt(version) >= BigInt(answered);
  } catch {
    return version === answered;
  }
}
