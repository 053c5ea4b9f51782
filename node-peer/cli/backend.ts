// Where `stateos playlist|channel` commands go: the data folder itself (like ingest; read-only commands
// do not lock it), or a running server's HTTP API with --server URL. Both give the same views and errors.
import type { ChannelView } from '../../shared/media/channel-edit.ts';
import { createChannel, deleteChannel, editChannel, getChannel, channelView, listChannelViews } from '../../shared/media/channel-edit.ts';
import {
  createPlaylist,
  deletePlaylist,
  editPlaylist,
  getPlaylist,
  listPlaylists,
  type ObjectWriter,
  playlistView,
  type PlaylistView,
} from '../../shared/media/playlist-edit.ts';
import type { MediaMetadata } from '../../shared/media/metadata.ts';
import { MEDIA_META } from '../../shared/media/stu-types.ts';
import { LockedError } from '../ring/lock.ts';
import type { CommonOptions } from './main.ts';

type Json = Record<string, unknown>;

export interface Backend {
  playlists(): Promise<PlaylistView[]>;
  playlist(id: string): Promise<PlaylistView>;
  createPlaylist(body: Json): Promise<PlaylistView>;
  editPlaylist(id: string, body: Json): Promise<PlaylistView>;
  deletePlaylist(id: string): Promise<unknown>;
  channels(): Promise<ChannelView[]>;
  channel(ref: string): Promise<ChannelView>;
  createChannel(body: Json): Promise<ChannelView>;
  editChannel(ref: string, body: Json): Promise<ChannelView>;
  deleteChannel(ref: string): Promise<unknown>;
  media(): Promise<{ id: string; title: string }[]>;
  close(): Promise<void>;
}

/** The data folder, opened by this process. `write`: lock it (refused, with advice, while a server runs). */
export async function localBackend(common: CommonOptions, write: boolean): Promise<Backend> {
  const { StateNode } = await import('../node.ts');
  let node: Awaited<ReturnType<typeof StateNode.open>>;
  try {
    node = await StateNode.open({ ...common, readOnly: !write });
  } catch (e) {
    if (e instanceof LockedError) {
      throw new Error(`${e.message.replace(/;.*$/, '')} (a running server); add --server http://HOST:PORT (its --http address) to go through it`);
    }
    throw e;
  }
  const engine = node.engine;
  const w: ObjectWriter = { engine, create: (init, body) => node.stus.create(init, body) };
  const at = async <T>(fn: () => T | Promise<T>): Promise<T> => fn();
  return {
    playlists: () => at(() => listPlaylists(engine)),
    playlist: (id) => at(() => playlistView(engine, getPlaylist(engine, id))),
    createPlaylist: (b) => createPlaylist(w, b),
    editPlaylist: (id, b) => editPlaylist(w, id, b),
    deletePlaylist: (id) => deletePlaylist(w, id),
    channels: () => at(() => listChannelViews(engine)),
    channel: (ref) =>
      at(() => {
        const c = getChannel(engine, ref);
        return channelView(engine, c.object, c.shadowedBy);
      }),
    createChannel: (b) => createChannel(w, b),
    editChannel: (ref, b) => editChannel(w, ref, b),
    deleteChannel: (ref) => deleteChannel(w, ref),
    media: () => at(() => engine.list(MEDIA_META).map((o) => ({ id: o.id, title: (o.state as MediaMetadata | undefined)?.title ?? '' }))),
    close: () => node.close(),
  };
}

/** A running server's HTTP API. */
export function remoteBackend(server: string): Backend {
  const base = server.replace(/\/+$/, '');
  const call = async <T>(method: string, path: string, body?: Json): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach ${base}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${base} answered ${res.status} with something that is not JSON (is it a stateos server?)`);
    }
    if (!res.ok) throw new Error(`${base} answered ${res.status}: ${(json as { error?: string }).error ?? text.slice(0, 200)}`);
    return json as T;
  };
  const seg = encodeURIComponent;
  return {
    playlists: () => call('GET', '/api/playlists'),
    playlist: (id) => call('GET', `/api/playlists/${seg(id)}`),
    createPlaylist: (b) => call('POST', '/api/playlists', b),
    editPlaylist: (id, b) => call('PATCH', `/api/playlists/${seg(id)}`, b),
    deletePlaylist: (id) => call('DELETE', `/api/playlists/${seg(id)}`),
    channels: () => call('GET', '/api/channels'),
    channel: (ref) => call('GET', `/api/channels/${seg(ref)}`),
    createChannel: (b) => call('POST', '/api/channels', b),
    editChannel: (ref, b) => call('PATCH', `/api/channels/${seg(ref)}`, b),
    deleteChannel: (ref) => call('DELETE', `/api/channels/${seg(ref)}`),
    media: async () =>
      (await call<{ id: string; type: string; title: string }[]>('GET', '/api/objects')).filter((o) => o.type === 'media').map((o) => ({ id: o.id, title: o.title })),
    close: async () => undefined,
  };
}
