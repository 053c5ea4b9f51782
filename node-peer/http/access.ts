// Who an HTTP API request is (docs/API.md, "Access control"). The HTTP API is the installation's own: a
// request from a loopback address without a ticket is the operator (the same trust as the CLI on the
// data folder: it reads everything and its writes are the server's). Any other request is the user of its
// `Authorization: Bearer <ticket>` (shared/api/ticket.ts) or anonymous: it reads only what that identity
// may read (the rest is 404, as if absent), and may not write here: users change objects through the State
// API, where every change is checked against the object's ACL.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { mayAccess } from '../../shared/api/access.ts';
import { AuthError } from '../../shared/api/token.ts';
import { CHANNEL, MEDIA_META, PLAYLIST, USAGE } from '../../shared/media/stu-types.ts';
import type { StateEngine } from '../../shared/state/engine.ts';
import { bearer, type DoorCaller, type Doors } from '../api/doors.ts';
import { type Route, sendError, sendJson } from './server.ts';

export type HttpCaller = 'installation' | DoorCaller;

export interface HttpAccess {
  /** The caller of a request; undefined when a bad ticket has been answered (401). */
  who(req: IncomingMessage, res: ServerResponse): Promise<HttpCaller | undefined>;
  /** May `c` read object `id` (a media, playlist, channel or usage object)? */
  readable(c: HttpCaller, id: string): boolean;
  /** True for the installation; otherwise answers 403 and returns false. */
  mayWrite(c: HttpCaller, res: ServerResponse): boolean;
}

const isLoopback = (addr: string | undefined): boolean => addr !== undefined && isIP(addr.replace(/^::ffff:/, '')) !== 0 && /^(127\.|::1$|::ffff:127\.)/.test(addr);

/** `localAdmin` false: loopback requests are callers like any other (behind a reverse proxy on this machine). */
export function httpAccess(engine: StateEngine, doors: Doors, opts: { localAdmin?: boolean } = {}): HttpAccess {
  return {
    async who(req, res) {
      const ticket = bearer(req.headers.authorization);
      if (ticket === undefined && opts.localAdmin !== false && isLoopback(req.socket.remoteAddress)) return 'installation';
      try {
        return await doors.caller(ticket);
      } catch (e) {
        if (!(e instanceof AuthError)) throw e;
        sendError(res, 401, e.message);
        return undefined;
      }
    },
    readable(c, id) {
      if (c === 'installation') return true;
      if (c.object !== undefined && c.object !== id) return false;
      for (const t of [MEDIA_META, PLAYLIST, CHANNEL, USAGE]) {
        const o = engine.get(id as never, t);
        if (o && !o.deleted) return mayAccess(engine, 'read', c, o);
      }
      return false;
    },
    mayWrite(c, res) {
      if (c === 'installation') return true;
      sendError(res, 403, 'the HTTP API takes writes from this machine only (a loopback address, no ticket); change objects through the State API (docs/API.md)');
      return false;
    },
  };
}

/** Everything allowed: servers built without access control (tests of other parts, tools). */
export const OPEN_HTTP: HttpAccess = { who: async () => 'installation', readable: () => true, mayWrite: () => true };

/** A route that changes state: for the installation only (403 otherwise, the body left unread). */
export const installationOnly = (access: HttpAccess, route: Route): Route => ({
  ...route,
  handler: async (req, res, url) => {
    const c = await access.who(req, res);
    if (!c || !access.mayWrite(c, res)) return void req.resume();
    return route.handler(req, res, url);
  },
});

/** A GET answered with the items of a list the caller may read (`idOf` names each item's object). */
export const readableList = <T>(access: HttpAccess, path: string, list: () => T[], idOf: (item: T) => string): Route => ({
  method: 'GET',
  path,
  handler: async (req, res) => {
    const c = await access.who(req, res);
    if (c) sendJson(res, 200, list().filter((x) => access.readable(c, idOf(x))));
  },
});
