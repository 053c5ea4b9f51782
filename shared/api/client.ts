// The State API, client side: a small typed library over one signaling connection (a WebSocket or a WebRTC
// data channel). Every call is an STX request with an id and an asynchronous Reply; many may be
// outstanding. Errors are StxError REMOTE_ERROR whose `remoteCode` is the server's code (UNAUTHENTICATED,
// NOT_FOUND, FORBIDDEN, CONFLICT, BAD_PARAM, TOO_LARGE, UNSUPPORTED).
import type { Guid } from '../stu/index.ts';
import type { SignalingConnection } from '../stx/connection.ts';
import type { Message } from '../stx/message.ts';
import { Emitter } from '../util/emitter.ts';
import type { Acl } from './acl.ts';
import { err } from '../stx/errors.ts';
import { fromBase64Url } from '../util/base64.ts';
import { FILE_CHUNK, FileMethod } from './files.ts';
import { presentCredential } from './token.ts';
import { ApiMethod, type ApiObject, type Kind } from './service.ts';

export interface Change {
  id: Guid;
  kind: Kind;
  change: string;
  version: string;
}

/** A client on one connection, with what a credential's proof is made over. */
export interface ApiConnection {
  client: ApiClient;
  /** The connection's channel binding (both DTLS fingerprints for WebRTC; the server's nonce for a WebSocket). */
  binding: Uint8Array;
  close(): void;
}

