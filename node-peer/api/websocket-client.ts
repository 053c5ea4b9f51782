// A Node client of the State API over a WebSocket (node-peer/api/websocket.ts): our own HTTP/1.1 Upgrade
// handshake (the key's accept checked, the subprotocol stx.1 required), then the typed client
// (shared/api/client.ts) with the binding the server sends first (ApiHello). For tools and the CLI.
import { randomBytes } from 'node:crypto';
import { connect as tcp, type Socket } from 'node:net';
import { ApiClient, type ApiConnection, helloBinding } from '../../shared/api/client.ts';
import { SignalingConnection } from '../../shared/stx/connection.ts';
import { err } from '../../shared/stx/errors.ts';
import { WS_SUBPROTOCOL } from '../../shared/stx/ws/channel.ts';
import { acceptKey, socketChannel } from './websocket.ts';

const MAX_HANDSHAKE = 16 * 1024;

/** Connects to `url` (http://HOST:PORT of a server; the path /api/ws is added). */
export async function connectApiWs(url: string, opts: { timeoutMs?: number } = {}): Promise<ApiConnection> {
  const u = new URL('/api/ws', url);
  if (u.protocol !== 'http:') throw err('BAD_PARAM', `${url}: an http:// URL (TLS is for a proxy in front)`);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const key = randomBytes(16).toString('base64');
  const socket = tcp({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || 80) });
  const fail = (e: Error) => {
    socket.destroy();
    throw e;
  };
  // the handshake and the server's ApiHello, both within timeoutMs
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    socket.destroy(new Error(`no WebSocket from ${url} within ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    const head = await handshake(socket, u, key);
    const channel = socketChannel(socket, 'client', head);
    const conn = new SignalingConnection(channel);
    const binding = helloBinding(conn);
    const client = new ApiClient(conn);
    return { client, binding: await binding, close: () => conn.close('done') };
  } catch (e) {
    return fail(late ? err('TIMEOUT', `no WebSocket with ApiHello from ${u.href} within ${timeoutMs} ms`) : (e as Error));
  } finally {
    clearTimeout(timer);
  }
}

/** Sends the Upgrade request and reads the 101 answer; resolves with the bytes that followed it. */
function handshake(socket: Socket, u: URL, key: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) {
        if (got.length > MAX_HANDSHAKE) done(err('BAD_PARAM', 'the handshake answer is too long'));
        return;
      }
      const lines = got.subarray(0, end).toString('latin1').split('\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1];
      const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      if (status !== '101') {
        const body = got.subarray(end + 4).toString('utf8');
        return done(err('REFUSED', `GET ${u.href}: ${lines[0].slice(9)}${body ? ` ${body.slice(0, 300)}` : ''}`));
      }
      if (headers.get('sec-websocket-accept') !== acceptKey(key)) return done(err('BAD_PARAM', 'the server answered with the wrong Sec-WebSocket-Accept'));
      if (headers.get('sec-websocket-protocol') !== WS_SUBPROTOCOL) return done(err('BAD_PARAM', `the server did not agree to ${WS_SUBPROTOCOL}`));
      done(undefined, new Uint8Array(got.subarray(end + 4)));
    };
    const onClose = () => done(err('CLOSED', `${u.host} closed the connection during the handshake`));
    const onError = (e: Error) => done(err('CLOSED', `${u.host}: ${e.message}`));
    const done = (e?: Error, rest?: Uint8Array) => {
      // hold what follows (ApiHello may arrive in the same read as the 101) until the channel listens
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (e) reject(e);
      else resolve(rest!);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.once('connect', () =>
      socket.write(
        `GET ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\nsec-websocket-protocol: ${WS_SUBPROTOCOL}\r\n\r\n`,
      ),
    );
  });
}
