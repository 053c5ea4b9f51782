// The System view of the app, served by a state server B that joined A (--peer, --cluster-key): the
// picture shows both servers, this browser as B's viewer, the links in sync and the bytes moving on them;
// B's small data ring evicts while it pulls A's frames, and the plot shows the evictions as they happen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../helpers/cli.ts';
import { type AppEnv, buildApp, startAppEnv } from './helpers/app.ts';
import type { TestPage } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-app-system-'));
const key = ['--cluster-key', 'app-system-cluster-key-001'];
let a: Served;
let b: Served;
let env: AppEnv;
let t: TestPage;
let guids: { a: string; b: string };

interface Picture {
  nodes: { id: string; role: string; cls: string; text: string }[];
  edges: { from: string; to: string; state: string; inSync: string; text: string }[];
  rows: string[];
  rings: { label: string; sections: { name: string; text: string; bars: number }[] }[];
}

const picture = (): Promise<Picture> =>
  t.page.evaluate(() => {
    const sys = document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-system')!.shadowRoot!;
    const svg = sys.querySelector('stateos-peers-graph')!.shadowRoot!;
    return {
      nodes: [...svg.querySelectorAll<SVGGElement>('g.node')].map((g) => ({ id: g.dataset.id!, role: g.dataset.role!, cls: g.getAttribute('class')!, text: g.textContent!.replace(/\s+/g, ' ').trim() })),
      edges: [...svg.querySelectorAll<SVGGElement>('g.edge')].map((g) => ({ from: g.dataset.from!, to: g.dataset.to!, state: g.dataset.state!, inSync: g.dataset.inSync!, text: g.querySelector('title')!.textContent! })),
      rows: [...sys.querySelectorAll('tbody tr')].map((r) => (r as HTMLElement).innerText.replace(/\s+/g, ' ')),
      rings: [...sys.querySelectorAll('stateos-ring-usage')].map((r) => ({
        label: r.shadowRoot!.querySelector('h3')?.textContent ?? '',
        sections: [...r.shadowRoot!.querySelectorAll<HTMLElement>('.section')].map((s) => ({ name: s.dataset.section!, text: s.querySelector('.facts')!.textContent!.replace(/\s+/g, ' ').trim(), bars: s.querySelectorAll('rect.ev').length })),
      })),
    };
  });

beforeAll(async () => {
  const build = await buildApp();
  a = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', ...key, '--sample']);
  b = await serve(['--data', join(tmp, 'b'), '--meta-size', '4M', '--data-size', '1M', ...key, '--peer', a.url]);
  const health = async (s: Served) => ((await (await fetch(`${s.url}/api/health`)).json()) as { server: string }).server;
  guids = { a: await health(a), b: await health(b) };
  // B has joined A (a WebRTC link that now and then takes a retry to come up)
  for (const t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
    const peers = ((await (await fetch(`${b.url}/api/peers`)).json()) as { peers: { server: string; inSync: boolean }[] }).peers;
    if (peers.some((p) => p.server === guids.a && p.inSync)) break;
    if (Date.now() - t0 > 25_000) throw new Error('B did not join A');
  }
  env = await startAppEnv(build, { origins: [a.url, b.url] });
});
afterAll(async () => {
  await env?.close();
  await b?.stop();
  await a?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the System view', () => {
  it('draws the servers, this browser, and their links, in sync, with the bytes per second', async () => {
    t = await env.open(`${b.url}/system`);
    const viewer = await t.page.evaluate(() => window.stateos!.viewer!.guid);
    await expect
      .poll(async () => (await picture()).nodes.map((n) => `${n.role} ${n.id}`).sort(), { timeout: 15_000 })
      .toEqual([`server ${guids.a}`, `server ${guids.b}`, `viewer ${viewer}`].sort());
    await expect
      .poll(async () => (await picture()).edges.map((e) => `${[e.from, e.to].sort().join(' ')} ${e.state} ${e.inSync}`).sort(), { timeout: 15_000 })
      .toEqual([`${[guids.a, guids.b].sort().join(' ')} live true`, `${[guids.b, viewer].sort().join(' ')} live true`].sort());
    const p = await picture();
    const node = (id: string) => p.nodes.find((n) => n.id === id)!;
    expect(node(guids.b).cls).toContain('self');
    expect(node(guids.b).text).toContain('this server');
    expect(node(viewer).text).toContain('you (this browser)');
    // the group leader: the lower GUID of the two servers
    expect(node(guids.a < guids.b ? guids.a : guids.b).text).toContain('leader');
    // rates come from two successive polls: every link has a figure each way by now
    await expect.poll(async () => (await picture()).edges.every((e) => /\d+ B\/s.*\d+ B\/s/.test(e.text.replace(/KiB|MiB/g, 'B')))).toBe(true);
    expect(p.rows).toHaveLength(2);
    expect(p.rows.join('\n')).toMatch(/server live[\s\S]*in sync/);
    await env.screenshot(t.page, 'app-system.png');
    expect(t.errors).toEqual([]);
  });

  it('plots the ring sections, and the evictions of a small data ring as they happen', async () => {
    await expect.poll(async () => (await picture()).rings.map((r) => r.label)).toEqual([expect.stringMatching(/^Server [0-9a-f]{8} \(files\)$/), 'This browser (IndexedDB)']);
    const before = await picture();
    expect(before.rings[0].sections.map((s) => s.name)).toEqual(['meta', 'data']);
    expect(before.rings[0].sections[1].text).toMatch(/^0 B of 10\d\d KiB .* 0 evicted/);
    // B pulls every frame of the sample from A: 1.4 MiB into a 1 MiB data section
    const [media] = (await (await fetch(`${a.url}/api/objects`)).json()) as { id: string; media: { frames: number } }[];
    const pull = await fetch(`${b.url}/api/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: '0101', origin: guids.a, from: 1, to: media.media.frames, data: true }),
    });
    expect(pull.status, await pull.clone().text()).toBe(200);
    await expect.poll(async () => (await picture()).rings[0].sections[1].bars, { timeout: 10_000 }).toBeGreaterThan(0);
    const after = await picture();
    expect(after.rings[0].sections[1].text).toMatch(/[1-9][\d,]* evicted/);
    // and the link from A carried those bytes
    await t.page.locator('stateos-ring-usage').first().scrollIntoViewIfNeeded();
    await env.screenshot(t.page, 'app-system-rings.png');
    expect(t.errors).toEqual([]);
  });
});
