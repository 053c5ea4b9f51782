// Channels: business objects of STU type CHANNEL (0x0103). A channel has a unique, URL-safe name (what
// players tune to: /hls/channel/NAME, rtsp://HOST/channel/NAME), a title, a mode (live: every viewer sees
// the same moment, counted from a start time; on-demand: each viewer starts at the beginning) and an
// ordered list of playlists. Commands and policy: docs/MEDIA.md ("Playlists, channels, usage").
//
// Policy: merge, as for playlists: two servers adding a playlist to the same version both count; two `set`s
// of the mode apply in (ts, origin, seq) order, so the later one holds everywhere.
//
// Names are unique in a distributed way: a server refuses to create a channel under a name it knows, but two
// servers can create the same name at once. Then the channel created first (its create STU's timestamp, then
// its GUID) owns the name on every server; the other is listed as shadowed and is not played by name.
import type { StateEngine } from '../state/engine.ts';
import type { BusinessObject, StateApp } from '../state/types.ts';
import type { Guid } from '../stu/guid.ts';
import { isSummary, type Stu } from '../stu/header.ts';
import type { Hlc } from '../stu/hlc.ts';
import type { MediaMetadata } from './metadata.ts';
import { badCommand } from './playlist-errors.ts';
import { AttrReader, buildCommand, type CommandLimits, type Op, parseCommand } from './playlist-xml.ts';
import type { PlaylistState } from './playlist.ts';
import type { ChannelSchedule, Clip } from './schedule.ts';
import { CHANNEL, MEDIA_META, PLAYLIST } from './stu-types.ts';

