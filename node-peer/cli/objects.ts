// `stateos playlist …` and `stateos channel …`: create and edit playlists and channels, offline on the data
// folder or through a running server (--server URL). References may be abbreviated: a playlist or media by
// GUID, a unique GUID prefix (4+ characters) or its exact title; a clip by id or by its number in `show`;
// a channel by name or GUID.
import type { ChannelView } from '../../shared/media/channel-edit.ts';
import type { PlaylistView } from '../../shared/media/playlist-edit.ts';
import { type Backend, cliCredential, localBackend, remoteBackend } from './backend.ts';
import type { CommonOptions } from './main.ts';
import { UsageError } from './usage.ts';

export interface ObjectFlags {
  server?: string;
  /** --credential FILE: who to be on the server (docs/IDENTITY.md). */
  credential?: string;
  /** --private: what is created through a server gets no ACL (its creator's alone). */
  private?: boolean;
  start?: string;
  end?: string;
  position?: string;
  mode?: string;
  title?: string;
  json?: boolean;
}

type Out = (s: string) => void;
type Json = Record<string, unknown>;

const READ_ONLY = new Set(['list', 'show']);
export const PLAYLIST_COMMANDS = ['create', 'add', 'remove', 'set', 'rename', 'show', 'list', 'delete'] as const;
export const CHANNEL_COMMANDS = ['create', 'add', 'remove', 'set', 'show', 'list', 'delete'] as const;

export async function objectsCommand(kind: 'playlist' | 'channel', args: string[], flags: ObjectFlags, common: CommonOptions, out: Out): Promise<number> {
  const [sub, ...rest] = args;
  const known: readonly string[] = kind === 'playlist' ? PLAYLIST_COMMANDS : CHANNEL_COMMANDS;
  if (!sub || !known.includes(sub)) throw new UsageError(`${kind} takes one of: ${known.join(', ')}${sub ? ` (not "${sub}")` : ''}`);
  if (flags.server !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(flags.server)) throw new UsageError(`--server: "${flags.server}" is not http://HOST:PORT`);
  // on the data folder everything is written as the installation (readable by everyone): a --private that
  // did nothing would mislead
  if (flags.server === undefined && flags.private) {
    throw new UsageError('--private goes with --server URL (on the data folder what is created is the installation\'s, readable by everyone: stateos acl set OBJECT --readers … limits it)');
  }
  if (flags.server === undefined && flags.credential !== undefined) throw new UsageError('--credential goes with --server URL (on the data folder the CLI acts as the installation)');
  // Arguments are checked before the data folder is opened (or the server called).
  const run = kind === 'playlist' ? playlistCommand(sub, rest, flags) : channelCommand(sub, rest, flags);
  const backend = flags.server
    ? await remoteBackend(flags.server, { credential: await cliCredential({ file: flags.credential, dir: common.dir, log: common.log }), private: flags.private })
    : await localBackend(common, !READ_ONLY.has(sub));
  try {
    const result = await run(backend);
    print(result, flags.json === true, out);
    return 0;
  } finally {
    await backend.close();
  }
}

type Result = { playlist: PlaylistView } | { playlists: PlaylistView[] } | { channel: ChannelView } | { channels: ChannelView[] } | { deleted: Json } | { created: PlaylistView | ChannelView };
type Run = (b: Backend) => Promise<Result>;

function args(rest: string[], n: number, usage: string, more = false): string[] {
  if (rest.length < n || (!more && rest.length > n)) throw new UsageError(`usage: ${usage}`);
  return rest;
}

function playlistCommand(sub: string, rest: string[], f: ObjectFlags): Run {
  switch (sub) {
    case 'list':
      args(rest, 0, 'stateos playlist list');
      return async (b) => ({ playlists: await b.playlists() });
    case 'show': {
      const [ref] = args(rest, 1, 'stateos playlist show PLAYLIST');
      return async (b) => ({ playlist: await b.playlist(await playlistRef(b, ref)) });
    }
    case 'create': {
      const [title, ...media] = args(rest, 1, 'stateos playlist create TITLE [MEDIA...]', true);
      return async (b) => {
        const clips = [];
        for (const m of media) clips.push({ media: await mediaRef(b, m) });
        return { created: await b.createPlaylist({ title, clips }) };
      };
    }
    case 'add': {
      const [ref, media] = args(rest, 2, 'stateos playlist add PLAYLIST MEDIA [--start T] [--end T] [--position N] [--title T]');
      const op: Json = { op: 'add' };
      if (f.start !== undefined) op.startMs = offsetMs(f.start, '--start');
      if (f.end !== undefined) op.endMs = offsetMs(f.end, '--end');
      if (f.position !== undefined) op.position = positionOf(f.position) - 1;
      if (f.title !== undefined) op.title = f.title;
      return async (b) => {
        const id = await playlistRef(b, ref);
        return { playlist: await b.editPlaylist(id, { ops: [{ ...op, media: await mediaRef(b, media) }] }) };
      };
    }
    case 'remove': {
      const [ref, clip] = args(rest, 2, 'stateos playlist remove PLAYLIST CLIP');
      return async (b) => {
        const p = await b.playlist(await playlistRef(b, ref));
        return { playlist: await b.editPlaylist(p.id, { ops: [{ op: 'remove', clip: clipRef(p, clip) }] }) };
      };
    }
    case 'set': {
      const [ref, clip] = args(rest, 2, 'stateos playlist set PLAYLIST CLIP [--start T] [--end T|end] [--title T]');
      const op: Json = { op: 'set' };
      if (f.start !== undefined) op.startMs = offsetMs(f.start, '--start');
      if (f.end !== undefined) op.endMs = f.end === 'end' ? null : offsetMs(f.end, '--end');
      if (f.title !== undefined) op.title = f.title;
      if (Object.keys(op).length === 1) throw new UsageError('playlist set: give --start, --end or --title');
      return async (b) => {
        const p = await b.playlist(await playlistRef(b, ref));
        return { playlist: await b.editPlaylist(p.id, { ops: [{ ...op, clip: clipRef(p, clip) }] }) };
      };
    }
    case 'rename': {
      const [ref, title] = args(rest, 2, 'stateos playlist rename PLAYLIST TITLE');
      return async (b) => ({ playlist: await b.editPlaylist(await playlistRef(b, ref), { ops: [{ op: 'rename', title }] }) });
    }
    case 'delete': {
      const [ref] = args(rest, 1, 'stateos playlist delete PLAYLIST');
      return async (b) => ({ deleted: (await b.deletePlaylist(await playlistRef(b, ref))) as Json });
    }
    default:
      throw new UsageError(`unknown playlist command "${sub}"`);
  }
}

