// The HTTP API of playlists, channels and usage:
//   GET/POST /api/playlists, GET/PATCH/DELETE /api/playlists/ID
//   GET/POST /api/channels,  GET/PATCH/DELETE /api/channels/ID-or-NAME
//   GET /api/usage
// Edits go through shared/media/playlist-edit.ts and channel-edit.ts (checked, one STU each, replicated by
// sync), one at a time per server. Errors are JSON {error}: 400 bad input, 404 unknown object, 409 name
// taken or change refused, 413 body too large, 415 not JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createChannel, deleteChannel, editChannel, getChannel, channelView, listChannelViews } from '../../shared/media/channel-edit.ts';
import { CommandError } from '../../shared/media/playlist-errors.ts';
import { createPlaylist, deletePlaylist, editPlaylist, getPlaylist, listPlaylists, type ObjectWriter, playlistView } from '../../shared/media/playlist-edit.ts';
import { USAGE } from '../../shared/media/stu-types.ts';
import type { UsageState } from '../../shared/media/usage.ts';
import type { StateNode } from '../node.ts';
import { installationUsage, usageTotals } from '../media/usage.ts';
import { type HttpAccess, type HttpCaller, OPEN_HTTP } from './access.ts';
import { readJson, type Route, sendError, sendJson } from './server.ts';

/** Largest request body: a playlist created with many clips. */
export const MAX_EDIT_BODY = 256 * 1024;

const STATUS: Record<CommandError['code'], number> = {
  BAD_XML: 400,
  BAD_COMMAND: 400,
  BAD_INPUT: 400,
  TOO_LARGE: 413,
  NOT_FOUND: 404,
  NAME_TAKEN: 409,
  REJECTED: 409,
};

type Node = Pick<StateNode, 'engine' | 'stus'>;

export function playlistRoutes(node: Node, access: HttpAccess = OPEN_HTTP): Route[] {
  const writer: ObjectWriter = { engine: node.engine, create: (init, body) => node.stus.create(init, body) };
  let queue: Promise<unknown> = Promise.resolve();
  /** One edit at a time: each is checked against the state the previous one left. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const answer = async (res: ServerResponse, status: number, fn: () => unknown): Promise<void> => {
    try {
      sendJson(res, status, await fn());
    } catch (e) {
      if (e instanceof CommandError) return sendError(res, STATUS[e.code], e.message);
      throw e;
    }
  };
  /** The ID (or name) after the prefix; undefined (and a 404 sent) when there is none or more path follows. */
  const refOf = (res: ServerResponse, url: URL, prefix: string): string | undefined => {
    let ref: string;
    try {
      ref = decodeURIComponent(url.pathname.slice(prefix.length));
    } catch {
      ref = '';
    }
    if (ref === '' || ref.includes('/')) {
      sendError(res, 404, `no such resource: ${url.pathname}`);
      return undefined;
    }
    return ref;
  };
  /** What `c` may see of a view (a list: the readable items; one object: itself or NOT_FOUND). */
  const hide = (c: HttpCaller, x: unknown): unknown => {
    if (c === 'installation') return x;
    if (Array.isArray(x)) return x.filter((o: { id: string }) => access.readable(c, o.id));
    const id = (x as { id?: string }).id;
    if (id !== undefined && !access.readable(c, id)) throw new CommandError('NOT_FOUND', `no such object: ${id}`);
    return x;
  };
  /** A change without a body (DELETE), from the installation only. */
  const write = async (req: IncomingMessage, res: ServerResponse, fn: () => Promise<unknown>): Promise<void> => {
    const c = await access.who(req, res);
    if (c && access.mayWrite(c, res)) await answer(res, 200, () => serial(fn));
  };
  /** A read, answered with what the caller may see. */
  const read = async (req: IncomingMessage, res: ServerResponse, fn: (c: HttpCaller) => unknown): Promise<void> => {
    const c = await access.who(req, res);
    if (c) await answer(res, 200, async () => hide(c, await fn(c)));
  };
  const withBody = async (req: IncomingMessage, res: ServerResponse, fn: (body: Record<string, unknown>) => unknown, status = 200) => {
    const c = await access.who(req, res);
    if (!c || !access.mayWrite(c, res)) return void req.resume();
    const body = await readJson(req, res, MAX_EDIT_BODY);
    if (body) await answer(res, status, () => serial(async () => fn(body)));
  };

  return [
    { method: 'GET', path: '/api/playlists', handler: (req, res) => read(req, res, () => listPlaylists(node.engine)) },
    { method: 'POST', path: '/api/playlists', handler: (req, res) => withBody(req, res, (b) => createPlaylist(writer, b), 201) },
    {
      method: 'GET',
      path: '/api/playlists/',
      handler: (req, res, url) => {
        const id = refOf(res, url, '/api/playlists/');
        if (id !== undefined) return read(req, res, () => playlistView(node.engine, getPlaylist(node.engine, id)));
      },
    },
    {
      method: 'PATCH',
      path: '/api/playlists/',
      handler: async (req, res, url) => {
        const id = refOf(res, url, '/api/playlists/');
        if (id === undefined) return void req.resume();
        await withBody(req, res, (b) => editPlaylist(writer, id, b));
      },
    },
    {
      method: 'DELETE',
      path: '/api/playlists/',
      handler: (req, res, url) => {
        const id = refOf(res, url, '/api/playlists/');
        if (id !== undefined) return write(req, res, () => deletePlaylist(writer, id));
      },
    },
    { method: 'GET', path: '/api/channels', handler: (req, res) => read(req, res, () => listChannelViews(node.engine)) },
    { method: 'POST', path: '/api/channels', handler: (req, res) => withBody(req, res, (b) => createChannel(writer, b), 201) },
    {
      method: 'GET',
      path: '/api/channels/',
      handler: (req, res, url) => {
        const ref = refOf(res, url, '/api/channels/');
        if (ref === undefined) return;
        return read(req, res, () => {
          const c = getChannel(node.engine, ref);
          return channelView(node.engine, c.object, c.shadowedBy);
        });
      },
    },
    {
      method: 'PATCH',
      path: '/api/channels/',
      handler: async (req, res, url) => {
        const ref = refOf(res, url, '/api/channels/');
        if (ref === undefined) return void req.resume();
        await withBody(req, res, (b) => editChannel(writer, ref, b));
      },
    },
    {
      method: 'DELETE',
      path: '/api/channels/',
      handler: (req, res, url) => {
        const ref = refOf(res, url, '/api/channels/');
        if (ref !== undefined) return write(req, res, () => deleteChannel(writer, ref));
      },
    },
    {
      method: 'GET',
      path: '/api/usage',
      handler: (req, res) =>
        read(req, res, (c) => {
          const media: Record<string, ReturnType<typeof usageTotals>> = {};
          for (const o of node.engine.list(USAGE)) {
            const s = o.state as UsageState | undefined;
            if (s?.scope === 'media' && access.readable(c, o.id)) media[o.id] = usageTotals(s);
          }
          return { total: installationUsage(node.engine), media };
        }),
    },
  ];
}
