// Editing channels on a server, as playlist-edit.ts does for playlists: checked against what this server
// holds (the name is free, the playlists exist), written as one CHANNEL STU, read back as a view.
import type { StateEngine } from '../state/engine.ts';
import type { BusinessObject } from '../state/types.ts';
import { Flag } from '../stu/header.ts';
import { isGuid, newGuid, type Guid } from '../stu/guid.ts';
import {
  applyChannelOps,
  CHANNEL_MODES,
  CHANNEL_NAME,
  channelSchedule,
  type ChannelMode,
  type ChannelOp,
  type ChannelState,
  encodeChannelCommand,
  listChannels,
  MAX_PLAYLISTS,
  mediaDurationMs,
  playlistOf,
} from './channel.ts';
import { badInput, CommandError, notFound } from './playlist-errors.ts';
import { commit, field, isIndex, isMs, isoOf, isString, type ObjectWriter, opsOf } from './playlist-edit.ts';
import { cleanCommandTitle } from './playlist-xml.ts';
import type { ChannelSchedule } from './schedule.ts';
import { scheduleLengthMs } from './schedule.ts';
import { CHANNEL } from './stu-types.ts';

export interface ChannelView {
  id: Guid;
  name: string;
  title: string;
  mode: ChannelMode;
  /** Epoch ms a live channel's schedule starts at, and the same as ISO 8601. */
  startMs?: number;
  start?: string;
  playlists: { id: Guid; title?: string; missing?: boolean }[];
  version: string;
  owner: Guid;
  updated: string;
  /** Another channel, created first, owns this name: this one is not played by name. */
  shadowedBy?: Guid;
  /** What the gateways play, and its length. */
  schedule: ChannelSchedule & { lengthMs: number };
}

type Json = Record<string, unknown>;

const isMode = (v: unknown): v is ChannelMode => (CHANNEL_MODES as readonly unknown[]).includes(v);
const isGuidList = (v: unknown): v is Guid[] => Array.isArray(v) && v.every(isGuid);

export function channelView(engine: StateEngine, o: BusinessObject<ChannelState>, shadowedBy?: Guid): ChannelView {
  const s = o.state!;
  const schedule = channelSchedule(s, (id) => playlistOf(engine, id), (id) => mediaDurationMs(engine, id));
  const v: ChannelView = {
    id: o.id,
    name: s.name,
    title: s.title,
    mode: s.mode,
    playlists: s.playlists.map((id) => {
      const p = playlistOf(engine, id);
      return p ? { id, title: p.title } : { id, missing: true };
    }),
    version: String(o.ts),
    owner: o.owner,
    updated: isoOf(o.ts),
    schedule: { ...schedule, lengthMs: scheduleLengthMs(schedule) },
  };
  if (s.startMs !== undefined) {
    v.startMs = s.startMs;
    v.start = new Date(s.startMs).toISOString();
  }
  if (shadowedBy) v.shadowedBy = shadowedBy;
  return v;
}

export const listChannelViews = (engine: StateEngine): ChannelView[] => listChannels(engine).map((c) => channelView(engine, c.object, c.shadowedBy));

/** A live channel by GUID or by name (the owner of the name); CommandError NOT_FOUND otherwise. */
export function getChannel(engine: StateEngine, ref: string): { object: BusinessObject<ChannelState>; shadowedBy?: Guid } {
  const all = listChannels(engine);
  const hit = isGuid(ref) ? all.find((c) => c.object.id === ref) : all.find((c) => c.state.name === ref && !c.shadowedBy);
  if (!hit) throw notFound(`no channel ${ref}`);
  return hit;
}

function checkName(engine: StateEngine, name: unknown): string {
  if (typeof name !== 'string' || !CHANNEL_NAME.test(name)) {
    throw badInput(`name: 1 to 64 of a-z, 0-9, "-" and "_", starting with a letter or digit (it is part of URLs), got ${JSON.stringify(name)?.slice(0, 80)}`);
  }
  if (listChannels(engine).some((c) => c.state.name === name)) throw new CommandError('NAME_TAKEN', `a channel named ${name} exists`);
  return name;
}

function knownPlaylist(engine: StateEngine, id: unknown, where: string): Guid {
  if (!isGuid(id)) throw badInput(`${where}playlist: a playlist GUID is required`);
  if (!playlistOf(engine, id)) throw badInput(`${where}unknown playlist ${id}`);
  return id;
}