export const CHANNEL_LIMITS: CommandLimits = { maxBytes: 256 * 1024, maxOps: 1024 };
/** Playlists in one channel. */
export const MAX_PLAYLISTS = 256;
/** A channel name: lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64. */
export const CHANNEL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const CHANNEL_MODES = ['live', 'on-demand'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

export interface ChannelState {
  id: Guid;
  name: string;
  title: string;
  mode: ChannelMode;
  /** Epoch milliseconds a live channel's schedule starts at (required when live). */
  startMs?: number;
  playlists: readonly Guid[];
  /** Timestamp of the create STU: who owns the name when two channels claim it. */
  created: Hlc;
}

export type ChannelOp =
  | { op: 'create'; name: string; title: string; mode: ChannelMode; startMs?: number; created?: Hlc }
  | { op: 'add'; playlist: Guid; position?: number }
  | { op: 'remove'; playlist: Guid }
  | { op: 'set'; title?: string; mode?: ChannelMode; startMs?: number };

// ------------------------------------------------------------------------------------------- the XML

export function encodeChannelCommand(object: Guid, ops: readonly ChannelOp[]): Uint8Array {
  return buildCommand('channel', object, {}, ops.map(toXml), CHANNEL_LIMITS);
}

function toXml(o: ChannelOp): Op {
  switch (o.op) {
    case 'create': {
      const a: Record<string, string> = { name: o.name, title: o.title, mode: o.mode };
      if (o.startMs !== undefined) a.start = String(o.startMs);
      if (o.created !== undefined) a.created = String(o.created);
      return { name: 'create', attrs: a };
    }
    case 'add':
      return { name: 'add', attrs: o.position === undefined ? { playlist: o.playlist } : { playlist: o.playlist, position: String(o.position) } };
    case 'remove':
      return { name: 'remove', attrs: { playlist: o.playlist } };
    case 'set': {
      const a: Record<string, string> = {};
      if (o.title !== undefined) a.title = o.title;
      if (o.mode !== undefined) a.mode = o.mode;
      if (o.startMs !== undefined) a.start = String(o.startMs);
      return { name: 'set', attrs: a };
    }
    default:
      throw new TypeError(`unknown channel op ${(o as { op: string }).op}`);
  }
}

/** Parses a CHANNEL STU body. `summary`: the create op may carry `created`. Throws CommandError. */
export function parseChannelCommand(body: Uint8Array, summary = false): { object: Guid; ops: ChannelOp[] } {
  const cmd = parseCommand(body, 'channel', CHANNEL_LIMITS);
  for (const a of Object.keys(cmd.attrs)) throw badCommand(`<channel>: unknown attribute ${a}`);
  if (cmd.ops.length === 0) throw badCommand('a channel command without ops');
  return { object: cmd.object, ops: cmd.ops.map((o, i) => readOp(o, i, summary)) };
}

function readOp(o: Op, i: number, summary: boolean): ChannelOp {
  const where = `op ${i + 1} <${o.name}>`;
  switch (o.name) {
    case 'create': {
      const r = new AttrReader(where, o.attrs, summary ? ['name', 'title', 'mode', 'start', 'created'] : ['name', 'title', 'mode', 'start']);
      const c: ChannelOp = { op: 'create', name: r.match('name', CHANNEL_NAME, 'a channel name'), title: r.title('title'), mode: r.oneOf('mode', CHANNEL_MODES) };
      if (r.has('start')) c.startMs = r.ms('start');
      if (r.has('created')) c.created = BigInt(r.match('created', /^[1-9]\d{0,19}$/, 'a timestamp'));
      return c;
    }
    case 'add': {
      const r = new AttrReader(where, o.attrs, ['playlist', 'position']);
      const a: ChannelOp = { op: 'add', playlist: r.guid('playlist') };
      if (r.has('position')) a.position = r.uint('position', MAX_PLAYLISTS);
      return a;
    }
    case 'remove':
      return { op: 'remove', playlist: new AttrReader(where, o.attrs, ['playlist']).guid('playlist') };
    case 'set': {
      const r = new AttrReader(where, o.attrs, ['title', 'mode', 'start']);
      const s: ChannelOp = { op: 'set' };
      if (r.has('title')) s.title = r.title('title');
      if (r.has('mode')) s.mode = r.oneOf('mode', CHANNEL_MODES);
      if (r.has('start')) s.startMs = r.ms('start');
      if (s.title === undefined && s.mode === undefined && s.startMs === undefined) throw badCommand(`${where}: changes nothing`);
      return s;
    }
    default:
      throw badCommand(`${where}: unknown op (create, add, remove, set)`);
  }
}

// ------------------------------------------------------------------------------------------- applying

/** The channel after `ops` (pure; never mutates `state`). `ts`: the STU's timestamp. Throws CommandError. */
export function applyChannelOps(id: Guid, state: ChannelState | undefined, ops: readonly ChannelOp[], ts: Hlc): ChannelState {
  let next: ChannelState | undefined = state && { ...state };
  let playlists = state ? [...state.playlists] : [];
  for (const [i, o] of ops.entries()) {
    const where = `op ${i + 1} (${o.op})`;
    if (o.op === 'create') {
      if (next) throw badCommand(`${where}: the channel exists already`);
      next = { id, name: o.name, title: o.title, mode: o.mode, playlists: [], created: o.created ?? ts };
      if (o.startMs !== undefined) next.startMs = o.startMs;
      continue;
    }
    if (!next) throw badCommand(`${where}: the channel is not created yet (its first op must be create)`);
    switch (o.op) {
      case 'add':
        if (playlists.includes(o.playlist)) continue; // the same add, made concurrently
        if (playlists.length >= MAX_PLAYLISTS) throw badCommand(`${where}: a channel holds at most ${MAX_PLAYLISTS} playlists`);
        playlists.splice(Math.min(o.position ?? playlists.length, playlists.length), 0, o.playlist);
        continue;
      case 'remove':
        playlists = playlists.filter((p) => p !== o.playlist);
        continue;
      case 'set':
        if (o.title !== undefined) next.title = o.title;
        if (o.mode !== undefined) next.mode = o.mode;
        if (o.startMs !== undefined) next.startMs = o.startMs;
        continue;
      default:
        throw badCommand(`${where}: unknown op`);
    }
  }
  if (!next) throw badCommand('the channel is not created yet (its first op must be create)');
  if (next.mode === 'live' && next.startMs === undefined) throw badCommand('a live channel needs a start time');
  next.playlists = playlists;
  return next;
}

export const channelApp: StateApp<ChannelState> = {
  types: [CHANNEL],
  policy: 'merge',
  apply(state, stu: Stu) {
    const summary = isSummary(stu.header);
    const cmd = parseChannelCommand(stu.body, summary);
    if (cmd.object !== stu.header.object) throw badCommand(`a command for ${cmd.object} in an STU of object ${stu.header.object}`);
    return applyChannelOps(stu.header.object, summary ? undefined : state, cmd.ops, stu.header.ts);
  },
  summarize: (s) =>
    encodeChannelCommand(s.id, [
      { op: 'create', name: s.name, title: s.title, mode: s.mode, startMs: s.startMs, created: s.created },
      ...s.playlists.map((p): ChannelOp => ({ op: 'add', playlist: p })),
    ]),
};

// ------------------------------------------------------------------------------------------- schedules

/**
 * What gateways play: the clips of the channel's playlists in order. Missing (unknown or deleted) playlists
 * are skipped. Each clip is cut to its media's duration when `durationMs` knows it; a clip without an end
 * runs to the end of its media, and is left out when that is not known; empty clips are left out.
 */
export function channelSchedule(
  channel: ChannelState,
  playlists: (id: Guid) => PlaylistState | undefined,
  durationMs: (media: Guid) => number | undefined = () => undefined,
): ChannelSchedule {
  const clips: Clip[] = [];
  for (const pid of channel.playlists) {
    const p = playlists(pid);
    if (!p) continue;
    for (const c of p.clips) {
      const d = durationMs(c.media);
      let end = c.endMs ?? d;
      if (end === undefined) continue;
      if (d !== undefined) end = Math.min(end, d);
      if (end > c.startMs) clips.push({ media: c.media, startMs: c.startMs, endMs: end });
    }
  }
  return { name: channel.name, live: channel.mode === 'live', startedAt: channel.startMs ?? 0, clips };
}

/** Who owns a name among channels claiming it: the first created (timestamp, then GUID). */
const firstCreated = (a: ChannelState, b: ChannelState): number => (a.created !== b.created ? (a.created < b.created ? -1 : 1) : a.id < b.id ? -1 : 1);

/** The live channels, each once; `shadowedBy` set on those whose name another channel owns. */
export function listChannels(engine: StateEngine): { object: BusinessObject<ChannelState>; state: ChannelState; shadowedBy?: Guid }[] {
  const live = engine.list(CHANNEL).filter((o): o is BusinessObject<ChannelState> => o.state !== undefined) as BusinessObject<ChannelState>[];
  const owner = new Map<string, ChannelState>();
  for (const o of live) {
    const s = o.state!;
    const have = owner.get(s.name);
    if (!have || firstCreated(s, have) < 0) owner.set(s.name, s);
  }
  return live.map((o) => {
    const own = owner.get(o.state!.name)!;
    return own.id === o.id ? { object: o, state: o.state! } : { object: o, state: o.state!, shadowedBy: own.id };
  });
}

/** The channel that owns `name`, if any. */
export function channelByName(engine: StateEngine, name: string): ChannelState | undefined {
  let best: ChannelState | undefined;
  for (const o of engine.list(CHANNEL)) {
    const s = o.state as ChannelState | undefined;
    if (s?.name === name && (!best || firstCreated(s, best) < 0)) best = s;
  }
  return best;
}

/** A live playlist's state from the engine. */
export function playlistOf(engine: StateEngine, id: Guid): PlaylistState | undefined {
  const o = engine.get<PlaylistState>(id, PLAYLIST);
  return o && !o.deleted ? o.state : undefined;
}

/** A media object's duration in milliseconds from its metadata, when it is held. */
export function mediaDurationMs(engine: StateEngine, id: Guid): number | undefined {
  const o = engine.get<MediaMetadata>(id, MEDIA_META);
  return o && !o.deleted && o.state ? Math.round(o.state.duration * 1000) : undefined;
}

/** The schedule of the channel named `name` (what StateNode.schedules gives the gateways). */
export function scheduleByName(engine: StateEngine, name: string): ChannelSchedule | undefined {
  const c = channelByName(engine, name);
  return c && channelSchedule(c, (id) => playlistOf(engine, id), (id) => mediaDurationMs(engine, id));
}
