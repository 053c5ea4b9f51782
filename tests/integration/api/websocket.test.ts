// The State API over a WebSocket against a real `stateos serve` (GET /api/ws, our own codec on both ends):
// an anonymous client lists the sample and follows a playlist made over HTTP; a user logs in with a
// credential whose proof is bound to this connection's ApiHello nonce (the same proof fails on another
// connection); bad handshakes get their status; ApiHello is the first STX message; an unmasked frame, a
// text message, garbage and an oversized message each close their connection (with the RFC's close code)
// while another client keeps being served; the server answers pings and closes with a close frame; a 9th
// connection from one address is refused while other addresses are served. The socket channel itself:
// pings and the idle close (short timers), and bufferedAmount / onBufferedAmountLow from the socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcp, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptKey, socketChannel } from '../../../node-peer/api/websocket.ts';
import { connectApiWs } from '../../../node-peer/api/websocket-client.ts';
import type { ApiConnection } from '../../../shared/api/client.ts';
import { presentCredential } from '../../../shared/api/token.ts';
import { decodeBatch } from '../../../shared/stx/batch.ts';
import { StxError } from '../../../shared/stx/errors.ts';
import { decodeMessage } from '../../../shared/stx/message.ts';
import { CloseCode, closePayload, encodeFrame, FrameParser, Opcode, type WsEvent } from '../../../shared/stx/ws/codec.ts';
import { serve, type Served, stateos } from '../../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-ws-'));
let server: Served;
const open: ApiConnection[] = [];
const sockets: Socket[] = [];
const connect = async () => {
  const c = await connectApiWs(server.url);
  open.push(c);
  return c;
};
const MASK = Uint8Array.of(9, 8, 7, 6);
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A raw socket that did the handshake with `headers`; what the server answered, and the frames it sends after. */
function raw(headers: string, opts: { path?: string; method?: string; localAddress?: string } = {}): Promise<{ socket: Socket; answer: string; events: () => WsEvent[]; closed: Promise<void> }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = tcp({ host: u.hostname, port: Number(u.port), localAddress: opts.localAddress });
    sockets.push(socket);
    const parser = new FrameParser({ masked: false, maxMessage: 1 << 22 });
    const events: WsEvent[] = [];
    let head = Buffer.alloc(0);
    let answer: string | undefined;
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      if (answer !== undefined) return void events.push(...parser.push(new Uint8Array(d)));
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      answer = head.subarray(0, end).toString('latin1');
      const rest = head.subarray(end + 4);
      if (answer.startsWith('HTTP/1.1 101')) events.push(...parser.push(new Uint8Array(rest)));
      else answer += '\n' + rest.toString('utf8');
      resolve({ socket, answer, events: () => events, closed });
    });
    socket.once('connect', () => socket.write(`${opts.method ?? 'GET'} ${opts.path ?? '/api/ws'} HTTP/1.1\r\nhost: x\r\n${headers}\r\n`));
  });
}
const good = `upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: ${KEY}\r\nsec-websocket-protocol: stx.1\r\n`;

