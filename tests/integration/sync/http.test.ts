// The sync side of the HTTP API with bad input, and the cluster key a server makes for itself.
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-sync-http-'));
const small = ['--meta-size', '4M', '--data-size', '16M'];
let s: Served;

beforeAll(async () => {
  delete process.env.STATEOS_CLUSTER_KEY;
  s = await serve(['--data', join(tmp, 'a'), ...small, '--sample']);
});
afterAll(async () => {
  await s?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const post = (path: string, body: string, type = 'application/json') => fetch(s.url + path, { method: 'POST', headers: { 'content-type': type }, body });

describe('sync over HTTP', () => {
  it('makes a cluster key, keeps it private in the data folder, prints it once', async () => {
    const file = join(tmp, 'a', 'cluster.key');
    const key = readFileSync(file, 'utf8').trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(s.stdout()).toContain(key);
    await s.stop();
    s = await serve(['--data', join(tmp, 'a'), ...small]);
    expect(s.stdout()).not.toContain(key);
    expect(readFileSync(file, 'utf8').trim()).toBe(key);
  });

  it('refuses bad offers with a clear status, and keeps serving', async () => {
    expect((await post('/api/peer', '{"sdp":"v=0"}', 'text/plain')).status).toBe(415);
    expect((await post('/api/peer', 'not json')).status).toBe(400);
    expect((await post('/api/peer', '[1,2]')).status).toBe(400);
    expect((await post('/api/peer', '{"offer":"x"}')).status).toBe(400);
    const garbage = await post('/api/peer', JSON.stringify({ sdp: 'v=0\r\nthis is not an offer\r\n' }));
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: string }).error).toMatch(/fingerprint|BAD_PARAM|offer/i);
    expect((await post('/api/peer', JSON.stringify({ sdp: 'x'.repeat(100_000) }))).status).toBe(413);
    const peers = (await (await fetch(s.url + '/api/peers')).json()) as { server: string; peers: unknown[] };
    expect(peers.peers).toEqual([]);
    expect((await fetch(s.url + '/api/health')).status).toBe(200);
  });

  it('checks pull requests and edits', async () => {
    expect((await post('/api/pull', '{"type":"zz"}')).status).toBe(400);
    const origin = '0b1ec700-0000-4000-8000-000000000001';
    const none = await post('/api/pull', JSON.stringify({ type: '0101', origin, from: 1, to: 10, data: true }));
    expect(none.status).toBe(502);
    expect(((await none.json()) as { error: string }).error).toContain('no server peer');
    const patch = (id: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${s.url}/api/objects/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await patch('nope', '{"title":"x"}')).status).toBe(404);
    expect((await patch(origin, '{"title":"x"}')).status).toBe(404);
    const [obj] = (await (await fetch(s.url + '/api/objects')).json()) as { id: string; version: string }[];
    expect((await patch(obj.id, '{"title":""}')).status).toBe(400);
    expect((await patch(obj.id, '{"title":"x"}', { 'if-match': 'yesterday' })).status).toBe(400);
    // a push, now or scheduled ("send this media to every server tonight")
    expect((await post('/api/push', JSON.stringify({ media: origin }))).status).toBe(400);
    expect((await post('/api/push', JSON.stringify({ media: obj.id, at: 'tonight' }))).status).toBe(400);
    const tonight = new Date(Date.now() + 6 * 3600_000).toISOString();
    const pushed = await post('/api/push', JSON.stringify({ media: obj.id, at: tonight }));
    expect(pushed.status).toBe(202);
    expect(((await pushed.json()) as { at: string }).at).toBe(tonight);
    const ok = await patch(obj.id, '{"title":"Renamed"}', { 'if-match': `"${obj.version}"` });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { title: string }).title).toBe('Renamed');
  });
});
