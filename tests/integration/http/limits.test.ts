// Limits per address on a real `stateos serve --max-per-address 3 --invalid-limit 5`: a fourth HTTP
// connection from one address is refused with 503 while three are open, and taken once one closes; an
// address that sends five malformed requests is refused (429 on HTTP, 503 on RTSP: one guard for both
// doors) while another loopback address (127.0.0.2) is still served.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-limits-'));
let server: Served;
const open: Socket[] = [];

/** Opens a connection from `from`, sends `bytes` (if any), and resolves with what arrives within `ms`. */
function exchange(url: string, bytes: string | undefined, from = '127.0.0.1', ms = 1500): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), localAddress: from });
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    socket.once('connect', () => {
      open.push(socket);
      if (bytes) socket.write(bytes);
      setTimeout(() => resolve({ socket, text: () => text, closed }), ms);
    });
  });
}

beforeAll(async () => {
  server = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--sample', '--max-per-address', '3', '--invalid-limit', '5']);
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const health = 'GET /api/health HTTP/1.1\r\nhost: x\r\n\r\n';

describe('limits per address', () => {
  it('refuses a fourth connection from one address while three are open', async () => {
    const held = await Promise.all([0, 1, 2].map(() => exchange(server.url, undefined, '127.0.0.1', 100)));
    const fourth = await exchange(server.url, health, '127.0.0.1', 500);
    expect(fourth.text()).toMatch(/^HTTP\/1\.1 503 /);
    expect(fourth.text()).toMatch(/too many connections from 127\.0\.0\.1 \(at most 3\)/);
    const elsewhere = await exchange(server.url, health, '127.0.0.2', 500);
    expect(elsewhere.text()).toMatch(/^HTTP\/1\.1 200 /);
    elsewhere.socket.destroy();
    held[0].socket.destroy();
    await held[0].closed;
    await new Promise((r) => setTimeout(r, 100));
    const again = await exchange(server.url, health, '127.0.0.1', 500);
    expect(again.text()).toMatch(/^HTTP\/1\.1 200 /);
    for (const h of [...held, again]) h.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
  });

  it('refuses an address that sent too many invalid requests, on HTTP and RTSP, and serves others', async () => {
    for (let i = 0; i < 5; i++) {
      const bad = await exchange(server.url, 'BOGUS\r\n\r\n', '127.0.0.3', 300);
      expect(bad.text()).toMatch(/^HTTP\/1\.1 400 /);
      bad.socket.destroy();
    }
    const refused = await exchange(server.url, health, '127.0.0.3', 500);
    expect(refused.text()).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused.text()).toMatch(/too many invalid requests/);
    const rtsp = await exchange(server.rtspUrl!.replace('rtsp:', 'http:'), 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n', '127.0.0.3', 500);
    expect(rtsp.text()).toMatch(/^RTSP\/1\.0 503 /);
    const other = await exchange(server.rtspUrl!.replace('rtsp:', 'http:'), 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n', '127.0.0.4', 500);
    expect(other.text()).toMatch(/^RTSP\/1\.0 200 /);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it('shuts down at once, refused sockets and all (they once held it until the 10 s watchdog)', async () => {
    for (const s of open) s.destroy();
    expect(await server.stop()).toBe(0);
    expect(server.stderr()).not.toMatch(/more than 10 s/);
  });
});
