// The State API over a WebSocket (docs/API.md), for tools that cannot do WebRTC: `GET /api/ws` with
// `Upgrade: websocket`, version 13 and the subprotocol `stx.1`. Frames by our own codec
// (shared/stx/ws/codec.ts) on the raw socket; the STX connection runs over it unchanged. The channel
// binding is 32 random bytes the server sends first, as the one-way message `ApiHello binding=…`, so a
// token's proof is made for this connection alone. The server pings every 20 s and closes a socket silent
// for 60 s. Limits: 1 MiB per message, 256 WebSocket clients and 8 per remote address (503), and the HTTP
// server's own per-address guard and 10 s for the handshake's headers (node-peer/http/server.ts).
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ApiMethod } from '../../shared/api/service.ts';
import { SignalingConnection } from '../../shared/stx/connection.ts';
import { CloseCode, closePayload, encodeFrame, FrameParser, Opcode, WsError } from '../../shared/stx/ws/codec.ts';
import { WS_MAX_MESSAGE, WS_SUBPROTOCOL, WsChannel } from '../../shared/stx/ws/channel.ts';
import { toBase64Url } from '../../shared/util/base64.ts';
import { type ClientServiceOptions, serveClient } from './index.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const acceptKey = (key: string): string => createHash('sha1').update(key + GUID).digest('base64');

export interface SocketTimers {
  /** Ping this often (server). Default 20 s; 0: never. */
  pingMs?: number;
  /** Close a socket that sent nothing for this long. Default 60 s; 0: never. */
  idleMs?: number;
}

/**
 * A WsChannel on a socket that has finished the handshake. `role` says who masks: a client masks what it
 * sends and requires unmasked frames, a server the reverse. `head`: bytes that came with the handshake.
 */
export function socketChannel(socket: Socket, role: 'server' | 'client', head: Uint8Array, timers: SocketTimers = {}): WsChannel {
  const channel = new WsChannel();
  const parser = new FrameParser({ masked: role === 'server', maxMessage: WS_MAX_MESSAGE });
  const mask = () => (role === 'client' ? new Uint8Array(randomBytes(4)) : undefined);
  let closeSent = false;
  let heard = Date.now();
  const write = (opcode: number, payload: Uint8Array) => {
    if (!socket.destroyed && socket.writable) socket.write(encodeFrame(opcode, payload, mask()));
  };
  const sendClose = (code: number, reason: string) => {
    if (closeSent) return;
    closeSent = true;
    write(Opcode.close, closePayload(code, reason));
    socket.end();
    // a peer that never answers the close does not hold the socket
    setTimeout(() => socket.destroy(), 2000).unref();
  };
  const pingMs = timers.pingMs ?? (role === 'server' ? 20_000 : 0);
  const idleMs = timers.idleMs ?? (role === 'server' ? 60_000 : 0);
  const timer =
    pingMs > 0 || idleMs > 0
      ? setInterval(() => {
          if (idleMs > 0 && Date.now() - heard > idleMs) return sendClose(CloseCode.goingAway, `nothing heard for ${Math.round(idleMs / 1000)} s`);
          if (pingMs > 0) write(Opcode.ping, new Uint8Array(0));
        }, Math.max(100, Math.min(pingMs || idleMs, idleMs || pingMs)))
      : undefined;
  timer?.unref();

  const onBytes = (chunk: Uint8Array) => {
    heard = Date.now();
    let events;
    try {
      events = parser.push(chunk);
    } catch (e) {
      const code = e instanceof WsError ? e.code : CloseCode.internal;
      sendClose(code, (e as Error).message);
      channel.ended(`protocol error: ${(e as Error).message}`);
      return;
    }
    for (const ev of events) {
      if (ev.type === 'message') {
        if (!ev.binary) {
          sendClose(CloseCode.invalidData, 'STX travels in binary messages');
          channel.ended('a text message');
          return;
        }
        channel.deliver(ev.data);
      } else if (ev.type === 'ping') write(Opcode.pong, ev.data);
      else if (ev.type === 'close') {
        sendClose(ev.code ?? CloseCode.normal, '');
        channel.ended(`closed by the peer${ev.code ? ` (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})` : ''}`);
      }
    }
  };
  channel.attach({
    send: (bytes) => write(Opcode.binary, bytes),
    get buffered() {
      return socket.writableLength;
    },
    close: (code, reason) => sendClose(code, reason),
  });
  socket.setNoDelay(true);
  socket.on('data', (d: Buffer) => onBytes(new Uint8Array(d.buffer, d.byteOffset, d.length)));
  socket.on('drain', () => channel.drained());
  socket.on('error', () => undefined); // followed by close
  socket.on('close', () => {
    clearInterval(timer);
    channel.ended('socket closed');
  });
  // what came with the handshake, then the rest, once the caller has subscribed to the channel
  process.nextTick(() => {
    if (head.length > 0) onBytes(head);
    socket.resume();
  });
  return channel;
}

