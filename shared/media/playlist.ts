// Playlists: business objects of STU type PLAYLIST (0x0102). A playlist is an ordered list of clips, each a
// stretch [start, end) of one media object. Every STU of its chain carries one XML command: the first one
// creates it (and may add clips), the next ones add, remove and change clips or rename it. Format and
// policy in docs/MEDIA.md ("Playlists, channels, usage").
//
// Policy: merge. Two servers that edit the same version of a playlist (each adds a clip) collide; merge
// applies both, in (ts, origin, seq) order, so both clips survive on every server. Ops refer to clips by
// their id, not by position, so a concurrent insertion does not make a remove hit the wrong clip; an op on
// a clip that a concurrent STU removed is skipped. A command whose op would break the playlist (start ≥ end
// once a concurrent change is applied, a duplicate clip id) is rejected whole, the same way everywhere.
import type { StateApp } from '../state/types.ts';
import type { Guid } from '../stu/guid.ts';
import { type Stu, isSummary } from '../stu/header.ts';
import { badCommand, CommandError } from './playlist-errors.ts';
import { AttrReader, buildCommand, type CommandLimits, type Op, parseCommand } from './playlist-xml.ts';
import { PLAYLIST } from './stu-types.ts';

/** A playlist command's body: at most 8 MiB and 1024 ops (a summary of MAX_CLIPS clips with long titles fits). */
export const PLAYLIST_LIMITS: CommandLimits = { maxBytes: 8 * 1024 * 1024, maxOps: 1024 };
/** Clips in one playlist. */
export const MAX_CLIPS = 1000;
/** A clip id: what remove and set name. Chosen by the writer (8 random characters). */
export const CLIP_ID = /^[A-Za-z0-9_-]{1,32}$/;

export interface PlaylistClip {
  /** Stable id within the playlist. */
  clip: string;
  media: Guid;
  /** Milliseconds into the media. */
  startMs: number;
  /** Milliseconds into the media; undefined: to the end of the media. */
  endMs?: number;
  /** Empty: the media's title. */
  title: string;
}

export interface PlaylistState {
  id: Guid;
  title: string;
  clips: readonly PlaylistClip[];
}

export type PlaylistOp =
  | { op: 'create'; title: string }
  | { op: 'add'; clip: string; media: Guid; startMs: number; endMs?: number; title?: string; position?: number }
  | { op: 'remove'; clip: string }
  /** endMs null: to the end of the media again. */
  | { op: 'set'; clip: string; startMs?: number; endMs?: number | null; title?: string }
  | { op: 'rename'; title: string };

// ------------------------------------------------------------------------------------------- the XML

/** The body of a PLAYLIST STU. Throws CommandError (TOO_LARGE) or TypeError for ops that are not valid. */
export function encodePlaylistCommand(object: Guid, ops: readonly PlaylistOp[]): Uint8Array {
  return buildCommand('playlist', object, {}, ops.map(toXml), PLAYLIST_LIMITS);
}

function toXml(o: PlaylistOp): Op {
  const ms = (n: number) => String(n);
  switch (o.op) {
    case 'create':
      return { name: 'create', attrs: { title: o.title } };
    case 'add': {
      const a: Record<string, string> = { clip: o.clip, media: o.media, start: ms(o.startMs) };
      if (o.endMs !== undefined) a.end = ms(o.endMs);
      if (o.title) a.title = o.title;
      if (o.position !== undefined) a.position = String(o.position);
      return { name: 'add', attrs: a };
    }
    case 'remove':
      return { name: 'remove', attrs: { clip: o.clip } };
    case 'set': {
      const a: Record<string, string> = { clip: o.clip };
      if (o.startMs !== undefined) a.start = ms(o.startMs);
      if (o.endMs !== undefined) a.end = o.endMs === null ? '' : ms(o.endMs);
      if (o.title !== undefined) a.title = o.title;
      return { name: 'set', attrs: a };
    }
    case 'rename':
      return { name: 'rename', attrs: { title: o.title } };
    default:
      throw new TypeError(`unknown playlist op ${(o as { op: string }).op}`);
  }
}

/** Parses a PLAYLIST STU body. Throws CommandError. */
export function parsePlaylistCommand(body: Uint8Array): { object: Guid; ops: PlaylistOp[] } {
  const cmd = parseCommand(body, 'playlist', PLAYLIST_LIMITS);
  for (const a of Object.keys(cmd.attrs)) throw badCommand(`<playlist>: unknown attribute ${a}`);
  if (cmd.ops.length === 0) throw badCommand('a playlist command without ops');
  return { object: cmd.object, ops: cmd.ops.map(readOp) };
}

