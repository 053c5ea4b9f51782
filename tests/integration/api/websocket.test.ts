// The State API over a WebSocket against a real `stateos serve` (GET /api/ws, our own codec on both ends):
// an anonymous client lists the sample and follows a playlist made over HTTP; a user logs in with a
// credential whose proof is bound to this connection's ApiHello nonce (the same proof fails on another
// connection); bad handshakes get their status; an unmasked frame, a text message, garbage and an
// oversized message each close their connection (with the RFC's close code) while another client keeps
// being served; the server answers pings and closes with a close frame.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApiWs } from '../../../node-peer/api/websocket-client.ts';
import type { ApiConnection } from '../../../shared/api/client.ts';
import { presentCredential } from '../../../shared/api/token.ts';
import { StxError } from '../../../shared/stx/errors.ts';
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
function raw(headers: string): Promise<{ socket: Socket; answer: string; events: () => WsEvent[]; closed: Promise<void> }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = tcp({ host: u.hostname, port: Number(u.port) });
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
    socket.once('connect', () => socket.write(`GET /api/ws HTTP/1.1\r\nhost: x\r\n${headers}\r\n`));
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
    const elsewhere = await fetch(`${server.url}/api/wss`, { headers: { upgrade: 'websocket', connection: 'Upgrade' } }).then(
      (r) => r.status,
      () => 'closed',
    );
    expect([404, 'closed']).toContain(elsewhere);
    const ok = await raw(good);
    expect(ok.answer).toMatch(/^HTTP\/1\.1 101[^]*sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=[^]*sec-websocket-protocol: stx\.1/i);
    // it pings back, and a close is answered with a close
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
    ];
    for (const [what, bytes, code] of cases) {
      const c = await raw(good);
      c.socket.write(bytes);
      await c.closed;
      expect(c.events().find((e) => e.type === 'close'), what).toMatchObject({ code });
    }
    expect((await other.client.list('media')).length).toBe(1);
  });
});