/** What ApiRegister answered. */
export interface Registered {
  user: string;
  anonymous: boolean;
  /** The server's GUID. */
  server?: string;
  /** Go there instead (and say `redirected` when registering there). */
  redirect?: { url: string; reason: string };
  /** The other servers of the cluster, to measure (openApi moves to one much nearer). */
  servers?: string[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const parse = <T>(m: Message): T => JSON.parse(dec.decode(m.body)) as T;
const body = (x: unknown): Uint8Array => enc.encode(JSON.stringify(x));

export class ApiClient {
  /** Changes of subscribed objects (Subscribe first). */
  readonly changes = new Emitter<Change>();

  constructor(readonly conn: SignalingConnection) {
    conn.handle(ApiMethod.Changed, (m) => {
      const { object, kind, change, version } = m.attrs;
      if (object && kind && change && version) this.changes.emit({ id: object as Guid, kind: kind as Kind, change, version });
    });
  }

  /**
   * Says who we are: a token and its proof over the connection's binding, or nothing (anonymous). The
   * server may answer with a redirect (a nearer or less loaded server): `connectApi`'s callers follow it
   * (node-peer/api/open.ts); `redirected` says this connection is the result of one (never redirected again).
   */
  async register(opts: { token?: string; proof?: string; device?: string; app?: string; redirected?: boolean } = {}): Promise<Registered> {
    const attrs: Record<string, string> = {};
    for (const k of ['token', 'proof', 'device', 'app'] as const) if (opts[k] !== undefined) attrs[k] = opts[k];
    if (opts.redirected) attrs.redirected = '1';
    const r = await this.conn.request(ApiMethod.Register, { attrs });
    const out: Registered = { user: r.attrs.user ?? '', anonymous: r.attrs.anonymous === '1' };
    if (r.attrs.server) out.server = r.attrs.server;
    if (r.attrs.redirect) out.redirect = { url: r.attrs.redirect, reason: r.attrs.reason ?? '' };
    if (r.attrs.servers) out.servers = r.attrs.servers.split(' ').filter((u) => /^https?:\/\/\S+$/.test(u));
    return out;
  }

  /** Forgets who we are on this connection (and our subscriptions); register again to go on. */
  async unregister(): Promise<void> {
    await this.conn.request(ApiMethod.Unregister, {});
  }

  /** Registers as the user of a credential (stateos token issue): its token, with a proof over `binding`. */
  async login(credential: string, binding: Uint8Array, opts: { device?: string; app?: string; redirected?: boolean } = {}): Promise<Registered> {
    return this.register({ ...(await presentCredential(credential, binding)), ...opts });
  }

  /** Every object of a kind the caller may read (page after page). */
  async list(kind: Kind): Promise<ApiObject[]> {
    const out: ApiObject[] = [];
    let after: string | undefined;
    for (;;) {
      const attrs: Record<string, string> = { kind };
      if (after) attrs.after = after;
      const r = await this.conn.request(ApiMethod.List, { attrs });
      const page = parse<ApiObject[]>(r);
      out.push(...page);
      if (r.attrs.more !== '1' || page.length === 0) return out;
      after = page[page.length - 1].id;
    }
  }

  async get(id: Guid): Promise<ApiObject> {
    return parse(await this.conn.request(ApiMethod.Get, { attrs: { object: id } }));
  }

  /** Creates an object; `acl` writes its ACL with it (the caller its owner). */
  async create(kind: Kind, command: unknown, acl?: { readers?: string[]; writers?: string[] }): Promise<ApiObject> {
    const attrs: Record<string, string> = { kind };
    if (acl?.readers) attrs.readers = acl.readers.join(',');
    if (acl?.writers) attrs.writers = acl.writers.join(',');
    return parse(await this.conn.request(ApiMethod.Create, { attrs }, body(command)));
  }

  /** Changes an object (the application's command, as the HTTP API takes it); `ifVersion` guards a lost update. */
  async modify(id: Guid, command: unknown, ifVersion?: string): Promise<ApiObject> {
    const attrs: Record<string, string> = { object: id };
    if (ifVersion) attrs.ifVersion = ifVersion;
    return parse(await this.conn.request(ApiMethod.Modify, { attrs }, body(command)));
  }

  async delete(id: Guid): Promise<void> {
    await this.conn.request(ApiMethod.Delete, { attrs: { object: id } });
  }

  async getAcl(id: Guid): Promise<Acl | { object: Guid; owner: null; readers: []; writers: [] }> {
    return parse(await this.conn.request(ApiMethod.GetAcl, { attrs: { object: id } }));
  }

  async setAcl(id: Guid, acl: { owner?: string; readers: string[]; writers: string[] }): Promise<Acl> {
    return parse(await this.conn.request(ApiMethod.SetAcl, { attrs: { object: id } }, body(acl)));
  }

  /**
   * Uploads a media file (shared/api/files.ts): in chunks, each acknowledged, then ingested by the server;
   * the new media is the caller's (its ACL: owner the caller, `acl` readers and writers).
   */
  async upload(name: string, source: Uint8Array | { size: number; slice(start: number, end: number): Promise<Uint8Array> }, opts: { title?: string; readers?: string[]; writers?: string[]; onProgress?(sent: number, size: number): void } = {}): Promise<ApiObject> {
    const size = source instanceof Uint8Array ? source.length : source.size;
    const attrs: Record<string, string> = { name, size: String(size) };
    if (opts.title) attrs.title = opts.title;
    if (opts.readers) attrs.readers = opts.readers.join(',');
    if (opts.writers) attrs.writers = opts.writers.join(',');
    const r = await this.conn.request(FileMethod.Upload, { attrs });
    const upload = r.attrs.upload ?? '';
    const chunk = Math.max(1024, Math.min(Number(r.attrs.chunk) || FILE_CHUNK, FILE_CHUNK));
    try {
      for (let at = 0; at < size; at += chunk) {
        const end = Math.min(size, at + chunk);
        const bytes = source instanceof Uint8Array ? source.subarray(at, end) : await source.slice(at, end);
        await this.conn.request(FileMethod.UploadChunk, { attrs: { upload, offset: String(at) } }, bytes);
        opts.onProgress?.(end, size);
      }
      return parse(await this.conn.request(FileMethod.UploadDone, { attrs: { upload } }));
    } catch (e) {
      await this.conn.request(FileMethod.UploadCancel, { attrs: { upload } }).catch(() => undefined);
      throw e;
    }
  }

  /** Downloads a media as a fragmented MP4 (init segment, then every media segment), handing each chunk to `onBytes`. Resolves with the size. */
  async download(id: Guid, onBytes: (bytes: Uint8Array) => void | Promise<void>): Promise<number> {
    let segments = 1;
    let total = 0;
    for (let part = -1; part < segments; part++) {
      for (let offset = 0, more = true; more; ) {
        const r = await this.conn.request(FileMethod.Download, { attrs: { object: id, part: part < 0 ? 'init' : String(part), offset: String(offset) } });
        segments = Number(r.attrs.segments);
        await onBytes(r.body);
        offset += r.body.length;
        total += r.body.length;
        more = r.attrs.more === '1' && r.body.length > 0;
      }
    }
    return total;
  }

  /** A ticket for the HTTP, HLS and RTSP doors (/hls/t/<ticket>/…), for one object or all the user may read. */
  async ticket(object?: Guid): Promise<string> {
    const r = await this.conn.request(ApiMethod.Ticket, { attrs: object ? { object } : {} });
    return r.attrs.ticket ?? '';
  }

  async subscribe(what: { kind?: Kind; id?: Guid } = {}): Promise<void> {
    const attrs: Record<string, string> = {};
    if (what.kind) attrs.kind = what.kind;
    if (what.id) attrs.object = what.id;
    await this.conn.request(ApiMethod.Subscribe, { attrs });
  }
}

export interface OpenOptions {
  /** A credential (stateos token issue); without one, anonymous. */
  credential?: string;
  device?: string;
  app?: string;
  /** Follow a redirect (default true): one, never a chain. */
  follow?: boolean;
  /**
   * Measures the round trip to a server, ms (default: GET /api/health, 1 s at most; Infinity when it
   * fails). With the servers the first one offers, the client moves to one whose round trip is under half
   * of the first's and at least 5 ms less (measured round trip: docs/API.md, "Redirect").
   */
  measure?: (url: string) => Promise<number>;
}

/** The round trip of GET /api/health, ms, the best of two; Infinity when it fails or takes over 1 s. */
export async function measureRoundTrip(url: string): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    try {
      const r = await fetch(new URL('/api/health', url), { signal: AbortSignal.timeout(1000), cache: 'no-store' });
      await r.arrayBuffer();
      if (r.ok) best = Math.min(best, performance.now() - t0);
    } catch {
      return best;
    }
  }
  return best;
}

