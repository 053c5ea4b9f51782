// The State API, server side (docs/API.md): a client on one signaling connection (a WebSocket or a WebRTC
// data channel: the same STX messages) registers with its identity, then lists, reads, creates, modifies
// and deletes business objects and their ACLs, and subscribes to changes. Clients see business objects as
// JSON, never STUs, and only those their identity may read: every operation is checked against the
// object's ACL (shared/api/acl.ts) on the server that receives it. An object the caller may not read is
// NOT_FOUND (no oracle), a change it may not make FORBIDDEN. Isomorphic: the server gives it the engine, a
// way to write STUs as the caller, an authenticator and the connection's channel binding.
import { type Logger, silentLogger } from '../log.ts';
import { channelView, createChannel, deleteChannel, editChannel } from '../media/channel-edit.ts';
import type { MediaMetadata } from '../media/metadata.ts';
import { CommandError } from '../media/playlist-errors.ts';
import { createPlaylist, deletePlaylist, editPlaylist, type ObjectWriter, playlistView } from '../media/playlist-edit.ts';
import { CHANNEL, MEDIA_META, PLAYLIST } from '../media/stu-types.ts';
import type { StateEngine } from '../state/engine.ts';
import type { BusinessObject, ChangeEvent } from '../state/types.ts';
import { type Guid, isGuid, NIL_GUID } from '../stu/index.ts';
import type { SignalingConnection } from '../stx/connection.ts';
import { err, StxError } from '../stx/errors.ts';
import type { Message } from '../stx/message.ts';
import { mayAccess } from './access.ts';
import { type ApiDownloads, type ApiUploads, serveFiles } from './files.ts';
import type { Redirect } from './redirect.ts';
import { type Acl, ACL_TYPE, type Caller, encodeAcl, normalizeAcl, type Right } from './acl.ts';

export const ApiMethod = {
  Register: 'ApiRegister',
  /** Forgets the identity and the subscriptions; the connection may register again (another user). */
  Unregister: 'ApiUnregister',
  List: 'List',
  Get: 'Get',
  Create: 'Create',
  Modify: 'Modify',
  Delete: 'Delete',
  GetAcl: 'GetAcl',
  SetAcl: 'SetAcl',
  Subscribe: 'Subscribe',
  Unsubscribe: 'Unsubscribe',
  /** A short-lived ticket for the HTTP, HLS and RTSP doors (shared/api/ticket.ts). */
  Ticket: 'Ticket',
  /** One-way, server to client, first on a WebSocket: the connection's channel binding (`binding`, base64url). */
  Hello: 'ApiHello',
  /** One-way, server to client: a subscribed object changed. */
  Changed: 'Changed',
} as const;

/** The kinds of business object the API knows, by name. */
export const KINDS = { media: MEDIA_META, playlist: PLAYLIST, channel: CHANNEL } as const;
export type Kind = keyof typeof KINDS;
const KIND_OF = new Map<number, Kind>(Object.entries(KINDS).map(([k, t]) => [t, k as Kind]));

/** An object as a client sees it. */
export interface ApiObject {
  id: Guid;
  kind: Kind;
  /** The version a Modify may name (`ifVersion`): the HLC of the latest change, as a decimal string. */
  version: string;
  /** The user GUID of whoever created it. */
  owner: Guid;
  /** The application's view of it (a playlist's clips, a channel's schedule, a media's tracks). */
  view: unknown;
}

export interface Identity extends Caller {
  /** The user's GUID: what their STUs carry in the header's user field. */
  guid: Guid;
}

