// The HTTP face of a state server: the JSON API now; the web app, signaling bootstrap and HLS join it later.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AddressGuard, refusal } from './address-guard.ts';
import type { Logger } from '../../shared/log.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Exact path, or a prefix ending in '/'. */
  path: string;
  handler: Handler;
  /** Pages of any origin may call it (a WebRTC offer: what comes of it is decided by the protocol, not the origin). */
  anyOrigin?: boolean;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
  });
  res.end(text);
}

/** Reads a request body of at most `limit` bytes; undefined (and a 413 sent) when larger. */
export async function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    sendError(res, 413, `body larger than ${limit} bytes`);
    req.resume();
    return undefined;
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        sendError(res, 413, `body larger than ${limit} bytes`);
        req.destroy();
        return undefined;
      }
      parts.push(chunk);
    }
  } catch {
    // the client went away before its body was complete ("aborted"): nobody is left to answer
    res.destroy();
    return undefined;
  }
  return Buffer.concat(parts);
}

/** Reads a JSON object body; undefined (and a 400/413/415 sent) when it is not one. */
export async function readJson(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Record<string, unknown> | undefined> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
    sendError(res, 415, 'content-type must be application/json');
    req.resume();
    return undefined;
  }
  const body = await readBody(req, res, limit);
  if (!body) return undefined;
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  sendError(res, 400, 'body is not a JSON object');
  return undefined;
}

export const sendError = (res: ServerResponse, status: number, message: string): void => sendJson(res, status, { error: message });

/** Statuses that blame the request itself: counted against its address (node-peer/http/address-guard.ts). */
const INVALID = new Set([400, 405, 413, 414, 415, 431]);

/** Takes over the socket of an `Upgrade` request (node-peer/api/websocket.ts). */
export type UpgradeHandler = (req: IncomingMessage, socket: Socket, head: Buffer) => void;

export function startHttp(routes: Route[], host: string, port: number, log: Logger, guard = new AddressGuard(), upgrades: Record<string, UpgradeHandler> = {}): Promise<Server> {
  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const addr = req.socket.remoteAddress;
    res.once('finish', () => {
      if (INVALID.has(res.statusCode) && guard.invalid(addr)) log.warn('address refused: too many invalid HTTP requests', { address: addr, limit: guard.limits.invalidLimit });
    });
    if (guard.banned(addr)) {
      res.setHeader('connection', 'close');
      return sendError(res, 429, refusal('banned', addr, guard.limits).reason);
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, 400, 'malformed request target');
      return;
    }
    const matches = routes.filter((r) => (r.path.endsWith('/') ? url.pathname.startsWith(r.path) : url.pathname === r.path));
    if (matches.length === 0) return sendError(res, 404, `no such resource: ${url.pathname}`);
    if (req.method === 'OPTIONS') {
      // pages of any origin may read (what anonymous may read); only the server's own pages may write: a
      // preflight for anything but GET gets no allow-origin, so the browser does not send it (docs/SECURITY.md)
      const wanted = String(req.headers['access-control-request-method'] ?? 'GET').toUpperCase();
      const reads = wanted === 'GET' || wanted === 'HEAD' || matches.some((r) => r.method === wanted && r.anyOrigin === true);
      res.writeHead(204, reads ? { 'access-control-allow-origin': '*', 'access-control-allow-methods': `GET, HEAD${wanted === 'GET' || wanted === 'HEAD' ? '' : `, ${wanted}`}`, 'access-control-allow-headers': 'content-type, range, if-match, authorization' } : { allow: matches.map((r) => r.method).join(', ') });
      return res.end();
    }
    const route = matches.find((r) => r.method === req.method || (req.method === 'HEAD' && r.method === 'GET'));
    if (!route) {
      res.setHeader('allow', matches.map((r) => r.method).join(', '));
      return sendError(res, 405, `${req.method} is not allowed on ${url.pathname}`);
    }
    Promise.resolve()
      .then(() => route.handler(req, res, url))
      .catch((e: unknown) => {
        log.error('http handler failed', { path: url.pathname, error: String(e) });
        if (!res.headersSent) sendError(res, 500, 'internal error');
        else res.destroy();
      });
  });
  server.on('connection', (socket) => {
    const addr = socket.remoteAddress;
    const a = guard.admit(addr);
    if (a !== 'ok') {
      const { status, reason } = refusal(a, addr, guard.limits);
      const body = JSON.stringify({ error: reason });
      socket.end(`HTTP/1.1 ${status} ${status === 429 ? 'Too Many Requests' : 'Service Unavailable'}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      socket.destroySoon();
      return;
    }
    socket.once('close', () => guard.release(addr));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      path = '';
    }
    const handler = Object.hasOwn(upgrades, path) ? upgrades[path] : undefined;
    if (!handler || guard.banned(socket.remoteAddress)) {
      const status = handler ? '429 Too Many Requests' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
      return;
    }
    try {
      handler(req, socket, head);
    } catch (e) {
      log.error('upgrade handler failed', { path, error: String(e) });
      socket.destroy();
    }
  });
  server.on('clientError', (err, socket) => {
    const addr = (socket as Socket).remoteAddress;
    if (guard.invalid(addr)) log.warn('address refused: too many invalid HTTP requests', { address: addr });
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy(err);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
