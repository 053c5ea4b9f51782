// Editing playlists on a server: a request (JSON from the HTTP API, or the CLI working on a data folder) is
// checked against the playlist as this server holds it, written as one PLAYLIST STU, and read back as a view.
// The checks a command cannot make for itself happen here: the media exists, the clip named exists, the
// position is inside the list. Everything else is the same function every replica applies (a dry run).
import type { StateEngine } from '../state/engine.ts';
import type { BusinessObject } from '../state/types.ts';
import { Flag, type StuHeader, stuId } from '../stu/header.ts';
import { isGuid, newGuid, type Guid } from '../stu/guid.ts';
import type { NewStu } from '../stu/origin.ts';
import { hlcMs } from '../stu/hlc.ts';
import type { MediaMetadata } from './metadata.ts';
import { badInput, CommandError, notFound } from './playlist-errors.ts';
import { cleanCommandTitle, MAX_MS } from './playlist-xml.ts';
import { applyPlaylistOps, clipTitle, encodePlaylistCommand, MAX_CLIPS, type PlaylistOp, type PlaylistState } from './playlist.ts';
import { MEDIA_META, PLAYLIST } from './stu-types.ts';

/** Where edits go: the engine that holds the objects, and a way to make, store and apply an STU. */
export interface ObjectWriter {
  readonly engine: StateEngine;
  /** RingStore.create: a new STU of this server, stored, applied to the engine, replicated by sync. */
  create(init: NewStu, body: Uint8Array): Promise<{ header: StuHeader }>;
  /** Epoch milliseconds (default Date.now). */
  now?(): number;
}

export interface ClipView {
  clip: string;
  media: Guid;
  /** The clip's title, or the media's when it has none. */
  title: string;
  startMs: number;
  /** As written; absent: to the end of the media. */
  endMs?: number;
  /** What plays, cut to the media's duration; absent when the media is not held here. */
  durationMs?: number;
  /** The media is not held here (deleted, or not replicated yet). */
  missing?: boolean;
}

export interface PlaylistView {
  id: Guid;
  title: string;
  /** The playlist's version: the timestamp of its latest applied STU. */
  version: string;
  owner: Guid;
  updated: string;
  clips: ClipView[];
  /** Sum of the clips' durations (those whose length is known here). */
  durationMs: number;
}

// ------------------------------------------------------------------------------------------- views

export const isoOf = (ts: bigint): string => new Date(hlcMs(ts)).toISOString();

function mediaOf(engine: StateEngine, id: Guid): MediaMetadata | undefined {
  const o = engine.get<MediaMetadata>(id, MEDIA_META);
  return o && !o.deleted ? o.state : undefined;
}

export function playlistView(engine: StateEngine, o: BusinessObject<PlaylistState>): PlaylistView {
  const s = o.state!;
  let total = 0;
  const clips = s.clips.map((c): ClipView => {
    const m = mediaOf(engine, c.media);
    const v: ClipView = { clip: c.clip, media: c.media, title: clipTitle(c, () => m?.title), startMs: c.startMs };
    if (c.endMs !== undefined) v.endMs = c.endMs;
    if (m) {
      const end = Math.min(c.endMs ?? Infinity, Math.round(m.duration * 1000));
      v.durationMs = Math.max(0, end - c.startMs);
      total += v.durationMs;
    } else v.missing = true;
    return v;
  });
  return { id: o.id, title: s.title, version: String(o.ts), owner: o.owner, updated: isoOf(o.ts), clips, durationMs: total };
}

/** The live playlist `id`; CommandError NOT_FOUND otherwise. */
export function getPlaylist(engine: StateEngine, id: string): BusinessObject<PlaylistState> {
  const o = isGuid(id) ? engine.get<PlaylistState>(id, PLAYLIST) : undefined;
  if (!o || o.deleted || !o.state) throw notFound(`no playlist ${id}`);
  return o;
}

export const listPlaylists = (engine: StateEngine): PlaylistView[] =>
  engine.list(PLAYLIST).filter((o) => o.state !== undefined).map((o) => playlistView(engine, o as BusinessObject<PlaylistState>));

