// The writes: the serving server's HTTP API for playlists and channels (docs/MEDIA.md, "Editing"). Only
// what the answer needs to follow the change is read back (the object's id and version); the lists show the
// change when its STU comes back to this page over WebRTC, never from the answer.
import type { ChannelOp, PlaylistOp } from './input.ts';

/** A request that failed: the server's JSON error (`{error, code?}`) and status, or why it could not be sent (status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** What a write answers with: the object as the server now holds it (the fields the editors read). */
export interface Written {
  id: string;
  version: string;
}

export interface PlaylistWritten extends Written {
  clips: { clip: string }[];
}

export interface NewChannel {
  name: string;
  title?: string;
  mode: 'live' | 'on-demand';
  playlists?: string[];
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** `server` (an http(s) URL) or, when empty, the page's own origin; without a trailing slash. */
export function apiBase(server: string | undefined, origin: string): string {
  return (server || origin).replace(/\/+$/, '');
}

/** What the editors write through: the HTTP API (HttpEditApi), or the State API when signed in (state-api.ts). */
export interface EditApi {
  readonly base: string;
  createPlaylist(title: string): Promise<PlaylistWritten>;
  editPlaylist(id: string, ops: PlaylistOp[]): Promise<PlaylistWritten>;
  deletePlaylist(id: string): Promise<{ id: string; deleted: true }>;
  createChannel(c: NewChannel): Promise<Written & { name: string }>;
  editChannel(id: string, ops: ChannelOp[]): Promise<Written>;
  deleteChannel(id: string): Promise<{ id: string; name: string; deleted: true }>;
}

export class HttpEditApi implements EditApi {
  constructor(
    /** The server's origin (http://host:port), no trailing slash. */
    readonly base: string,
    private readonly fetchFn: Fetch = (input, init) => fetch(input, init),
  ) {}

  createPlaylist(title: string): Promise<PlaylistWritten> {
    return this.send('POST', '/api/playlists', { title });
  }

  editPlaylist(id: string, ops: PlaylistOp[]): Promise<PlaylistWritten> {
    return this.send('PATCH', `/api/playlists/${encodeURIComponent(id)}`, { ops });
  }

  deletePlaylist(id: string): Promise<{ id: string; deleted: true }> {
    return this.send('DELETE', `/api/playlists/${encodeURIComponent(id)}`);
  }

  createChannel(c: NewChannel): Promise<Written & { name: string }> {
    return this.send('POST', '/api/channels', c);
  }

  editChannel(id: string, ops: ChannelOp[]): Promise<Written> {
    return this.send('PATCH', `/api/channels/${encodeURIComponent(id)}`, { ops });
  }

  deleteChannel(id: string): Promise<{ id: string; name: string; deleted: true }> {
    return this.send('DELETE', `/api/channels/${encodeURIComponent(id)}`);
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(`could not reach ${this.base}: ${(e as Error).message}`, 0);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) throw errorOf(res.status, res.statusText, json, text);
    if (typeof json !== 'object' || json === null) throw new ApiError(`the server answered ${res.status} without a JSON object`, res.status);
    return json as T;
  }
}

/** The server's `{error, code?}`; anything else is described by its status. */
export function errorOf(status: number, statusText: string, json: unknown, text: string): ApiError {
  if (typeof json === 'object' && json !== null && typeof (json as { error?: unknown }).error === 'string') {
    const { error, code } = json as { error: string; code?: unknown };
    return new ApiError(error, status, typeof code === 'string' ? code : undefined);
  }
  const snippet = text.trim().slice(0, 120);
  return new ApiError(`HTTP ${status}${statusText ? ` ${statusText}` : ''}${snippet ? `: ${snippet}` : ''}`, status);
}