function channelCommand(sub: string, rest: string[], f: ObjectFlags): Run {
  switch (sub) {
    case 'list':
      args(rest, 0, 'stateos channel list');
      return async (b) => ({ channels: await b.channels() });
    case 'show': {
      const [ref] = args(rest, 1, 'stateos channel show CHANNEL');
      return async (b) => ({ channel: await b.channel(ref) });
    }
    case 'create': {
      const [name, ...playlists] = args(rest, 1, 'stateos channel create NAME [PLAYLIST...] [--title T] [--mode live|on-demand] [--start TIME]', true);
      const body: Json = { name };
      if (f.title !== undefined) body.title = f.title;
      if (f.mode !== undefined) body.mode = modeOf(f.mode);
      if (f.start !== undefined) body.startMs = startOf(f.start);
      return async (b) => {
        const ids = [];
        for (const p of playlists) ids.push(await playlistRef(b, p));
        return { created: await b.createChannel({ ...body, playlists: ids }) };
      };
    }
    case 'add': {
      const [ref, playlist] = args(rest, 2, 'stateos channel add CHANNEL PLAYLIST [--position N]');
      const op: Json = { op: 'add' };
      if (f.position !== undefined) op.position = positionOf(f.position) - 1;
      return async (b) => ({ channel: await b.editChannel(ref, { ops: [{ ...op, playlist: await playlistRef(b, playlist) }] }) });
    }
    case 'remove': {
      const [ref, playlist] = args(rest, 2, 'stateos channel remove CHANNEL PLAYLIST');
      return async (b) => {
        const c = await b.channel(ref);
        return { channel: await b.editChannel(c.id, { ops: [{ op: 'remove', playlist: channelPlaylistRef(c, playlist) }] }) };
      };
    }
    case 'set': {
      const [ref] = args(rest, 1, 'stateos channel set CHANNEL [--title T] [--mode live|on-demand] [--start TIME]');
      const op: Json = { op: 'set' };
      if (f.title !== undefined) op.title = f.title;
      if (f.mode !== undefined) op.mode = modeOf(f.mode);
      if (f.start !== undefined) op.startMs = startOf(f.start);
      if (Object.keys(op).length === 1) throw new UsageError('channel set: give --title, --mode or --start');
      return async (b) => ({ channel: await b.editChannel(ref, { ops: [op] }) });
    }
    case 'delete': {
      const [ref] = args(rest, 1, 'stateos channel delete CHANNEL');
      return async (b) => ({ deleted: (await b.deleteChannel(ref)) as Json });
    }
    default:
      throw new UsageError(`unknown channel command "${sub}"`);
  }
}

// ------------------------------------------------------------------------------------------- arguments