export interface ApiServiceOptions {
  engine: StateEngine;
  /** Writes STUs as `user` (their header's user field), stored, applied and replicated. */
  writerFor(user: Guid): ObjectWriter;
  /** Checks what ApiRegister presents; throws (any error: its message goes back with UNAUTHENTICATED). */
  authenticate(req: { token?: string; proof?: string; binding: Uint8Array }): Promise<Identity>;
  /** What this connection binds to (tokens' proofs are made over it); a promise while it is being computed
   *  (the handlers are in place at once, so a client may register the moment its channel opens). */
  binding: Uint8Array | Promise<Uint8Array>;
  /** Objects one List returns at most. Default 1000. */
  maxList?: number;
  /** This server's GUID, told to registering clients. */
  server?: string;
  /** The URLs of the other servers of the cluster, offered to a client to measure (openApi). */
  servers?(): string[];
  /** Where to send this client instead (shared/api/redirect.ts), asked once it has registered. */
  redirect?(): Redirect | undefined;
  /** Issues a ticket for `user` (optionally for one object); without it, Ticket is UNSUPPORTED. */
  tickets?(user: string, object?: Guid): Promise<string>;
  /** Media uploads through the API (shared/api/files.ts); without it, Upload is UNSUPPORTED. */
  uploads?: ApiUploads;
  /** Media downloads (fragmented MP4) through the API; without it, Download is UNSUPPORTED. */
  downloads?: ApiDownloads;
  /** Subscriptions one client may hold. Default 64. */
  maxSubscriptions?: number;
  log?: Logger;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
/** Largest JSON body of a request. */
export const MAX_API_BODY = 256 * 1024;

function jsonBody(m: Message): unknown {
  if (m.body.length === 0) return {};
  if (m.body.length > MAX_API_BODY) throw err('TOO_LARGE', `a body of ${m.body.length} bytes (at most ${MAX_API_BODY})`);
  try {
    return JSON.parse(dec.decode(m.body)) as unknown;
  } catch {
    throw err('BAD_PARAM', 'the body is not JSON (UTF-8)');
  }
}

const json = (x: unknown): Uint8Array => enc.encode(JSON.stringify(x));

function kindParam(m: Message): Kind {
  const k = m.attrs.kind;
  if (k === undefined || !Object.hasOwn(KINDS, k)) throw err('BAD_PARAM', `kind: one of ${Object.keys(KINDS).join(', ')}`);
  return k as Kind;
}

/** The object a request is about (attribute `object`: `id` is the message's own id in STX). */
function idParam(m: Message): Guid {
  const id = m.attrs.object;
  if (!isGuid(id)) throw err('BAD_PARAM', 'object: a GUID');
  return id;
}

/** CommandError (the applications' words) as the API's error codes. */
function asStx(e: unknown): unknown {
  if (!(e instanceof CommandError)) return e;
  const code = e.code === 'NOT_FOUND' ? 'NOT_FOUND' : e.code === 'TOO_LARGE' ? 'TOO_LARGE' : e.code === 'NAME_TAKEN' || e.code === 'REJECTED' ? 'CONFLICT' : 'BAD_PARAM';
  return new StxError(code, e.message);
}

/** Serves the State API on one client connection. Returns what the server needs to see of it. */
export function serveApi(conn: SignalingConnection, opts: ApiServiceOptions): { identity(): Identity | undefined; close(): void } {
  const log = opts.log ?? silentLogger;
  const engine = opts.engine;
  let who: Identity | undefined;
  const subscriptions = new Map<string, { kind?: Kind; id?: Guid }>();
  let offChanges: (() => void) | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  /** One write at a time per connection: each checked against the state the previous one left. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const caller = (): Identity => {
    if (!who) throw err('UNAUTHENTICATED', 'send ApiRegister first');
    return who;
  };
  const aclOf = (id: Guid): Acl | undefined => engine.get<Acl>(id, ACL_TYPE)?.state;
  const may = (right: Right, c: Identity, o: BusinessObject): boolean => mayAccess(engine, right, c, o);
  const view = (o: BusinessObject, kind: Kind): unknown => {
    if (kind === 'playlist') return playlistView(engine, o as never);
    if (kind === 'channel') return channelView(engine, o as never);
    const meta = o.state as MediaMetadata;
    return { title: meta.title, duration: meta.duration, container: meta.container, size: meta.size, frames: meta.frames, tracks: meta.tracks };
  };
  const toApi = (o: BusinessObject): ApiObject => {
    const kind = KIND_OF.get(o.type)!;
    return { id: o.id, kind, version: o.ts.toString(), owner: o.owner, view: view(o, kind) };
  };
  /** The object if `c` may read it; NOT_FOUND otherwise, the same as for one that does not exist. */
  const readable = (c: Identity, id: Guid, kind?: Kind): BusinessObject => {
    // by kind: one GUID holds several chains (the object's own, its ACL's)
    const types = kind === undefined ? [...KIND_OF.keys()] : [KINDS[kind]];
    const o = types.map((t) => engine.get(id, t)).find((x) => x !== undefined);
    if (!o || !may('read', c, o)) throw err('NOT_FOUND', `no object ${id}`);
    return o;
  };
  /** The object if `c` may change it (`right`); NOT_FOUND if it may not even read it, else FORBIDDEN. */
  const changeable = (c: Identity, id: Guid, right: Right, kind?: Kind): BusinessObject => {
    const o = readable(c, id, kind);
    if (!may(right, c, o)) throw err('FORBIDDEN', `${c.anonymous ? 'anonymous' : c.user} may not ${right === 'admin' ? 'change the ACL of' : 'change'} ${id}`);
    return o;
  };
  const checkVersion = (o: BusinessObject, m: Message): void => {
    const want = m.attrs.ifVersion;
    if (want !== undefined && want !== o.ts.toString()) throw err('CONFLICT', `${o.id} is at version ${o.ts} (you named ${want})`);
  };
  const writer = (c: Identity): ObjectWriter => opts.writerFor(c.guid);

  conn.handle(ApiMethod.Register, async (m) => {
    if (who) throw err('BAD_PARAM', 'already registered');
    try {
      who = await opts.authenticate({ token: m.attrs.token, proof: m.attrs.proof, binding: await opts.binding });
    } catch (e) {
      throw err('UNAUTHENTICATED', (e as Error).message);
    }
    log.info('api client registered', { user: who.user, anonymous: who.anonymous, device: m.attrs.device, app: m.attrs.app });
    const attrs: Record<string, string> = { user: who.user, anonymous: who.anonymous ? '1' : '0' };
    if (opts.server) attrs.server = opts.server;
    // one redirect, never a chain: a client that was sent here stays
    const go = m.attrs.redirected === '1' ? undefined : opts.redirect?.();
    if (go) {
      attrs.redirect = go.url;
      attrs.reason = go.reason;
      log.info('api client redirected', { user: who.user, to: go.url, reason: go.reason });
    } else if (m.attrs.redirected !== '1') {
      // the other servers it may measure its round trip to, and move to when one is much nearer
      const others = opts.servers?.().slice(0, 8) ?? [];
      if (others.length > 0) attrs.servers = others.join(' ');
    }
    return { attrs };
  });

  conn.handle(ApiMethod.Unregister, () => {
    const c = caller();
    who = undefined;
    offChanges?.();
    offChanges = undefined;
    subscriptions.clear();
    log.info('api client unregistered', { user: c.user });
    return { attrs: { user: c.user } };
  });

  conn.handle(ApiMethod.List, (m) => {
    const c = caller();
    const kind = kindParam(m);
    const limit = Math.min(opts.maxList ?? 1000, m.attrs.limit === undefined ? Infinity : Number(m.attrs.limit));
    if (!(limit > 0)) throw err('BAD_PARAM', 'limit: a positive number');
    const after = m.attrs.after;
    const objects = engine
      .list(KINDS[kind])
      .filter((o) => may('read', c, o))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .filter((o) => after === undefined || o.id > after);
    const page = objects.slice(0, limit).map(toApi);
    return { attrs: { count: String(page.length), more: objects.length > page.length ? '1' : '0' }, body: json(page) };
  });

  conn.handle(ApiMethod.Get, (m) => {
    const c = caller();
    return { body: json(toApi(readable(c, idParam(m), m.attrs.kind === undefined ? undefined : kindParam(m)))) };
  });

  conn.handle(ApiMethod.Create, (m) =>
    serial(async () => {
      const c = caller();
      if (c.anonymous) throw err('FORBIDDEN', 'anonymous clients may not create objects');
      const kind = kindParam(m);
      const body = jsonBody(m);
      // readers, writers (comma-separated principals): the new object's ACL, written right after it
      const list = (name: 'readers' | 'writers') => (m.attrs[name] === undefined ? undefined : m.attrs[name].split(',').filter((p) => p !== ''));
      const readers = list('readers');
      const writers = list('writers');
      try {
        const acl = readers || writers ? normalizeAcl({ object: NIL_GUID, owner: c.user, readers: readers ?? [], writers: writers ?? [] }) : undefined;
        const created = kind === 'playlist' ? await createPlaylist(writer(c), body) : kind === 'channel' ? await createChannel(writer(c), body) : undefined;
        if (!created) throw err('UNSUPPORTED', 'media objects are made by Upload');
        const id = created.id as Guid;
        if (acl) await writer(c).create({ type: ACL_TYPE, object: id, prevTs: 0n, user: c.guid }, encodeAcl({ ...acl, object: id }));
        return { body: json(toApi(readable(c, id, kind))) };
      } catch (e) {
        throw asStx(e);
      }
    }),
  );

  conn.handle(ApiMethod.Modify, (m) =>
    serial(async () => {
      const c = caller();
      const id = idParam(m);
      const o = changeable(c, id, 'write');
      checkVersion(o, m);
      const kind = KIND_OF.get(o.type)!;
      const body = jsonBody(m);
      try {
        if (kind === 'playlist') await editPlaylist(writer(c), id, body);
        else if (kind === 'channel') await editChannel(writer(c), id, body);
        else throw err('UNSUPPORTED', 'media objects are changed through their own operations');
      } catch (e) {
        throw asStx(e);
      }
      return { body: json(toApi(readable(c, id))) };
    }),
  );

  conn.handle(ApiMethod.Delete, (m) =>
    serial(async () => {
      const c = caller();
      const id = idParam(m);
      const o = changeable(c, id, 'write');
      checkVersion(o, m);
      const kind = KIND_OF.get(o.type)!;
      try {
        if (kind === 'playlist') await deletePlaylist(writer(c), id);
        else if (kind === 'channel') await deleteChannel(writer(c), id);
        else throw err('UNSUPPORTED', 'deleting media is not offered yet (an ACL can hide it)');
      } catch (e) {
        throw asStx(e);
      }
      return { attrs: { object: id, deleted: '1' } };
    }),
  );

  conn.handle(ApiMethod.GetAcl, (m) => {
    const c = caller();
    const o = readable(c, idParam(m));
    const acl = aclOf(o.id);
    return { body: json(acl ?? { object: o.id, owner: null, readers: [], writers: [] }) };
  });

  conn.handle(ApiMethod.SetAcl, (m) =>
    serial(async () => {
      const c = caller();
      const id = idParam(m);
      const o = changeable(c, id, 'admin');
      const body = jsonBody(m) as Partial<Acl>;
      const current = engine.get<Acl>(id, ACL_TYPE);
      let acl: Acl;
      try {
        acl = normalizeAcl({
          object: o.id,
          owner: typeof body.owner === 'string' ? body.owner : (current?.state?.owner ?? c.user),
          readers: Array.isArray(body.readers) ? body.readers.map(String) : [],
          writers: Array.isArray(body.writers) ? body.writers.map(String) : [],
        });
      } catch (e) {
        throw asStx(e);
      }
      await writer(c).create({ type: ACL_TYPE, object: o.id, prevTs: current?.ts ?? 0n, user: c.guid }, encodeAcl(acl));
      const now = aclOf(o.id);
      if (JSON.stringify(now) !== JSON.stringify(acl)) throw err('CONFLICT', 'the ACL change was not applied (a concurrent change won)');
      return { body: json(now) };
    }),
  );

  const notify = (e: ChangeEvent): void => {
    const o = e.object;
    const kind = KIND_OF.get(o.type);
    const c = who;
    if (!kind || !c) return;
    // (an ACL change is not announced yet: the objects it opens show at the next List)
    const wanted = [...subscriptions.values()].some((s) => (s.id === undefined || s.id === o.id) && (s.kind === undefined || s.kind === kind));
    if (!wanted) return;
    const visible = e.kind === 'deleted' || e.kind === 'removed' ? true : may('read', c, o);
    if (!visible) return;
    conn.send(ApiMethod.Changed, { attrs: { object: o.id, kind, change: e.kind, version: o.ts.toString() } });
  };

  conn.handle(ApiMethod.Subscribe, (m) => {
    caller();
    const sub = { kind: m.attrs.kind === undefined ? undefined : kindParam(m), id: m.attrs.object === undefined ? undefined : idParam(m) };
    const key = `${sub.kind ?? '*'}:${sub.id ?? '*'}`;
    if (!subscriptions.has(key) && subscriptions.size >= (opts.maxSubscriptions ?? 64)) throw err('TOO_MANY', `at most ${opts.maxSubscriptions ?? 64} subscriptions`);
    subscriptions.set(key, sub);
    offChanges ??= engine.onChange(notify);
    return { attrs: { subscriptions: String(subscriptions.size) } };
  });

  conn.handle(ApiMethod.Unsubscribe, (m) => {
    caller();
    const key = `${m.attrs.kind ?? '*'}:${m.attrs.object ?? '*'}`;
    subscriptions.delete(key);
    if (subscriptions.size === 0) {
      offChanges?.();
      offChanges = undefined;
    }
    return { attrs: { subscriptions: String(subscriptions.size) } };
  });

  conn.handle(ApiMethod.Ticket, async (m) => {
    const c = caller();
    if (c.anonymous) throw err('FORBIDDEN', 'anonymous clients need no ticket: the doors serve them what anonymous may read');
    if (!opts.tickets) throw err('UNSUPPORTED', 'this server issues no tickets');
    const object = m.attrs.object === undefined ? undefined : readable(c, idParam(m)).id;
    return { attrs: { ticket: await opts.tickets(c.user, object) } };
  });

  const closeFiles = serveFiles(conn, {
    caller,
    readableMedia: (id) => void readable(caller(), id, 'media'),
    adopt: async (media, readers, writers) => {
      const c = caller();
      const acl = normalizeAcl({ object: media, owner: c.user, readers: readers ?? [], writers: writers ?? [] });
      await writer(c).create({ type: ACL_TYPE, object: media, prevTs: engine.get(media, ACL_TYPE)?.ts ?? 0n, user: c.guid }, encodeAcl(acl));
      return toApi(readable(c, media, 'media'));
    },
    uploads: opts.uploads,
    downloads: opts.downloads,
    log,
  });

  const close = () => {
    closeFiles();
    offChanges?.();
    offChanges = undefined;
    subscriptions.clear();
  };
  conn.onClose(close);
  return { identity: () => who, close };
}