beforeAll(async () => {
  server = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--sample', '--rtsp', 'off']);
});
afterAll(async () => {
  for (const c of open) c.close();
  for (const s of sockets) s.destroy();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the State API over a WebSocket', () => {
  it('serves an anonymous client: the sample, and changes of playlists made over HTTP', async () => {
    const { client, binding } = await connect();
    expect(binding.length).toBe(32);
    expect(await client.register({ app: 'ws-test' })).toMatchObject({ user: 'anonymous', anonymous: true });
    const media = await client.list('media');
    expect(media.map((m) => m.view)).toEqual([expect.objectContaining({ title: 'stateos sample clip' })]);
    const changes: string[] = [];
    client.changes.on((c) => changes.push(c.change));
    await client.subscribe({ kind: 'playlist' });
    const r = await fetch(`${server.url}/api/playlists`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'over ws', clips: [{ media: media[0].id }] }) });
    expect(r.status).toBe(201);
    await expect.poll(() => changes, { timeout: 5000 }).toEqual(['created']);
  });

  it('logs a user in with a proof bound to this connection; the same proof fails on another', async () => {
    const issued = await stateos(['token', 'issue', '--user', 'wsuser', '--data', join(tmp, 'a')]);
    const credential = issued.stdout.trim();
    const first = await connect();
    const second = await connect();
    expect(Buffer.from(first.binding).equals(Buffer.from(second.binding))).toBe(false);
    const shown = await presentCredential(credential, first.binding);
    const replay = await second.client.register(shown).then(
      () => 'ok',
      (e: unknown) => (e as StxError).remoteCode,
    );
    expect(replay).toBe('UNAUTHENTICATED');
    expect(await first.client.register(shown)).toMatchObject({ user: 'wsuser', anonymous: false });
    expect((await first.client.create('playlist', { title: 'mine' })).view).toMatchObject({ title: 'mine' });
  });

  it('refuses bad handshakes with their status', async () => {
    expect((await raw(good.replace('stx.1', 'chat'))).answer).toMatch(/^HTTP\/1\.1 400[^]*stx\.1/);
    expect((await raw(good.replace('version: 13', 'version: 8'))).answer).toMatch(/^HTTP\/1\.1 426[^]*sec-websocket-version: 13/);
    expect((await raw(good.replace(KEY, 'short'))).answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await raw(good.replace('upgrade: websocket', 'upgrade: h2c'))).answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await raw(good.replace(`sec-websocket-key: ${KEY}\r\n`, ''))).answer).toMatch(/^HTTP\/1\.1 400[^]*Sec-WebSocket-Key/);
    expect((await raw(good.replace('sec-websocket-protocol: stx.1\r\n', ''))).answer).toMatch(/^HTTP\/1\.1 400[^]*stx\.1/);
    expect((await raw(good, { method: 'POST' })).answer).toMatch(/^HTTP\/1\.1 405/);
    const elsewhere = await raw(good, { path: '/api/wss' });
    expect(elsewhere.answer).toMatch(/^HTTP\/1\.1 404/);
    await elsewhere.closed;
    const ok = await raw(good);
    expect(ok.answer).toMatch(/^HTTP\/1\.1 101[^]*sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=[^]*sec-websocket-protocol: stx\.1/i);
    // it pings back, and a close is answered with a close
    // the first STX message is ApiHello with the connection's 32-byte binding
    await expect.poll(() => ok.events().some((e) => e.type === 'message')).toBe(true);
    const first = ok.events().find((e) => e.type === 'message') as Extract<WsEvent, { type: 'message' }>;
    const batch = decodeBatch(first.data, { maxBytes: 1 << 20 });
    if (!batch.ok) throw batch.error;
    const hello = decodeMessage(batch.value[0]);
    if (!hello.ok) throw hello.error;
    expect(hello.value.method).toBe('ApiHello');
    expect(hello.value.id).toBeUndefined();
    expect(Buffer.from(hello.value.attrs.binding, 'base64url').length).toBe(32);
    ok.socket.write(encodeFrame(Opcode.ping, Uint8Array.of(42), MASK));
    await expect.poll(() => ok.events().some((e) => e.type === 'pong' && e.data[0] === 42)).toBe(true);
    ok.socket.write(encodeFrame(Opcode.close, closePayload(1000, 'done'), MASK));
    await ok.closed;
    expect(ok.events().find((e) => e.type === 'close')).toMatchObject({ code: 1000 });
  });

  it('closes a connection that breaks the protocol, and keeps serving others', async () => {
    const other = await connect();
    await other.client.register();
    const cases: [string, Uint8Array, number][] = [
      ['unmasked', encodeFrame(Opcode.binary, Uint8Array.of(1, 2, 3)), CloseCode.protocolError],
      ['text', encodeFrame(Opcode.text, new TextEncoder().encode('hello'), MASK), CloseCode.invalidData],
      ['garbage', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), CloseCode.protocolError],
      ['oversized', Uint8Array.of(0x82, 0xff, 0, 0, 0, 0, 0, 0x20, 0, 0, 1, 2, 3, 4), CloseCode.tooBig], // claims 2 MiB
      // two fragments of 600 KiB: each under 1 MiB, the message over it
      ['reassembled over 1 MiB', new Uint8Array([...encodeFrame(Opcode.binary, new Uint8Array(600 * 1024), MASK, false), ...encodeFrame(Opcode.continuation, new Uint8Array(600 * 1024), MASK)]), CloseCode.tooBig],
    ];
    for (const [what, bytes, code] of cases) {
      const c = await raw(good);
      c.socket.write(bytes);
      await c.closed;
      expect(c.events().find((e) => e.type === 'close'), what).toMatchObject({ code });
    }
    expect((await other.client.list('media')).length).toBe(1);
  });

  it('refuses a 9th connection from one address while others are served', async () => {
    const from = { localAddress: '127.0.0.2' }; // another loopback address: the earlier tests' connections do not count
    const eight = [];
    for (let i = 0; i < 8; i++) eight.push(await raw(good, from));
    expect(eight.map((c) => c.answer.slice(0, 12))).toEqual(Array(8).fill('HTTP/1.1 101'));
    const ninth = await raw(good, from);
    expect(ninth.answer).toMatch(/^HTTP\/1\.1 503[^]*too many connections from 127\.0\.0\.2/);
    await ninth.closed;
    const other = await connect();
    await other.client.register();
    expect((await other.client.list('media')).length).toBe(1);
    // one of the eight leaves: its place is free again
    eight[0].socket.write(encodeFrame(Opcode.close, closePayload(1000), MASK));
    await eight[0].closed;
    await expect.poll(async () => (await raw(good, from)).answer.slice(0, 12), { timeout: 5000 }).toBe('HTTP/1.1 101');
  });
});