function readOp(o: Op, i: number): PlaylistOp {
  const where = `op ${i + 1} <${o.name}>`;
  switch (o.name) {
    case 'create':
      return { op: 'create', title: new AttrReader(where, o.attrs, ['title']).title('title') };
    case 'rename':
      return { op: 'rename', title: new AttrReader(where, o.attrs, ['title']).title('title') };
    case 'add': {
      const r = new AttrReader(where, o.attrs, ['clip', 'media', 'start', 'end', 'title', 'position']);
      const add: PlaylistOp = { op: 'add', clip: r.match('clip', CLIP_ID, 'a clip id'), media: r.guid('media'), startMs: r.ms('start') };
      if (r.has('end')) add.endMs = r.ms('end');
      if (r.has('title')) add.title = r.title('title');
      if (r.has('position')) add.position = r.uint('position', MAX_CLIPS);
      return add;
    }
    case 'remove':
      return { op: 'remove', clip: new AttrReader(where, o.attrs, ['clip']).match('clip', CLIP_ID, 'a clip id') };
    case 'set': {
      const r = new AttrReader(where, o.attrs, ['clip', 'start', 'end', 'title']);
      const set: PlaylistOp = { op: 'set', clip: r.match('clip', CLIP_ID, 'a clip id') };
      if (r.has('start')) set.startMs = r.ms('start');
      if (r.has('end')) set.endMs = r.str('end') === '' ? null : r.ms('end');
      if (r.has('title')) set.title = r.title('title');
      if (set.startMs === undefined && set.endMs === undefined && set.title === undefined) throw badCommand(`${where}: changes nothing`);
      return set;
    }
    default:
      throw badCommand(`${where}: unknown op (create, add, remove, set, rename)`);
  }
}

// ------------------------------------------------------------------------------------------- applying

/**
 * The playlist after `ops`: pure, deterministic, never mutates `state`. Throws CommandError for a command
 * that cannot apply (the engine rejects the whole STU). Ops on a clip that is not there are skipped.
 */
export function applyPlaylistOps(id: Guid, state: PlaylistState | undefined, ops: readonly PlaylistOp[]): PlaylistState {
  let title = state?.title;
  const clips = state ? [...state.clips] : [];
  for (const [i, o] of ops.entries()) {
    const where = `op ${i + 1} (${o.op})`;
    if (o.op === 'create') {
      if (title !== undefined) throw badCommand(`${where}: the playlist exists already`);
      title = o.title;
      continue;
    }
    if (title === undefined) throw badCommand(`${where}: the playlist is not created yet (its first op must be create)`);
    switch (o.op) {
      case 'rename':
        title = o.title;
        continue;
      case 'add': {
        if (clips.some((c) => c.clip === o.clip)) throw badCommand(`${where}: clip ${o.clip} is in the playlist already`);
        if (clips.length >= MAX_CLIPS) throw new CommandError('TOO_LARGE', `${where}: a playlist holds at most ${MAX_CLIPS} clips`);
        checkSpan(where, o.startMs, o.endMs);
        const clip: PlaylistClip = { clip: o.clip, media: o.media, startMs: o.startMs, title: o.title ?? '' };
        if (o.endMs !== undefined) clip.endMs = o.endMs;
        clips.splice(Math.min(o.position ?? clips.length, clips.length), 0, clip);
        continue;
      }
      case 'remove': {
        const at = clips.findIndex((c) => c.clip === o.clip);
        if (at >= 0) clips.splice(at, 1);
        continue;
      }
      case 'set': {
        const at = clips.findIndex((c) => c.clip === o.clip);
        if (at < 0) continue; // removed by a concurrent command
        const c = { ...clips[at] };
        if (o.startMs !== undefined) c.startMs = o.startMs;
        if (o.endMs === null) delete c.endMs;
        else if (o.endMs !== undefined) c.endMs = o.endMs;
        if (o.title !== undefined) c.title = o.title;
        checkSpan(where, c.startMs, c.endMs);
        clips[at] = c;
        continue;
      }
      default:
        throw badCommand(`${where}: unknown op`);
    }
  }
  if (title === undefined) throw badCommand('the playlist is not created yet (its first op must be create)');
  return { id, title, clips };
}

function checkSpan(where: string, startMs: number, endMs: number | undefined): void {
  if (endMs !== undefined && startMs >= endMs) throw new CommandError('BAD_INPUT', `${where}: start ${startMs} ms is not before end ${endMs} ms`);
}

export const playlistApp: StateApp<PlaylistState> = {
  types: [PLAYLIST],
  policy: 'merge',
  apply(state, stu: Stu) {
    const cmd = parsePlaylistCommand(stu.body);
    if (cmd.object !== stu.header.object) throw badCommand(`a command for ${cmd.object} in an STU of object ${stu.header.object}`);
    return applyPlaylistOps(stu.header.object, isSummary(stu.header) ? undefined : state, cmd.ops);
  },
  /** The whole playlist as one command: create, then every clip in order. */
  summarize: (s) =>
    encodePlaylistCommand(s.id, [
      { op: 'create', title: s.title },
      ...s.clips.map((c): PlaylistOp => ({ op: 'add', clip: c.clip, media: c.media, startMs: c.startMs, endMs: c.endMs, title: c.title || undefined })),
    ]),
};

/** The clip's title as a player shows it: its own, else the media's. */
export const clipTitle = (c: PlaylistClip, mediaTitle: (id: Guid) => string | undefined): string => c.title || mediaTitle(c.media) || '';
