// State servers as real processes, syncing over real WebRTC on loopback, on each Node backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served, stateos } from '../../helpers/cli.ts';
import { makeClip } from '../../helpers/media.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-sync-'));
const small = ['--meta-size', '4M', '--data-size', '16M'];
const KEY = ['--cluster-key', 'integration-cluster-key-0123'];
const clips: string[] = [];
const running: Served[] = [];

beforeAll(() => {
  for (let i = 0; i < 3; i++) clips.push(makeClip(join(tmp, `clip${i}.mp4`), { seconds: 1, size: '160x90' }));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop('SIGKILL')));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Obj {
  id: string;
  title: string;
  version: string;
}
interface Peers {
  server: string;
  peers: { server: string; state: string; how: string; inSync: boolean; backend: string }[];
}

async function get<T>(s: Served, path: string): Promise<T> {
  const r = await fetch(s.url + path);
  return (await r.json()) as T;
}
const ids = async (s: Served) => (await get<Obj[]>(s, '/api/objects')).map((o) => o.id).sort();

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function start(args: string[]): Promise<Served> {
  const s = await serve(args);
  running.push(s);
  return s;
}

for (const backend of ['datachannel', 'werift'] as const) {
  describe(`a cluster over ${backend}`, () => {
    const dir = (name: string) => join(tmp, `${backend}-${name}-${Math.random().toString(36).slice(2, 8)}`);
    const base = (d: string) => ['--data', d, ...small, '--webrtc', backend, '--sync-interval', '1000', ...KEY];
    async function ingest(d: string, clip: string, title: string): Promise<void> {
      const r = await stateos(['ingest', clip, '--title', title, '--data', d, ...small]);
      expect(r.code, r.stderr).toBe(0);
    }

    it('three servers join and converge (mesh through the first); a killed server catches up when restarted', async () => {
      const [da, db, dc] = [dir('a'), dir('b'), dir('c')];
      await ingest(db, clips[0], 'B one');
      await ingest(dc, clips[1], 'C one');
      const a = await start([...base(da), '--sample']);
      const b = await start([...base(db), '--peer', a.url]);
      let c = await start([...base(dc), '--peer', a.url]);
      await waitFor('3 objects everywhere', async () => (await Promise.all([a, b, c].map(ids))).every((l) => l.length === 3));
      expect(await ids(b)).toEqual(await ids(a));
      expect(await ids(c)).toEqual(await ids(a));
      // B and C found each other through A
      await waitFor('B linked to A and C', async () => (await get<Peers>(b, '/api/peers')).peers.filter((p) => p.state === 'live').length === 2);
      const peers = await get<Peers>(b, '/api/peers');
      expect(peers.peers.map((p) => p.how).join(' ')).toMatch(/mesh via|answered/);
      expect(peers.peers.every((p) => p.backend === backend)).toBe(true);
      await waitFor('in sync', async () => (await get<Peers>(b, '/api/peers')).peers.every((p) => p.inSync));

      // C dies hard; B stops cleanly, gets a new clip offline, comes back
      await c.stop('SIGKILL');
      running.splice(running.indexOf(c), 1);
      await b.stop('SIGTERM');
      running.splice(running.indexOf(b), 1);
      await ingest(db, clips[2], 'B two');
      const b2 = await start([...base(db), '--peer', a.url]);
      await waitFor('A has B two', async () => (await ids(a)).length === 4);
      c = await start([...base(dc), '--peer', a.url]);
      await waitFor('C caught up', async () => (await ids(c)).length === 4);
      expect(await ids(c)).toEqual(await ids(a));
      expect(await ids(b2)).toEqual(await ids(a));
      expect(c.stderr()).toMatch(/sync from [0-9a-f]{8}.*STUs/);
    });

    it('A-B-C in a line (no mesh) converge through B', async () => {
      const [da, db, dc] = [dir('a'), dir('b'), dir('c')];
      await ingest(dc, clips[1], 'C one');
      const a = await start([...base(da), '--sample', '--mesh', 'off']);
      const b = await start([...base(db), '--peer', a.url, '--mesh', 'off']);
      const c = await start([...base(dc), '--peer', b.url, '--mesh', 'off']);
      await waitFor('2 objects everywhere', async () => (await Promise.all([a, b, c].map(ids))).every((l) => l.length === 2));
      expect(await ids(a)).toEqual(await ids(c));
      const [pa, pc] = [await get<Peers>(a, '/api/peers'), await get<Peers>(c, '/api/peers')];
      expect(pa.peers.filter((p) => p.state === 'live').map((p) => p.server)).toEqual([pc.peers[0].server]);
      expect(pc.peers).toHaveLength(1);
    });

    it('refuses a server with the wrong cluster key, which receives nothing and gives nothing', async () => {
      const [da, dd] = [dir('a'), dir('d')];
      await ingest(dd, clips[0], 'D one');
      const a = await start([...base(da), '--sample']);
      const d = await start(['--data', dd, ...small, '--webrtc', backend, '--peer', a.url, '--cluster-key', 'some-other-cluster-key-42']);
      await waitFor('refusal logged', async () => /refused/.test(d.stderr()), 20_000);
      expect(await ids(d)).toHaveLength(1);
      expect(await ids(a)).toHaveLength(1);
      expect(await ids(a)).not.toEqual(await ids(d));
      expect((await get<Peers>(a, '/api/peers')).peers.filter((p) => p.state === 'live')).toEqual([]);
    });

    it('two servers editing the same version of an object reach the same collision verdict', async () => {
      const [da, db] = [dir('a'), dir('b')];
      const a = await start([...base(da), '--sample']);
      const b = await start([...base(db), '--peer', a.url]);
      await waitFor('B has the sample', async () => (await ids(b)).length === 1);
      const [obj] = await get<Obj[]>(a, '/api/objects');
      const edit = (s: Served, title: string) =>
        fetch(`${s.url}/api/objects/${obj.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'if-match': `"${obj.version}"` }, body: JSON.stringify({ title }) });
      const [ra, rb] = await Promise.all([edit(a, 'Title from A'), edit(b, 'Title from B')]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      await waitFor('both see the collision', async () => (await get<unknown[]>(a, '/api/collisions')).length === 1 && (await get<unknown[]>(b, '/api/collisions')).length === 1);
      await waitFor('same title', async () => (await get<Obj[]>(a, '/api/objects'))[0].title === (await get<Obj[]>(b, '/api/objects'))[0].title);
      expect(await get<unknown[]>(b, '/api/collisions')).toEqual(await get<unknown[]>(a, '/api/collisions'));
      expect(['Title from A', 'Title from B']).toContain((await get<Obj[]>(a, '/api/objects'))[0].title);
    });
  });
}

describe('a joined server that loses its peer', () => {
  it('dials again with backoff until the peer is back, and catches up on what it missed', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const [da, db] = [join(tmp, `re-a-${Date.now()}`), join(tmp, `re-b-${Date.now()}`)];
    const args = (d: string) => ['--data', d, ...small, ...KEY, '--sync-interval', '1000'];
    let a = await start(['--http', `127.0.0.1:${port}`, ...args(da)]);
    const b = await start([...args(db), '--peer', `http://127.0.0.1:${port}`]);
    const livePeers = async () => (await get<Peers>(b, '/api/peers')).peers.filter((p) => p.state === 'live').length;
    await waitFor('B joined A', async () => (await livePeers()) === 1);
    await a.stop('SIGKILL');
    running.splice(running.indexOf(a), 1);
    // A comes back on the same address with something new
    const clip = await stateos(['ingest', clips[0], '--title', 'While B was alone', '--data', da, ...small]);
    expect(clip.code, clip.stderr).toBe(0);
    a = await start(['--http', `127.0.0.1:${port}`, ...args(da)]);
    await waitFor('B dialled A again and caught up', async () => (await ids(b)).length === 1, 60_000);
    expect(await livePeers()).toBe(1);
  });
});