// ------------------------------------------------------------------------------------------- input checks

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function field<T>(o: Json, name: string, check: (v: unknown) => v is T, what: string, required: true): T;
export function field<T>(o: Json, name: string, check: (v: unknown) => v is T, what: string, required?: false): T | undefined;
export function field<T>(o: Json, name: string, check: (v: unknown) => v is T, what: string, required = false): T | undefined {
  const v = o[name];
  if (v === undefined) {
    if (required) throw badInput(`${name}: ${what} is required`);
    return undefined;
  }
  if (!check(v)) throw badInput(`${name}: ${what} expected, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_MS;
export const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isMsOrNull = (v: unknown): v is number | null => v === null || isMs(v);

/** The list of ops of a PATCH body: `{ops: [...]}`, or a single op `{op: ...}`. */
export function opsOf(body: unknown): Json[] {
  if (!isObject(body)) throw badInput('expected a JSON object');
  const ops = body.op !== undefined ? [body] : body.ops;
  if (!Array.isArray(ops) || ops.length === 0) throw badInput('ops: a non-empty array of {op: …} is required');
  if (ops.length > 256) throw badInput('ops: at most 256 in one request');
  for (const o of ops) if (!isObject(o) || typeof o.op !== 'string') throw badInput('ops: each op is an object with an "op" string');
  return ops as Json[];
}

function knownMedia(engine: StateEngine, id: unknown, where: string): MediaMetadata {
  if (!isGuid(id)) throw badInput(`${where}media: a media GUID is required`);
  const m = mediaOf(engine, id);
  if (!m) throw badInput(`${where}unknown media ${id}`);
  return m;
}

function checkClipSpan(where: string, m: MediaMetadata | undefined, startMs: number, endMs: number | undefined): void {
  if (endMs !== undefined && startMs >= endMs) throw badInput(`${where}start (${startMs} ms) must be before end (${endMs} ms)`);
  const d = m && Math.round(m.duration * 1000);
  if (d !== undefined && startMs >= d) throw badInput(`${where}start (${startMs} ms) is past the end of media ${m!.id} (${d} ms)`);
}

const CLIP_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function newClipId(taken: (id: string) => boolean): string {
  for (;;) {
    const b = new Uint8Array(8);
    globalThis.crypto.getRandomValues(b);
    let id = '';
    for (const x of b) id += CLIP_CHARS[x % CLIP_CHARS.length];
    if (!taken(id)) return id;
  }
}

/** One add op from a request: `{media, startMs?, endMs?, title?, position?}`. */
function addOp(engine: StateEngine, state: PlaylistState | undefined, o: Json, where: string): PlaylistOp {
  const m = knownMedia(engine, o.media, where);
  const startMs = field(o, 'startMs', isMs, 'milliseconds (an integer ≥ 0)') ?? 0;
  const endMs = field(o, 'endMs', isMs, 'milliseconds (an integer ≥ 0)');
  checkClipSpan(where, m, startMs, endMs);
  const title = field(o, 'title', isString, 'a string');
  const position = field(o, 'position', isIndex, 'a clip index (an integer ≥ 0)');
  const n = state?.clips.length ?? 0;
  if (position !== undefined && position > n) throw badInput(`${where}position ${position} is past the end of the playlist (${n} clips)`);
  if (n >= MAX_CLIPS) throw new CommandError('TOO_LARGE', `${where}a playlist holds at most ${MAX_CLIPS} clips`);
  const add: PlaylistOp = { op: 'add', clip: newClipId((id) => state?.clips.some((c) => c.clip === id) ?? false), media: m.id, startMs };
  if (endMs !== undefined) add.endMs = endMs;
  if (title) add.title = cleanCommandTitle(title, `${where}title`);
  if (position !== undefined) add.position = position;
  return add;
}

/** Turns request ops into playlist ops, checking each against the playlist as the ones before leave it. */
function playlistOps(engine: StateEngine, id: Guid, state: PlaylistState | undefined, ops: Json[], creating = false): PlaylistOp[] {
  const out: PlaylistOp[] = [];
  let s = state;
  ops.forEach((o, i) => {
    const where = creating ? (i === 0 ? '' : `clips[${i - 1}]: `) : ops.length > 1 ? `op ${i + 1}: ` : '';
    let op: PlaylistOp;
    switch (creating && i === 0 ? 'create' : o.op === 'create' ? '' : o.op) {
      case 'create':
        op = { op: 'create', title: cleanCommandTitle(field(o, 'title', isString, 'a string', true), 'title') };
        break;
      case 'rename':
        op = { op: 'rename', title: cleanCommandTitle(field(o, 'title', isString, 'a string', true), `${where}title`) };
        if (op.title === '') throw badInput(`${where}title: a non-empty string is required`);
        break;
      case 'add':
        op = addOp(engine, s, o, where);
        break;
      case 'remove': {
        const clip = field(o, 'clip', isString, 'a clip id', true);
        if (!s?.clips.some((c) => c.clip === clip)) throw badInput(`${where}no clip ${clip} in playlist ${id}`);
        op = { op: 'remove', clip };
        break;
      }
      case 'set': {
        const clip = field(o, 'clip', isString, 'a clip id', true);
        const c = s?.clips.find((x) => x.clip === clip);
        if (!c) throw badInput(`${where}no clip ${clip} in playlist ${id}`);
        const set: PlaylistOp = { op: 'set', clip };
        const startMs = field(o, 'startMs', isMs, 'milliseconds (an integer ≥ 0)');
        const endMs = field(o, 'endMs', isMsOrNull, 'milliseconds (an integer ≥ 0), or null for the end of the media');
        const title = field(o, 'title', isString, 'a string');
        if (startMs !== undefined) set.startMs = startMs;
        if (endMs !== undefined) set.endMs = endMs;
        if (title !== undefined) set.title = cleanCommandTitle(title, `${where}title`);
        if (startMs === undefined && endMs === undefined && title === undefined) throw badInput(`${where}set: give startMs, endMs or title`);
        checkClipSpan(where, mediaOf(engine, c.media), startMs ?? c.startMs, endMs === null ? undefined : (endMs ?? c.endMs));
        op = set;
        break;
      }
      default:
        throw badInput(`${where}unknown op ${JSON.stringify(o.op)} (add, remove, set, rename)`);
    }
    s = applyPlaylistOps(id, s, [op]);
    out.push(op);
  });
  return out;
}

// ------------------------------------------------------------------------------------------- writing

/** Writes one command STU after the object's current version and checks that the engine applied it. */
export async function commit(w: ObjectWriter, type: number, id: Guid, prev: BusinessObject | undefined, body: Uint8Array, flags = 0): Promise<void> {
  const init: NewStu = { type, object: id, prevTs: prev?.ts ?? 0n };
  if (prev) init.user = prev.owner;
  if (flags) init.flags = flags;
  const { header } = await w.create(init, body);
  const sid = stuId(header);
  if (w.engine.chainStatus(id, type)?.applied.includes(sid)) return;
  const why = w.engine.rejected().find((r) => r.id === sid);
  throw new CommandError('REJECTED', `the change was not applied: ${why ? `${why.code}: ${why.reason}` : 'held'}`);
}

/** POST /api/playlists: `{title, clips?: [{media, startMs?, endMs?, title?}]}`. */
export async function createPlaylist(w: ObjectWriter, body: unknown): Promise<PlaylistView> {
  if (!isObject(body)) throw badInput('expected a JSON object {title, clips?}');
  const title = cleanCommandTitle(field(body, 'title', isString, 'a string', true), 'title');
  if (title === '') throw badInput('title: a non-empty string is required');
  const clips = field(body, 'clips', Array.isArray, 'an array of {media, startMs?, endMs?, title?}') ?? [];
  if (clips.length > MAX_CLIPS) throw new CommandError('TOO_LARGE', `clips: at most ${MAX_CLIPS}`);
  for (const c of clips) if (!isObject(c)) throw badInput('clips: each clip is an object {media, startMs?, endMs?, title?}');
  const id = newGuid();
  const ops = playlistOps(w.engine, id, undefined, [{ title }, ...clips.map((c: Json) => ({ ...c, op: 'add', position: undefined }))], true);
  await commit(w, PLAYLIST, id, undefined, encodePlaylistCommand(id, ops));
  return playlistView(w.engine, getPlaylist(w.engine, id));
}

/** PATCH /api/playlists/ID: `{ops: [{op: "add"|"remove"|"set"|"rename", …}]}`. */
export async function editPlaylist(w: ObjectWriter, id: string, body: unknown): Promise<PlaylistView> {
  const o = getPlaylist(w.engine, id);
  const ops = playlistOps(w.engine, o.id, o.state, opsOf(body));
  await commit(w, PLAYLIST, o.id, o, encodePlaylistCommand(o.id, ops));
  return playlistView(w.engine, getPlaylist(w.engine, o.id));
}

/** DELETE /api/playlists/ID: a tombstone STU. */
export async function deletePlaylist(w: ObjectWriter, id: string): Promise<{ id: Guid; deleted: true }> {
  const o = getPlaylist(w.engine, id);
  await commit(w, PLAYLIST, o.id, o, new Uint8Array(0), Flag.TOMBSTONE);
  return { id: o.id, deleted: true };
}