/** The server to move to among `offered`, by measured round trip; undefined to stay at `here`. */
export async function nearestServer(here: string, offered: string[], measure: (url: string) => Promise<number>): Promise<{ url: string; reason: string } | undefined> {
  const candidates = offered.filter((u) => u !== here).slice(0, 3);
  if (candidates.length === 0) return undefined;
  const [mine, ...theirs] = await Promise.all([here, ...candidates].map((u) => measure(u).catch(() => Infinity)));
  const i = theirs.indexOf(Math.min(...theirs));
  const best = theirs[i];
  if (!(best < mine / 2 && mine - best >= 5)) return undefined;
  return { url: candidates[i], reason: `nearer: ${best.toFixed(1)} ms round trip there, ${mine.toFixed(1)} ms here` };
}

/**
 * Connects with `connect` (WebRTC or WebSocket), registers, and follows the server's redirect once: a
 * redirected client registers there saying so (never redirected again); when the other server cannot be
 * reached, it goes back to the first and stays.
 */
export async function openApi(url: string, connect: (url: string) => Promise<ApiConnection>, opts: OpenOptions = {}): Promise<{ conn: ApiConnection; url: string; registered: Registered; redirected?: { from: string; reason: string } }> {
  const register = async (c: ApiConnection, redirected: boolean) => {
    const base = { device: opts.device, app: opts.app, redirected };
    return opts.credential ? c.client.login(opts.credential, c.binding, base) : c.client.register(base);
  };
  const first = await connect(url);
  let registered: Registered;
  try {
    registered = await register(first, false);
  } catch (e) {
    first.close();
    throw e;
  }
  const go = registered.redirect ?? (opts.follow !== false && registered.servers?.length ? await nearestServer(url, registered.servers, opts.measure ?? measureRoundTrip) : undefined);
  if (!go || opts.follow === false) return { conn: first, url, registered };
  first.close();
  try {
    const there = await connect(go.url);
    try {
      return { conn: there, url: go.url, registered: await register(there, true), redirected: { from: url, reason: go.reason } };
    } catch (e) {
      there.close();
      throw e;
    }
  } catch {
    const back = await connect(url);
    return { conn: back, url, registered: await register(back, true) };
  }
}

/** The channel binding a WebSocket server sends first (ApiHello); rejects when the connection closes before it. */
export function helloBinding(conn: SignalingConnection): Promise<Uint8Array> {
  const binding = new Promise<Uint8Array>((resolve, reject) => {
    conn.handle(ApiMethod.Hello, (m) => {
      const b = fromBase64Url(m.attrs.binding ?? '');
      if (!b || b.length !== 32) reject(err('BAD_PARAM', 'ApiHello without a 32-byte binding'));
      else resolve(b);
    });
    conn.onClose((reason) => reject(err('CLOSED', `the WebSocket closed before ApiHello: ${reason}`)));
  });
  binding.catch(() => undefined); // awaited by the caller; not unhandled when the socket fails first
  return binding;
}
