// A browser viewer against a real state server process: the page (web/viewer.html) joins over the
// browser's WebRTC, receives the metadata STUs into its IndexedDB ring, keeps them across a reload, gets
// live updates; the server's GET /api/peers shows the viewer and how far in sync it is.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served, stateos } from '../helpers/cli.ts';
import { makeClip } from '../helpers/media.ts';
import { allowLocalCandidates, type BrowserEnv, startBrowserEnv, type TestPage, WEBRTC_LOOPBACK_ARGS } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-viewer-'));
const small = ['--meta-size', '4M', '--data-size', '16M', '--cluster-key', 'viewer-test-cluster-key-01'];
let env: BrowserEnv;
let server: Served;

interface PageState {
  objects: { id: string; title: string }[];
  held: { type: number; origin: string; upTo: number }[];
  live: number;
  status: string;
}

const state = (t: TestPage): Promise<PageState> =>
  t.page.evaluate(() => {
    const v = window.stateosViewer!;
    return {
      objects: v.engine.list().map((o) => ({ id: o.id, title: (o.state as { title: string }).title })),
      held: v.store.held.vector(),
      live: v.hub.sessions().length,
      status: document.getElementById('status')!.textContent ?? '',
    };
  });

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond().catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const dir = join(tmp, 'server');
  const clip = makeClip(join(tmp, 'clip.mp4'), { seconds: 1, size: '160x90' });
  const r = await stateos(['ingest', clip, '--title', 'Second clip', '--data', dir, ...small]);
  expect(r.code, r.stderr).toBe(0);
  server = await serve(['--data', dir, ...small, '--sample']);
  env = await startBrowserEnv({ args: WEBRTC_LOOPBACK_ARGS });
  await allowLocalCandidates(env.chromium.context, env.server.origin);
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the browser viewer', () => {
  it('joins a server over WebRTC and fills its IndexedDB ring with the metadata', async () => {
    const path = `/web/viewer.html?server=${encodeURIComponent(server.url)}`;
    let t = await env.open(path, '!!window.stateosViewer');
    await until('2 objects in the page', async () => (await state(t)).objects.length === 2);
    const s = await state(t);
    expect(s.objects.map((o) => o.title).sort()).toEqual(['Second clip', 'stateos sample clip']);
    expect(s.live).toBe(1);
    expect(s.status).toMatch(/connected to [0-9a-f-]{36}: 2 objects, [23] metadata STUs/);

    // the server sees a viewer, in sync
    const serverGuid = ((await (await fetch(server.url + '/api/health')).json()) as { server: string }).server;
    await until('server reports the viewer in sync', async () => {
      const p = (await (await fetch(server.url + '/api/peers')).json()) as { peers: { role: string; state: string; inSync: boolean }[] };
      return p.peers.length === 1 && p.peers[0].role === 'viewer' && p.peers[0].state === 'live' && p.peers[0].inSync;
    });
    // media, and the server's token issuer key (docs/IDENTITY.md), which a viewer holds and does not list
    expect([...s.held].sort((a, b) => a.type - b.type)).toEqual([{ type: 0x10, origin: serverGuid, upTo: 1 }, { type: 0x100, origin: serverGuid, upTo: 2 }]);

    // a live change reaches the page
    const target = s.objects.find((o) => o.title === 'Second clip')!;
    const patched = await fetch(`${server.url}/api/objects/${target.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Renamed live' }) });
    expect(patched.status).toBe(200);
    await until('live title', async () => (await state(t)).objects.some((o) => o.title === 'Renamed live'));
    await env.screenshot(t.page, 'viewer-synced.png');

    // reload: the objects come back from IndexedDB before (and without) the server
    await t.page.close();
    await server.stop();
    t = await env.open(path, '!!window.stateosViewer');
    const again = await state(t);
    expect(again.objects.map((o) => o.title).sort()).toEqual(['Renamed live', 'stateos sample clip']);
    expect(again.live).toBe(0);
    expect([...again.held].sort((a, b) => a.type - b.type)).toEqual([{ type: 0x10, origin: serverGuid, upTo: 1 }, { type: 0x100, origin: serverGuid, upTo: 3 }]);
    expect(t.errors.filter((e) => !/Failed to fetch|ERR_CONNECTION_REFUSED|could not reach/.test(e))).toEqual([]);
    server = await serve(['--data', join(tmp, 'server'), ...small]);
  });
});