function channelOps(engine: StateEngine, id: Guid, state: ChannelState | undefined, ops: Json[], now: number): ChannelOp[] {
  const out: ChannelOp[] = [];
  let s = state;
  ops.forEach((o, i) => {
    const where = ops.length > 1 ? `op ${i + 1}: ` : '';
    let op: ChannelOp;
    switch (o.op) {
      case 'add': {
        const playlist = knownPlaylist(engine, o.playlist, where);
        const n = s?.playlists.length ?? 0;
        if (s?.playlists.includes(playlist)) throw badInput(`${where}playlist ${playlist} is in the channel already`);
        if (n >= MAX_PLAYLISTS) throw new CommandError('TOO_LARGE', `${where}a channel holds at most ${MAX_PLAYLISTS} playlists`);
        const position = field(o, 'position', isIndex, 'a playlist index (an integer ≥ 0)');
        if (position !== undefined && position > n) throw badInput(`${where}position ${position} is past the end of the channel (${n} playlists)`);
        op = position === undefined ? { op: 'add', playlist } : { op: 'add', playlist, position };
        break;
      }
      case 'remove': {
        const playlist = field(o, 'playlist', isGuid, 'a playlist GUID', true);
        if (!s?.playlists.includes(playlist)) throw badInput(`${where}playlist ${playlist} is not in the channel`);
        op = { op: 'remove', playlist };
        break;
      }
      case 'set': {
        const set: ChannelOp = { op: 'set' };
        const title = field(o, 'title', isString, 'a string');
        const mode = field(o, 'mode', isMode, '"live" or "on-demand"');
        const startMs = field(o, 'startMs', isMs, 'epoch milliseconds');
        if (title !== undefined) set.title = cleanCommandTitle(title, `${where}title`);
        if (mode !== undefined) set.mode = mode;
        if (startMs !== undefined) set.startMs = startMs;
        else if (mode === 'live' && s?.startMs === undefined) set.startMs = now;
        if (title === undefined && mode === undefined && startMs === undefined) throw badInput(`${where}set: give title, mode or startMs`);
        op = set;
        break;
      }
      default:
        throw badInput(`${where}unknown op ${JSON.stringify(o.op)} (add, remove, set)`);
    }
    s = applyChannelOps(id, s, [op], 1n);
    out.push(op);
  });
  return out;
}

/** POST /api/channels: `{name, title?, mode?: "live"|"on-demand", startMs?, playlists?: [GUID]}`. */
export async function createChannel(w: ObjectWriter, body: unknown): Promise<ChannelView> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badInput('expected a JSON object {name, title?, mode?, startMs?, playlists?}');
  const b = body as Json;
  const name = checkName(w.engine, b.name);
  const title = cleanCommandTitle(field(b, 'title', isString, 'a string') ?? name, 'title');
  const mode = field(b, 'mode', isMode, '"live" or "on-demand"') ?? 'on-demand';
  const startMs = field(b, 'startMs', isMs, 'epoch milliseconds') ?? (mode === 'live' ? (w.now?.() ?? Date.now()) : undefined);
  const playlists = field(b, 'playlists', isGuidList, 'an array of playlist GUIDs') ?? [];
  const id = newGuid();
  const create: ChannelOp = { op: 'create', name, title: title || name, mode };
  if (startMs !== undefined) create.startMs = startMs;
  const state = applyChannelOps(id, undefined, [create], 1n);
  const ops = [create, ...channelOps(w.engine, id, state, playlists.map((p) => ({ op: 'add', playlist: p })), 0)];
  await commit(w, CHANNEL, id, undefined, encodeChannelCommand(id, ops));
  return view(w.engine, id);
}

/** PATCH /api/channels/ID|NAME: `{ops: [{op: "add"|"remove"|"set", …}]}`. */
export async function editChannel(w: ObjectWriter, ref: string, body: unknown): Promise<ChannelView> {
  const { object: o } = getChannel(w.engine, ref);
  const ops = channelOps(w.engine, o.id, o.state, opsOf(body), w.now?.() ?? Date.now());
  await commit(w, CHANNEL, o.id, o, encodeChannelCommand(o.id, ops));
  return view(w.engine, o.id);
}

/** DELETE /api/channels/ID|NAME: a tombstone STU. */
export async function deleteChannel(w: ObjectWriter, ref: string): Promise<{ id: Guid; name: string; deleted: true }> {
  const { object: o } = getChannel(w.engine, ref);
  await commit(w, CHANNEL, o.id, o, new Uint8Array(0), Flag.TOMBSTONE);
  return { id: o.id, name: o.state!.name, deleted: true };
}

function view(engine: StateEngine, id: Guid): ChannelView {
  const c = getChannel(engine, id);
  return channelView(engine, c.object, c.shadowedBy);
}