export interface WsApiOptions extends ClientServiceOptions {
  /** WebSocket API clients at once. Default 256. */
  maxClients?: number;
  /** WebSocket API clients from one remote address at once. Default 8. */
  maxPerAddress?: number;
  timers?: SocketTimers;
}

/** The `GET /api/ws` upgrade handler: refuses a bad handshake with its status, serves the State API otherwise. */
export function wsApi(opts: WsApiOptions): { upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void; clients(): number; close(): void } {
  const live = new Set<WsChannel>();
  /** Open WebSocket clients by remote address (IPv4-mapped IPv6 and IPv4 are one address). */
  const from = new Map<string, number>();
  const addressOf = (socket: Socket) => (socket.remoteAddress ?? '?').replace(/^::ffff:(?=\d+\.)/i, '');
  const refuse = (socket: Socket, status: number, text: string, reason: string, extra = '') => {
    const body = JSON.stringify({ error: reason });
    // said, then gone: a socket taken from the HTTP server must not hold its close
    socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`, () => socket.destroy());
  };
  return {
    clients: () => live.size,
    close: () => {
      for (const c of live) c.close();
    },
    upgrade(req, socket, head) {
      socket.on('error', () => undefined);
      const h = req.headers;
      if (req.method !== 'GET') return refuse(socket, 405, 'Method Not Allowed', 'a WebSocket opens with GET');
      if (!/\bwebsocket\b/i.test(h.upgrade ?? '') || !/\bupgrade\b/i.test(h.connection ?? '')) return refuse(socket, 400, 'Bad Request', 'Upgrade: websocket and Connection: Upgrade are required');
      if (h['sec-websocket-version'] !== '13') return refuse(socket, 426, 'Upgrade Required', 'WebSocket version 13 only', 'sec-websocket-version: 13\r\n');
      const key = h['sec-websocket-key'];
      if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16 || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return refuse(socket, 400, 'Bad Request', 'Sec-WebSocket-Key: 16 bytes, base64');
      const protocols = (h['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!protocols.includes(WS_SUBPROTOCOL)) return refuse(socket, 400, 'Bad Request', `the subprotocol ${WS_SUBPROTOCOL} is required (Sec-WebSocket-Protocol)`);
      if (live.size >= (opts.maxClients ?? 256)) return refuse(socket, 503, 'Service Unavailable', `${live.size} WebSocket API clients already`);
      const address = addressOf(socket);
      const already = from.get(address) ?? 0;
      if (already >= (opts.maxPerAddress ?? 8)) return refuse(socket, 503, 'Service Unavailable', `too many connections from ${address} (${already} WebSocket API clients, at most ${opts.maxPerAddress ?? 8})`);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\nsec-websocket-protocol: ${WS_SUBPROTOCOL}\r\n\r\n`);
      const channel = socketChannel(socket, 'server', new Uint8Array(head), opts.timers);
      live.add(channel);
      from.set(address, already + 1);
      channel.onClose(() => {
        live.delete(channel);
        const n = (from.get(address) ?? 1) - 1;
        if (n > 0) from.set(address, n);
        else from.delete(address);
      });
      const conn = new SignalingConnection(channel, { log: opts.log, maxOutstanding: 256, maxInFlight: 256, maxWaiting: 1024 });
      conn.onClose(() => channel.close());
      const binding = new Uint8Array(randomBytes(32));
      serveClient(conn, opts, socket.remoteAddress, binding);
      conn.send(ApiMethod.Hello, { attrs: { binding: toBase64Url(binding) } });
    },
  };
}
