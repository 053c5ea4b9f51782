// Where `stateos playlist|channel|acl` commands go: the data folder itself (like ingest; read-only commands
// do not lock it), or a running server's State API with --server URL (over a WebSocket, as the user of
// --credential, docs/IDENTITY.md). Both give the same views; through the server every change is checked
// against the object's ACL.
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
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ADMIN, ANONYMOUS, ANYONE } from '../../shared/api/acl.ts';
import { type ApiClient, type ApiConnection, openApi } from '../../shared/api/client.ts';
import { issueCredential } from '../../shared/api/token.ts';
import { type Guid, isGuid } from '../../shared/stu/guid.ts';
import { StxError } from '../../shared/stx/errors.ts';
import { loadAdminKey } from '../api/identity.ts';
import { connectApiWs } from '../api/websocket-client.ts';
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

export interface RemoteOptions {
  /** A credential (stateos token issue); without one, anonymous (reads only). */
  credential?: string;
  /** New objects get no ACL (their creator's alone); otherwise anonymous and every user may read them. */
  private?: boolean;
}

/** Who may read what the CLI creates through a server, unless --private. */
export const PUBLIC_READERS = [ANONYMOUS, ANYONE];

/**
 * How the CLI reaches a server's State API, chosen here only: a WebSocket (one TCP connection, no WebRTC
 * stack to start and stop for one command). `connectApi` (node-peer/api/connect.ts, WebRTC) fits as well.
 */
const transport: (url: string) => Promise<ApiConnection> = (url) => connectApiWs(url);

/** A running server's State API, over `transport`. */
export async function remoteBackend(server: string, opts: RemoteOptions = {}): Promise<Backend & { client: ApiClient; user: string; call<T>(fn: () => Promise<T>): Promise<T> }> {
  const base = server.replace(/\/+$/, '');
  let opened;
  try {
    opened = await openApi(base, transport, { credential: opts.credential, device: hostname(), app: 'stateos cli' });
  } catch (e) {
    if (e instanceof StxError && e.remoteCode === 'UNAUTHENTICATED') throw new Error(`${base} refused the credential: ${e.message.replace(/^.*?UNAUTHENTICATED: /, '')}`);
    throw new Error(`cannot reach the State API of ${base}: ${(e as Error).message}`);
  }
  const { conn, registered } = opened;
  const c = conn.client;
  const who = registered.anonymous ? 'anonymous' : registered.user;
  /** The server's refusal, said for a person. */
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof StxError) || !e.remoteCode) throw e;
      const code = e.remoteCode;
      const why = `${code}: ${e.message.replace(/^.*?peer replied [A-Z_]+: /, '').replace(`${code}: `, '')}`;
      const hint =
        code === 'FORBIDDEN' || code === 'UNAUTHENTICATED'
          ? registered.anonymous
            ? ' (you are anonymous: give a credential with --credential FILE or STATEOS_CREDENTIAL; stateos token issue --user NAME makes one)'
            : ` (as ${who})`
          : '';
      throw new Error(`${why}${hint}`);
    }
  };
  const acl = opts.private ? undefined : { readers: PUBLIC_READERS, writers: [] };
  const channelId = async (ref: string): Promise<Guid> => {
    if (isGuid(ref)) return ref;
    const found = (await call(() => c.list('channel'))).find((o) => (o.view as ChannelView).name === ref);
    if (!found) throw new Error(`NOT_FOUND: no channel ${JSON.stringify(ref)}`);
    return found.id;
  };
  const kindOf = async (id: string, kind: 'playlist' | 'channel') => {
    if (!isGuid(id)) throw new Error(`NOT_FOUND: no ${kind} ${id}`);
    const o = await call(() => c.get(id));
    if (o.kind !== kind) throw new Error(`NOT_FOUND: ${id} is a ${o.kind}, not a ${kind}`);
    return o;
  };
  return {
    client: c,
    user: who,
    call,
    playlists: async () => (await call(() => c.list('playlist'))).map((o) => o.view as PlaylistView),
    playlist: async (id) => (await kindOf(id, 'playlist')).view as PlaylistView,
    createPlaylist: async (b) => (await call(() => c.create('playlist', b, acl))).view as PlaylistView,
    editPlaylist: async (id, b) => (await call(() => c.modify(id as Guid, b))).view as PlaylistView,
    deletePlaylist: async (id) => {
      await call(() => c.delete(id as Guid));
      return { id, deleted: true };
    },
    channels: async () => (await call(() => c.list('channel'))).map((o) => o.view as ChannelView),
    channel: async (ref) => (await kindOf(await channelId(ref), 'channel')).view as ChannelView,
    createChannel: async (b) => (await call(() => c.create('channel', b, acl))).view as ChannelView,
    editChannel: async (ref, b) => {
      const id = await channelId(ref);
      return (await call(() => c.modify(id, b))).view as ChannelView;
    },
    deleteChannel: async (ref) => {
      const id = await channelId(ref);
      await call(() => c.delete(id));
      return { id, deleted: true };
    },
    media: async () => (await call(() => c.list('media'))).map((o) => ({ id: o.id, title: (o.view as { title?: string }).title ?? '' })),
    close: async () => conn.close(),
  };
}

/** The credential of --credential FILE, else STATEOS_CREDENTIAL, else one for `admin` made with DIR/admin.key when this process may read it. */
export async function cliCredential(opts: { file?: string; dir: string; log: CommonOptions['log'] }): Promise<string | undefined> {
  if (opts.file !== undefined) {
    try {
      return (await readFile(opts.file, 'utf8')).trim();
    } catch (e) {
      throw new Error(`--credential: cannot read ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const env = process.env.STATEOS_CREDENTIAL?.trim();
  if (env) return env;
  const key = await loadAdminKey(opts.dir, false).catch(() => undefined);
  if (!key) return undefined;
  opts.log.info("acting as admin with a 10-minute credential from the data folder's admin key", { key: key.path });
  return (await issueCredential(key.seed, { user: ADMIN, ttlS: 600 })).credential;
}
