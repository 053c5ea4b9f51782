// Playlists, channels and usage through the real stateos command: offline on a data folder, through a
// running `stateos serve` (--server), its HTTP API with bad input, and two servers that replicate them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, serve, type Served, stateos } from '../../helpers/cli.ts';
import { makeClip } from '../../helpers/media.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-playlist-'));
const small = ['--meta-size', '8M', '--data-size', '32M'];
const KEY = ['--cluster-key', 'playlist-cluster-key-0123'];
const running: Served[] = [];
let clip = '';

beforeAll(() => {
  clip = makeClip(join(tmp, 'clip.mp4'), { seconds: 4, size: '160x90' });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface PlaylistView {
  id: string;
  title: string;
  version: string;
  durationMs: number;
  clips: { clip: string; media: string; title: string; startMs: number; endMs?: number; durationMs?: number }[];
}
interface ChannelView {
  id: string;
  name: string;
  title: string;
  mode: string;
  startMs?: number;
  playlists: { id: string; title?: string }[];
  schedule: { name: string; live: boolean; startedAt: number; clips: { media: string; startMs: number; endMs: number }[]; lengthMs: number };
}

async function ok(args: string[]): Promise<RunResult> {
  const r = await stateos(args);
  expect(r.code, `stateos ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}
const okJson = async <T>(args: string[]): Promise<T> => JSON.parse((await ok([...args, '--json'])).stdout) as T;

async function ingest(data: string, title: string): Promise<string> {
  return (await ok(['ingest', clip, '--title', title, '--data', data, ...small])).stdout.split('\t')[0];
}

async function start(args: string[]): Promise<Served> {
  const s = await serve(args);
  running.push(s);
  return s;
}

describe('stateos playlist and channel, offline on the data folder', () => {
  it('creates and edits playlists and channels, shows them, and refuses bad input', async () => {
    const data = join(tmp, 'offline');
    const d = ['--data', data];
    const media = await ingest(data, 'Clip A');
    await ingest(data, 'Clip B');

    const created = await ok(['playlist', 'create', 'Lobby loop', 'Clip A', ...d]);
    const [pid, title] = created.stdout.trim().split('\t');
    expect(title).toBe('Lobby loop');
    let p = await okJson<PlaylistView>(['playlist', 'add', pid.slice(0, 8), 'Clip B', '--start', '1s', '--end', '0:03', '--title', 'Middle', '--position', '1', ...d]);
    expect(p.clips.map((c) => [c.title, c.startMs, c.endMs])).toEqual([
      ['Middle', 1000, 3000],
      ['Clip A', 0, undefined],
    ]);
    p = await okJson<PlaylistView>(['playlist', 'set', 'Lobby loop', '2', '--end', '2500', ...d]);
    expect(p.clips[1]).toMatchObject({ media, startMs: 0, endMs: 2500, durationMs: 2500 });
    p = await okJson<PlaylistView>(['playlist', 'set', pid, p.clips[1].clip, '--end', 'end', '--title', 'Whole A', ...d]);
    expect(p.clips[1].endMs).toBeUndefined();
    expect(p.clips[1].title).toBe('Whole A');
    p = await okJson<PlaylistView>(['playlist', 'rename', pid, 'Lobby', ...d]);
    expect(p.title).toBe('Lobby');
    const shown = await ok(['playlist', 'show', pid, ...d]);
    expect(shown.stdout).toMatch(new RegExp(`^${pid}\\tLobby\\t2 clips\\t0:0\\d\\.\\d{3}\\tversion \\d+\\n  1\\t\\w+\\t[0-9a-f-]+\\t0:01\\.000-0:03\\.000\\tMiddle\\n  2\\t\\w+\\t${media}\\t0:00\\.000-end\\tWhole A\\n$`));

    // errors: exit 1 with the reason; usage mistakes: exit 2
    const badSpan = await stateos(['playlist', 'add', pid, media, '--start', '3000', '--end', '1000', ...d]);
    expect(badSpan.code).toBe(1);
    expect(badSpan.stderr).toContain('start (3000 ms) must be before end (1000 ms)');
    const unknown = await stateos(['playlist', 'add', pid, 'eeeeeeee-0000-4000-8000-000000000000', ...d]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown media');
    expect((await stateos(['playlist', 'show', 'no-such-playlist', ...d])).stderr).toContain('no playlist no-such-playlist');
    expect((await stateos(['playlist', 'remove', pid, '9', ...d])).stderr).toContain('has no clip 9');
    const usage = await stateos(['playlist', 'add', pid, ...d]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: stateos playlist add PLAYLIST MEDIA');
    expect((await stateos(['playlist', 'shuffle', ...d])).code).toBe(2);
    expect((await stateos(['playlist', 'add', pid, media, '--start', 'soon', ...d])).stderr).toContain('--start: "soon"');

    p = await okJson<PlaylistView>(['playlist', 'remove', pid, '1', ...d]);
    expect(p.clips.map((c) => c.title)).toEqual(['Whole A']);

    const ch = await ok(['channel', 'create', 'lobby', pid, '--title', 'Lobby TV', '--mode', 'live', '--start', '2025-01-31T18:00:00Z', ...d]);
    expect(ch.stdout).toMatch(/^[0-9a-f-]{36}\tlobby\n$/);
    let c = await okJson<ChannelView>(['channel', 'show', 'lobby', ...d]);
    expect(c).toMatchObject({ name: 'lobby', title: 'Lobby TV', mode: 'live', startMs: Date.parse('2025-01-31T18:00:00Z'), playlists: [{ id: pid, title: 'Lobby' }] });
    expect(c.schedule.clips).toEqual([{ media, startMs: 0, endMs: expect.any(Number) }]);
    expect(c.schedule.lengthMs).toBeGreaterThan(3500);
    const taken = await stateos(['channel', 'create', 'lobby', ...d]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('a channel named lobby exists');
    expect((await stateos(['channel', 'create', 'Bad Name', ...d])).stderr).toContain('name: 1 to 64 of a-z');
    const other = (await ok(['playlist', 'create', 'Other', ...d])).stdout.split('\t')[0];
    c = await okJson<ChannelView>(['channel', 'add', 'lobby', other, '--position', '1', ...d]);
    expect(c.playlists.map((x) => x.id)).toEqual([other, pid]);
    c = await okJson<ChannelView>(['channel', 'set', 'lobby', '--mode', 'on-demand', ...d]);
    expect(c.mode).toBe('on-demand');
    c = await okJson<ChannelView>(['channel', 'remove', 'lobby', '1', ...d]);
    expect(c.playlists.map((x) => x.id)).toEqual([pid]);
    expect((await ok(['channel', 'list', ...d])).stdout).toMatch(/\tlobby\ton-demand\tLobby TV\n$/);

    const ls = await okJson<{ id: string; type: string; title: string; usage?: { plays: number }; playlist?: { clips: number }; channel?: { name: string } }[]>(['ls', ...d]);
    expect(ls.filter((o) => o.type === 'playlist').map((o) => [o.title, o.playlist!.clips]).sort()).toEqual([
      ['Lobby', 1],
      ['Other', 0],
    ]);
    expect(ls.find((o) => o.type === 'channel')).toMatchObject({ title: 'Lobby TV', channel: { name: 'lobby' } });
    expect(ls.filter((o) => o.type === 'media').every((o) => o.usage?.plays === 0)).toBe(true);

    expect((await ok(['playlist', 'delete', other, ...d])).stdout).toBe(`${other}\tdeleted\n`);
    expect((await okJson<PlaylistView[]>(['playlist', 'list', ...d])).map((x) => x.id)).toEqual([pid]);
    expect((await ok(['channel', 'delete', 'lobby', ...d])).stdout).toMatch(/\tdeleted\n$/);
    expect(await okJson<ChannelView[]>(['channel', 'list', ...d])).toEqual([]);
  });

  it('counts plays per media and in total (stateos ls)', async () => {
    const data = join(tmp, 'usage');
    const a = await ingest(data, 'Played');
    const b = await ingest(data, 'Less played');
    const { StateNode } = await import('../../../node-peer/node.ts');
    const { silentLogger } = await import('../../../shared/log.ts');
    const node = await StateNode.open({ dir: data, log: silentLogger });
    for (let i = 0; i < 25; i++) node.recordPlay({ gateway: i % 5 ? 'hls' : 'rtsp', media: i % 5 === 4 ? b : a, startMs: Date.now(), durationMs: 4000, client: `127.0.0.${i % 3}` });
    node.recordPlay({ gateway: 'hls', channel: 'lobby', startMs: Date.now(), durationMs: 1000 });
    await node.close(); // writes what the recorder holds
    const ls = await okJson<{ id: string; type: string; usage?: { plays: number; hls: number; rtsp: number; durationMs: number; servers: number } }[]>(['ls', '--data', data]);
    expect(ls.find((o) => o.id === a)!.usage).toMatchObject({ plays: 20, hls: 15, rtsp: 5, durationMs: 80_000, servers: 1 });
    expect(ls.find((o) => o.id === b)!.usage).toMatchObject({ plays: 5, hls: 5, rtsp: 0 });
    expect(ls.filter((o) => o.type === 'usage')).toEqual([expect.objectContaining({ id: node.guid, usage: expect.objectContaining({ plays: 26, hls: 21, rtsp: 5 }) })]);
    const text = (await ok(['ls', '--data', data])).stdout;
    expect(text).toContain(`${a}\tmedia\tPlayed\t20 plays\n`);
    expect(text).toMatch(/\ntotal\t26 plays \(hls 21, rtsp 5\) reported by 1 servers\n$/);
  });
});

describe('through a running server', () => {
  it('refuses to write the locked folder, suggesting --server, and works through it', async () => {
    const data = join(tmp, 'served');
    const media = await ingest(data, 'Served clip');
    const s = await start(['--data', data, ...small]);
    const locked = await stateos(['playlist', 'create', 'x', '--data', data]);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/in use by stateos process \d+.*--server http:\/\/HOST:PORT/);
    // reading works beside the server
    expect((await ok(['playlist', 'list', '--data', data])).stdout).toBe('');

    // without a credential (and no admin key in ./.stateos) the CLI is anonymous: it reads, it may not write
    const anon = await stateos(['playlist', 'create', 'Remote', 'Served clip', '--server', s.url, '--data', join(tmp, 'nothing-here')]);
    expect(anon.code).toBe(1);
    expect(anon.stderr).toMatch(/FORBIDDEN.*you are anonymous.*--credential/);
    // with the server's folder it acts as admin (the admin key there)
    const srv = ['--server', s.url, '--data', data];
    const created = await ok(['playlist', 'create', 'Remote', 'Served clip', ...srv, '--log-level', 'info']);
    expect(created.stderr).toMatch(/acting as admin with a 10-minute credential/);
    const pid = created.stdout.split('\t')[0];
    let p = await okJson<PlaylistView>(['playlist', 'add', pid, media, '--start', '500', '--end', '1500', ...srv]);
    expect(p.clips.map((c) => [c.startMs, c.endMs ?? null])).toEqual([
      [0, null],
      [500, 1500],
    ]);
    p = await okJson<PlaylistView>(['playlist', 'set', 'Remote', '2', '--start', '1000', ...srv]);
    expect(p.clips[1].startMs).toBe(1000);
    const bad = await stateos(['playlist', 'set', pid, '2', '--start', '2000', ...srv]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/BAD_PARAM: start \(2000 ms\) must be before end \(1500 ms\)/);
    await ok(['channel', 'create', 'remote', pid, '--mode', 'live', ...srv]);
    const taken = await stateos(['channel', 'create', 'remote', ...srv]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/CONFLICT: .*remote/);
    const missing = await stateos(['playlist', 'show', '0000dead-0000-4000-8000-000000000000', ...srv]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND/);
    const c = await okJson<ChannelView>(['channel', 'show', 'remote', ...srv]);
    expect(c).toMatchObject({ mode: 'live', schedule: { live: true, clips: [{ media, startMs: 0 }, { media, startMs: 1000, endMs: 1500 }] } });
    expect(Math.abs(c.startMs! - Date.now())).toBeLessThan(60_000);
    const down = await stateos(['playlist', 'list', '--server', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach the State API of http://127.0.0.1:9');
    await s.stop();
    running.splice(0);
    // everything was written to the ring: the folder shows it once the server is gone
    expect((await okJson<PlaylistView>(['playlist', 'show', pid, '--data', data])).clips).toHaveLength(2);
  });

  it('answers the HTTP API with clear JSON errors for bad input', async () => {
    const data = join(tmp, 'http');
    const media = await ingest(data, 'HTTP clip');
    const s = await start(['--data', data, ...small]);
    const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
      const res = await fetch(s.url + path, { method, headers: body === undefined ? {} : { 'content-type': type }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: string } };
    };
    const created = await call('POST', '/api/playlists', { title: 'API', clips: [{ media, endMs: 2000 }] });
    expect(created.status).toBe(201);
    const p = created.json as unknown as PlaylistView;
    expect(p.clips).toEqual([{ clip: expect.any(String), media, title: 'HTTP clip', startMs: 0, endMs: 2000, durationMs: 2000 }]);
    expect((await call('GET', '/api/playlists')).json).toEqual([p]);
    expect((await call('GET', `/api/playlists/${p.id}`)).json).toEqual(p);

    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/api/playlists', { title: 'x', clips: [{ media: 'eeeeeeee-0000-4000-8000-000000000000' }] }, 400, /unknown media/],
      ['POST', '/api/playlists', { clips: [] }, 400, /title/],
      ['POST', '/api/playlists', 'not json', 400, /JSON object/],
      ['POST', '/api/playlists', { title: 'x'.repeat(300_000) }, 413, /larger than/],
      ['PATCH', `/api/playlists/${p.id}`, { ops: [{ op: 'add', media, startMs: 3000, endMs: 1000 }] }, 400, /must be before end/],
      ['PATCH', `/api/playlists/${p.id}`, { ops: [{ op: 'set', clip: p.clips[0].clip, startMs: 2000 }] }, 400, /start \(2000 ms\) must be before end \(2000 ms\)/],
      ['PATCH', `/api/playlists/${p.id}`, { ops: [{ op: 'remove', clip: 'nope' }] }, 400, /no clip nope/],
      ['PATCH', `/api/playlists/${p.id}`, { ops: 'all' }, 400, /ops/],
      ['PATCH', `/api/playlists/${p.id}`, { ops: [{ op: 'explode' }] }, 400, /unknown op/],
      ['PATCH', '/api/playlists/eeeeeeee-0000-4000-8000-000000000000', { op: 'rename', title: 'x' }, 404, /no playlist/],
      ['GET', '/api/playlists/eeeeeeee-0000-4000-8000-000000000000', undefined, 404, /no playlist/],
      ['GET', '/api/playlists/nonsense', undefined, 404, /no playlist/],
      ['GET', `/api/playlists/${p.id}/more`, undefined, 404, /no such resource/],
      ['DELETE', '/api/playlists/eeeeeeee-0000-4000-8000-000000000000', undefined, 404, /no playlist/],
      ['PUT', '/api/playlists', { title: 'x' }, 405, /PUT is not allowed/],
      ['POST', '/api/channels', { name: 'has space' }, 400, /name/],
      ['POST', '/api/channels', { name: 'ch', playlists: ['eeeeeeee-0000-4000-8000-000000000000'] }, 400, /unknown playlist/],
      ['POST', '/api/channels', { name: 'ch', mode: 'sometimes' }, 400, /mode/],
      ['GET', '/api/channels/nothing', undefined, 404, /no channel nothing/],
      ['PATCH', '/api/channels/nothing', { op: 'set', title: 'x' }, 404, /no channel/],
    ];
    for (const [method, path, body, status, error] of cases) {
      const r = await call(method, path, body);
      expect([method, path, r.status], JSON.stringify(r.json)).toEqual([method, path, status]);
      expect(r.json.error).toMatch(error);
    }
    expect((await call('POST', '/api/playlists', '{"title":"x"}', 'text/plain')).status).toBe(415);

    const ch = await call('POST', '/api/channels', { name: 'api', title: 'API channel', playlists: [p.id] });
    expect(ch.status).toBe(201);
    expect((await call('POST', '/api/channels', { name: 'api' })).status).toBe(409);
    const byName = await call('GET', '/api/channels/api');
    expect(byName.json).toMatchObject({ id: ch.json.id, name: 'api', schedule: { clips: [{ media, startMs: 0, endMs: 2000 }], lengthMs: 2000 } });
    expect((await call('GET', `/api/channels/${String(ch.json.id)}`)).json).toEqual(byName.json);
    expect((await call('PATCH', '/api/channels/api', { ops: [{ op: 'set', mode: 'live' }] })).json).toMatchObject({ mode: 'live', startMs: expect.any(Number) });
    expect((await call('DELETE', `/api/playlists/${p.id}`)).json).toEqual({ id: p.id, deleted: true });
    expect((await call('GET', '/api/channels/api')).json).toMatchObject({ playlists: [{ id: p.id, missing: true }], schedule: { clips: [] } });
    expect((await call('DELETE', '/api/channels/api')).status).toBe(200);
    expect((await call('GET', '/api/channels')).json).toEqual([]);
    expect((await call('GET', '/api/usage')).json).toEqual({ total: { plays: 0, durationMs: 0, hls: 0, rtsp: 0, servers: 0 }, media: {} });
    expect((await call('GET', '/api/collisions')).json).toEqual([]);
  });
});

describe('two servers', () => {
  it('replicate playlists and channels; concurrent additions on both survive on both', async () => {
    const [da, db] = [join(tmp, 'two-a'), join(tmp, 'two-b')];
    const media = await ingest(da, 'Shared clip');
    const base = (d: string) => ['--data', d, ...small, '--sync-interval', '1000', ...KEY];
    const a = await start(base(da));
    const b = await start([...base(db), '--peer', a.url]);
    const get = async <T>(s: Served, path: string): Promise<T> => (await (await fetch(s.url + path)).json()) as T;
    const send = async <T>(s: Served, method: string, path: string, body: unknown): Promise<T> => {
      const r = await fetch(s.url + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status, await r.clone().text()).toBeLessThan(300);
      return (await r.json()) as T;
    };
    const waitFor = async (what: string, cond: () => Promise<boolean>): Promise<void> => {
      const t0 = Date.now();
      while (!(await cond().catch(() => false))) {
        if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor('the media on B', async () => (await get<{ id: string }[]>(b, '/api/objects')).some((o) => o.id === media));

    const p = await send<PlaylistView>(a, 'POST', '/api/playlists', { title: 'Replicated', clips: [{ media, endMs: 1000 }] });
    await waitFor('the playlist on B', async () => (await get<PlaylistView[]>(b, '/api/playlists')).some((x) => x.id === p.id));
    expect(await get<PlaylistView>(b, `/api/playlists/${p.id}`)).toEqual(p);

    // both edit the same version at once
    const [fromA, fromB] = await Promise.all([
      send<PlaylistView>(a, 'PATCH', `/api/playlists/${p.id}`, { op: 'add', media, startMs: 1000, endMs: 2000, title: 'from A' }),
      send<PlaylistView>(b, 'PATCH', `/api/playlists/${p.id}`, { op: 'add', media, startMs: 2000, endMs: 3000, title: 'from B' }),
    ]);
    expect(fromA.clips).toHaveLength(2);
    expect(fromB.clips).toHaveLength(2);
    const both = async (s: Served) => (await get<PlaylistView>(s, `/api/playlists/${p.id}`)).clips.map((c) => c.title);
    await waitFor('both clips on both', async () => (await both(a)).length === 3 && (await both(b)).length === 3);
    expect(await both(a)).toEqual(await both(b));
    expect((await both(a)).sort()).toEqual(['Shared clip', 'from A', 'from B']);
    expect(await get<PlaylistView>(a, `/api/playlists/${p.id}`)).toEqual(await get<PlaylistView>(b, `/api/playlists/${p.id}`));

    const c = await send<ChannelView>(b, 'POST', '/api/channels', { name: 'both', playlists: [p.id] });
    await waitFor('the channel on A', async () => (await fetch(`${a.url}/api/channels/both`)).status === 200);
    expect((await get<ChannelView>(a, '/api/channels/both')).id).toBe(c.id);
    expect((await get<ChannelView>(a, '/api/channels/both')).schedule.clips).toHaveLength(3);
  });
});
