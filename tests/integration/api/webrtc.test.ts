// The State API against a real `stateos serve` over WebRTC (POST /api/client, node-datachannel on both
// sides): an anonymous client lists and reads the bundled sample (written by the server itself: readable by
// everyone), may not create or change anything, is refused when it presents a token the server cannot
// check yet, sees playlists made through the HTTP API, is told of their changes, and the server keeps
// serving other clients when one sends garbage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StxError } from '../../../shared/stx/errors.ts';
import { type ApiConnection, connectApi } from '../../../node-peer/api/connect.ts';
import { serve, type Served } from '../../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-api-'));
let server: Served;
const open: ApiConnection[] = [];
const connect = async () => {
  const c = await connectApi(server.url);
  open.push(c);
  return c;
};
const code = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof StxError && e.remoteCode ? e.remoteCode : Promise.reject(e)),
  );

beforeAll(async () => {
  server = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--sample']);
});
afterAll(async () => {
  for (const c of open) c.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the State API over WebRTC', () => {
  it('an anonymous client reads what the server wrote, changes nothing, and follows changes', async () => {
    const { client, binding } = await connect();
    expect(binding.length).toBe(32);
    expect(await code(client.list('media'))).toBe('UNAUTHENTICATED');
    expect(await client.register({ device: 'vitest', app: 'api-test' })).toEqual({ user: 'anonymous', anonymous: true });
    const media = await client.list('media');
    expect(media).toEqual([expect.objectContaining({ kind: 'media', view: expect.objectContaining({ title: 'stateos sample clip', duration: expect.any(Number) }) })]);
    expect((await client.get(media[0].id)).id).toBe(media[0].id);
    expect(await code(client.create('playlist', { title: 'mine' }))).toBe('FORBIDDEN');
    expect(await code(client.setAcl(media[0].id, { readers: [], writers: [] }))).toBe('FORBIDDEN');
    expect(await code(client.get('0b1ec700-0000-4000-8000-0000000000ff'))).toBe('NOT_FOUND');

    const changes: string[] = [];
    client.changes.on((c) => changes.push(`${c.kind} ${c.change}`));
    await client.subscribe({ kind: 'playlist' });
    const r = await fetch(`${server.url}/api/playlists`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'From HTTP', clips: [{ media: media[0].id }] }) });
    expect(r.status).toBe(201);
    await expect.poll(() => changes, { timeout: 5000 }).toEqual(['playlist created']);
    const [pl] = await client.list('playlist');
    expect(pl.view).toMatchObject({ title: 'From HTTP' });
    expect(await code(client.modify(pl.id, { op: 'rename', title: 'Mine now' }))).toBe('FORBIDDEN');
  });

  it('refuses a token it cannot check instead of letting the client in as anonymous', async () => {
    const { client } = await connect();
    expect(await code(client.register({ token: 'st1.e30.AAAA', proof: 'AAAA' }))).toBe('UNAUTHENTICATED');
    expect(await code(client.list('media'))).toBe('UNAUTHENTICATED');
  });

  it('a client sending garbage is dropped; the others are served', async () => {
    const bad = await connect();
    const good = await connect();
    await good.client.register();
    for (let i = 0; i < 40; i++) {
      try {
        bad.client.conn.channel.send(new Uint8Array([0xde, 0xad, 0xbe, 0xef, i]));
      } catch {
        break; // closed by the server: what should happen
      }
    }
    await expect.poll(() => bad.client.conn.isClosed, { timeout: 10_000 }).toBe(true);
    expect((await good.client.list('media')).length).toBe(1);
    const bad400 = await fetch(`${server.url}/api/client`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sdp: 'v=0 not an offer' }) });
    expect(bad400.status, await bad400.clone().text()).toBe(400);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });
});