/** A position in a media: 1500 (ms), 1.5s, 90s, 1:30, 1:30.25, 1:02:03.5. */
export function offsetMs(s: string, flag: string): number {
  let m = /^(\d{1,15})(?:ms)?$/.exec(s);
  if (m) return Number(m[1]);
  m = /^(\d{1,12}(?:\.\d{1,3})?)s$/.exec(s);
  if (m) return Math.round(Number(m[1]) * 1000);
  m = /^(?:(\d{1,6}):)?(\d{1,2}):(\d{1,2}(?:\.\d{1,3})?)$/.exec(s);
  if (m && Number(m[3]) < 60 && (m[1] === undefined || Number(m[2]) < 60)) return Math.round(((Number(m[1] ?? 0) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000);
  throw new UsageError(`${flag}: "${s}" is not a time in the media (1500 for ms, 1.5s, 1:30, 1:02:03.5)`);
}

/** A channel's start: now, epoch milliseconds, or an ISO 8601 date and time. */
export function startOf(s: string): number {
  if (s === 'now') return Date.now();
  if (/^\d{1,15}$/.test(s)) return Number(s);
  const t = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(t) || t < 0) throw new UsageError(`--start: "${s}" is not now, epoch milliseconds or an ISO 8601 time (2025-01-31T18:00:00Z)`);
  return t;
}

function modeOf(s: string): string {
  if (s !== 'live' && s !== 'on-demand') throw new UsageError(`--mode: "${s}" is not live or on-demand`);
  return s;
}

function positionOf(s: string): number {
  if (!/^\d{1,6}$/.test(s) || Number(s) < 1) throw new UsageError(`--position: "${s}" is not a position (1 is the first)`);
  return Number(s);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A GUID, a unique prefix of one (4+ characters), or a unique exact title. */
function pick(kind: string, ref: string, all: { id: string; title: string }[]): string {
  if (GUID.test(ref)) return ref;
  const byPrefix = /^[0-9a-f-]{4,35}$/.test(ref) ? all.filter((o) => o.id.startsWith(ref)) : [];
  const hits = byPrefix.length > 0 ? byPrefix : all.filter((o) => o.title === ref);
  if (hits.length === 1) return hits[0].id;
  if (hits.length === 0) throw new Error(`no ${kind} ${ref}`);
  throw new Error(`"${ref}" could be any of ${hits.length} ${kind}s: ${hits.slice(0, 5).map((h) => h.id).join(', ')}${hits.length > 5 ? ', …' : ''}`);
}

const playlistRef = async (b: Backend, ref: string): Promise<string> => (GUID.test(ref) ? ref : pick('playlist', ref, await b.playlists()));
const mediaRef = async (b: Backend, ref: string): Promise<string> => (GUID.test(ref) ? ref : pick('media', ref, await b.media()));

function clipRef(p: PlaylistView, ref: string): string {
  if (/^\d{1,6}$/.test(ref)) {
    const c = p.clips[Number(ref) - 1];
    if (!c) throw new Error(`playlist ${p.id} has no clip ${ref} (it has ${p.clips.length})`);
    return c.clip;
  }
  return ref;
}

function channelPlaylistRef(c: ChannelView, ref: string): string {
  if (/^\d{1,6}$/.test(ref)) {
    const p = c.playlists[Number(ref) - 1];
    if (!p) throw new Error(`channel ${c.name} has no playlist ${ref} (it has ${c.playlists.length})`);
    return p.id;
  }
  return pick('playlist', ref, c.playlists.map((p) => ({ id: p.id, title: p.title ?? '' })));
}

// ------------------------------------------------------------------------------------------- output

/** 83500 → "1:23.500". */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const frac = `${String(s % 60).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
  return h > 0 ? `${h}:${String(mm).padStart(2, '0')}:${frac}` : `${mm}:${frac}`;
}

function print(r: Result, json: boolean, out: Out): void {
  if (json) {
    const value = 'playlist' in r ? r.playlist : 'playlists' in r ? r.playlists : 'channel' in r ? r.channel : 'channels' in r ? r.channels : 'created' in r ? r.created : r.deleted;
    return out(JSON.stringify(value, null, 2));
  }
  if ('created' in r) {
    const c = r.created;
    return out(`${c.id}\t${'name' in c ? c.name : c.title}`);
  }
  if ('deleted' in r) return out(`${String(r.deleted.id)}\tdeleted`);
  if ('playlists' in r) for (const p of r.playlists) out(`${p.id}\t${p.title}\t${p.clips.length} clips\t${clock(p.durationMs)}`);
  if ('playlist' in r) showPlaylist(r.playlist, out);
  if ('channels' in r) for (const c of r.channels) out(`${c.id}\t${c.name}\t${c.mode}\t${c.title}${c.shadowedBy ? `\t(name owned by ${c.shadowedBy})` : ''}`);
  if ('channel' in r) showChannel(r.channel, out);
}

function showPlaylist(p: PlaylistView, out: Out): void {
  out(`${p.id}\t${p.title}\t${p.clips.length} clips\t${clock(p.durationMs)}\tversion ${p.version}`);
  p.clips.forEach((c, i) => {
    const span = `${clock(c.startMs)}-${c.endMs === undefined ? 'end' : clock(c.endMs)}`;
    out(`  ${i + 1}\t${c.clip}\t${c.media}\t${span}\t${c.missing ? '(media not here) ' : ''}${c.title}`);
  });
}

function showChannel(c: ChannelView, out: Out): void {
  const mode = c.mode === 'live' ? `live since ${c.start}` : 'on-demand';
  out(`${c.id}\t${c.name}\t${c.title}\t${mode}\t${c.schedule.clips.length} clips\t${clock(c.schedule.lengthMs)}\tversion ${c.version}`);
  if (c.shadowedBy) out(`  (the name is owned by channel ${c.shadowedBy}, created first)`);
  c.playlists.forEach((p, i) => out(`  ${i + 1}\t${p.id}\t${p.missing ? '(playlist not here)' : p.title}`));
}