describe('the WebSocket channel on a socket', () => {
  it('connectApiWs gives up with TIMEOUT on a server that never sends ApiHello', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => {
      held.push(socket);
      socket.once('data', (d: Buffer) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(d.toString('latin1'))?.[1] ?? '';
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\nsec-websocket-protocol: stx.1\r\n\r\n`);
      });
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const t0 = Date.now();
      const e = await connectApiWs(`http://127.0.0.1:${(silent.address() as { port: number }).port}`, { timeoutMs: 500 }).then(
        () => undefined,
        (x: unknown) => x as StxError,
      );
      expect(e?.code).toBe('TIMEOUT');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
      expect(held.length).toBe(1);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });


  /** A connected pair of sockets on loopback: [accepted by a server, dialled]. */
  async function pair(): Promise<{ accepted: Socket; dialled: Socket; close(): void }> {
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const accepted = new Promise<Socket>((r) => srv.once('connection', r));
    const dialled = tcp({ host: '127.0.0.1', port });
    const a = await accepted;
    return { accepted: a, dialled, close: () => (a.destroy(), dialled.destroy(), srv.close()) };
  }

  it('pings the client and closes a socket that stays silent (1001)', async () => {
    const p = await pair();
    try {
      const channel = socketChannel(p.accepted, 'server', new Uint8Array(0), { pingMs: 50, idleMs: 400 });
      const closedWith = new Promise<string>((r) => channel.onClose(r));
      const parser = new FrameParser({ masked: false, maxMessage: 1 << 20 });
      const events: WsEvent[] = [];
      p.dialled.on('data', (d: Buffer) => events.push(...parser.push(new Uint8Array(d))));
      // the client answers the first pings (any frame counts as heard), then goes silent
      let answered = 0;
      await expect
        .poll(() => {
          const pings = events.filter((e) => e.type === 'ping').length;
          for (; answered < Math.min(pings, 3); answered++) p.dialled.write(encodeFrame(Opcode.pong, new Uint8Array(0), MASK));
          return answered;
        }, { timeout: 3000, interval: 20 })
        .toBe(3);
      const t0 = Date.now();
      await expect.poll(() => events.find((e) => e.type === 'close'), { timeout: 3000 }).toMatchObject({ code: CloseCode.goingAway });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      p.dialled.end();
      expect(await closedWith).toMatch(/closed/);
    } finally {
      p.close();
    }
  });

  it('counts bytes the socket has not sent yet and says when they went out', async () => {
    const p = await pair();
    try {
      p.accepted.pause(); // the server reads nothing: the client's writes back up
      const channel = socketChannel(p.dialled, 'client', new Uint8Array(0));
      channel.bufferedAmountLowThreshold = 0;
      let lows = 0;
      channel.onBufferedAmountLow(() => lows++);
      const message = new Uint8Array(channel.maxMessageSize);
      expect(() => channel.send(new Uint8Array(channel.maxMessageSize + 1))).toThrow(StxError);
      for (let i = 0; i < 12; i++) channel.send(message);
      expect(channel.bufferedAmount).toBeGreaterThan(0);
      expect(lows).toBe(0);
      let read = 0;
      p.accepted.on('data', (d: Buffer) => (read += d.length));
      p.accepted.resume();
      await expect.poll(() => lows, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(channel.bufferedAmount).toBe(0);
      await expect.poll(() => read, { timeout: 10_000 }).toBe(12 * (channel.maxMessageSize + 14));
    } finally {
      p.close();
    }
  });
});
