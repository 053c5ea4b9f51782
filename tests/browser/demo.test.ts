// The in-tab demo (web/demo/, docs/DEMO.md) as a static site: the web build served by a plain static file
// server (helpers/demo.ts, node:http; no stateos server anywhere), opened at /demo/ in real Chromium. Four
// state servers in the page, each on its own IndexedDB ring, joined by real RTCPeerConnections; the sample is
// ingested on server 1 and plays from server 3 through hls.js over STX. Then: a server stopped and
// restarted catches up; a cut link is bridged by relay; a shrunk ring plays with its frames fetched again
// from peers; two servers renaming the sample at once give one collision with the same verdict everywhere.
// Prints the figures docs/DEMO.md quotes; screenshots in tests/artifacts/demo-*.png.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chromium } from './helpers/chromium.ts';
import { buildWeb, serveStatic, type StaticSite } from './helpers/demo.ts';
import { allowLocalCandidates, ARTIFACTS, launchChromium, openTestPage, type TestPage, WEBRTC_LOOPBACK_ARGS } from './helpers/index.ts';

let site: StaticSite;
let chromium: Chromium;
let t: TestPage;
let page: Page;

interface ServerView {
  n: number;
  state: string;
  metaStus: number;
  sampleTitle: string | undefined;
  framesHeld: number;
  frames: number;
  fetched: number;
  evictions: number;
  dataEvicted: number;
  collisions: { winner: string | undefined; ids: string[] }[];
}

const servers = (): Promise<ServerView[]> =>
  page.evaluate(() => {
    const c = window.stateosDemo!.cluster;
    return c.servers.map((s) => {
      const m = c.sample(s.n);
      const held = m ? s.framesHeld(m) : { held: 0, total: 0 };
      const t = s.liveTotals();
      return {
        n: s.n,
        state: s.state,
        metaStus: s.metaStus(),
        sampleTitle: m?.title,
        framesHeld: held.held,
        frames: held.total,
        fetched: t.framesFetched,
        evictions: t.evictions,
        dataEvicted: s.ringStats()?.data.evicted ?? 0,
        collisions: s.collisions().filter((x) => x.object === c.sampleId).map((x) => ({ winner: x.winner, ids: x.ids })),
      };
    });
  });

interface PlayerView {
  time: number;
  status: string;
  fatal: string[];
  loads: { kind: string; source: string; bytes: number; url: string }[];
  figures: { server: number; ttffMs?: number; firstFrameMs?: number } | undefined;
  viewerServer: number | undefined;
  viewerBackend: string | undefined;
}

const player = (): Promise<PlayerView> =>
  page.evaluate(() => {
    const d = window.stateosDemo!;
    const p = d.app.shadowRoot!.querySelector('demo-player')!;
    return {
      time: p.video?.currentTime ?? 0,
      status: p.status,
      fatal: [...p.fatal],
      loads: p.loads.map((l) => ({ kind: l.kind, source: l.source, bytes: l.bytes, url: l.url })),
      figures: p.figures ? { ...p.figures } : undefined,
      viewerServer: d.cluster.viewer.server,
      viewerBackend: (d.cluster.viewer.session?.link as { backend?: string } | undefined)?.backend,
    };
  });

const guidOf = (n: number): Promise<string> => page.evaluate((i) => window.stateosDemo!.cluster.server(i).guid, n);

async function shot(name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

/** Waits until every running server holds the same number of metadata STUs and the same sample title. */
async function converged(): Promise<ServerView[]> {
  let last: ServerView[] = [];
  await expect
    .poll(
      async () => {
        last = (await servers()).filter((s) => s.state === 'running');
        return new Set(last.map((s) => `${s.metaStus}|${s.sampleTitle}`)).size === 1 && last.every((s) => s.sampleTitle !== undefined);
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBe(true);
  return last;
}

beforeAll(async () => {
  const web = await buildWeb();
  site = await serveStatic(web.dir, { own: true });
  chromium = await launchChromium({ args: WEBRTC_LOOPBACK_ARGS, viewport: { width: 1280, height: 900 } });
  await allowLocalCandidates(chromium.context, site.origin);
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await site?.close();
});

describe('the in-tab demo, from a static host', () => {
  it('the web build (as in dist/web) holds demo/index.html and the sample clip as an asset', async () => {
    const redirect = await fetch(`${site.origin}/demo`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/demo/');
    const html = await (await fetch(`${site.origin}/demo/`)).text();
    expect(html).toContain('<stateos-demo>');
    const script = /src="(\/assets\/demo-[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await (await fetch(`${site.origin}${script}`)).text();
    const sample = /\/assets\/sample-[A-Za-z0-9_-]+\.mp4/.exec(js)?.[0];
    expect(sample).toBeDefined();
    const head = await fetch(`${site.origin}${sample}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(649168);
  });

  it('starts 4 servers on IndexedDB rings, ingests the sample on server 1, and converges', async () => {
    t = await openTestPage(chromium.context, `${site.origin}/demo/`, 'window.stateosDemo?.ready === true || !!window.stateosDemo?.error');
    page = t.page;
    expect(await page.evaluate(() => window.stateosDemo!.error)).toBeUndefined();
    const view = await converged();
    expect(view).toHaveLength(4);
    expect(view.every((s) => s.sampleTitle === 'stateos sample clip')).toBe(true);
    expect(view[0].framesHeld).toBe(view[0].frames);
    expect(view[0].frames).toBeGreaterThan(1000);
    // each server is on its own IndexedDB database
    const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? ''));
    for (let n = 1; n <= 4; n++) expect(dbs).toContain(`stateos-ring:stateos-demo server ${n}`);
    const links = await page.evaluate(() => [...window.stateosDemo!.cluster.links.values()].map((l) => l.state));
    expect(links).toEqual(['up', 'up', 'up', 'up', 'up', 'up']);
    const m = await page.evaluate(() => ({ ...window.stateosDemo!.cluster.metrics }));
    expect(m.convergedMs).toBeGreaterThan(0);
    console.log(
      `demo: servers up ${(m.serversUpMs! / 1000).toFixed(2)} s, links up ${(m.linksUpMs! / 1000).toFixed(2)} s, sample ingested ${(m.ingestDoneMs! / 1000).toFixed(2)} s, ` +
        `converged ${(m.convergedMs! / 1000).toFixed(2)} s after page load; IndexedDB ring append while ingesting ${m.ingest!.mibPerSecond.toFixed(2)} MiB/s ` +
        `(${(m.ingest!.bytes / 1048576).toFixed(2)} MiB, ${m.ingest!.stus} STUs in ${m.ingest!.ms.toFixed(0)} ms)`,
    );
  });

  it('plays the sample from server 3 with hls.js, every load over the in-page WebRTC session, frames fetched from server 1', async () => {
    await expect.poll(async () => (await player()).time, { timeout: 20_000, interval: 200 }).toBeGreaterThan(5);
    const p = await player();
    expect(p.fatal).toEqual([]);
    expect(p.viewerServer).toBe(3);
    expect(p.viewerBackend).toBe('browser');
    const three = await guidOf(3);
    expect(p.loads.length).toBeGreaterThan(4);
    expect(p.loads.filter((l) => l.kind === 'segment').length).toBeGreaterThanOrEqual(3);
    expect(new Set(p.loads.map((l) => l.source))).toEqual(new Set([three]));
    expect(p.loads.every((l) => l.bytes > 0)).toBe(true);
    // nothing went to the static host but the page, its assets and the sample file
    expect(site.requests.filter((r) => /\/hls\/|\/api\//.test(r))).toEqual([]);
    const s3 = (await servers())[2];
    expect(s3.fetched).toBeGreaterThan(0);
    console.log(`demo: time to first frame from server 3 ${p.figures!.ttffMs!.toFixed(0)} ms after Play (first frame ${(p.figures!.firstFrameMs! / 1000).toFixed(2)} s after page load)`);
    await shot('demo-playing.png');
  });

  it('a stopped server reopens its ring from IndexedDB and catches up on what it missed', async () => {
    const before = (await servers())[3].metaStus;
    expect(before).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Stop server 4' }).click();
    await expect.poll(async () => (await servers())[3].state).toBe('stopped');
    // a change while server 4 is down
    await page.evaluate(async () => {
      const c = window.stateosDemo!.cluster;
      await c.server(1).retitle(c.sampleId!, 'Renamed while server 4 was down');
    });
    await converged();
    await page.getByRole('button', { name: 'Start server 4' }).click();
    await expect.poll(async () => (await servers())[3].state).toBe('running');
    const reopened = await page.evaluate(() => ({ created: window.stateosDemo!.cluster.server(4).ring!.created, live: window.stateosDemo!.cluster.server(4).ring!.report.live.meta }));
    expect(reopened.created).toBe(false);
    expect(reopened.live).toBe(before);
    const view = await converged();
    expect(view).toHaveLength(4);
    expect(view[3].sampleTitle).toBe('Renamed while server 4 was down');
    expect(view[3].metaStus).toBe(before + 1);
    await shot('demo-restart.png');
  });

  it('a cut link stays cut and metadata still reaches both ends through the others (relay)', async () => {
    await page.getByRole('button', { name: 'Cut the link between server 1 and server 2' }).click();
    await expect.poll(() => page.evaluate(() => window.stateosDemo!.cluster.link(1, 2).state)).toBe('cut');
    await page.evaluate(async () => {
      const c = window.stateosDemo!.cluster;
      await c.server(1).retitle(c.sampleId!, 'Renamed with the 1-2 link cut');
    });
    const view = await converged();
    expect(view[1].sampleTitle).toBe('Renamed with the 1-2 link cut');
    expect(await page.evaluate(() => window.stateosDemo!.cluster.link(1, 2).state)).toBe('cut');
    await shot('demo-cut.png');
    await page.getByRole('button', { name: 'Restore the link between server 1 and server 2' }).click();
    await expect.poll(() => page.evaluate(() => window.stateosDemo!.cluster.link(1, 2).state), { timeout: 10_000 }).toBe('up');
  });

  it('a shrunk data ring evicts frames; playing from it fetches them again from peers, and it plays', async () => {
    // server 3 holds every video frame (its segment plan read them all) and the audio played so far
    const before = (await servers())[2];
    expect(before.framesHeld).toBeGreaterThan(before.frames / 2);
    await page.getByRole('button', { name: /^Shrink the data ring of server 3/ }).click();
    await expect.poll(async () => (await servers())[2].state, { timeout: 15_000 }).toBe('running');
    const shrunk = (await servers())[2];
    expect(shrunk.evictions).toBeGreaterThan(before.evictions);
    expect(shrunk.framesHeld).toBeLessThan(before.framesHeld);
    expect(shrunk.framesHeld).toBeLessThan(shrunk.frames / 2);
    const capacity = await page.evaluate(() => window.stateosDemo!.cluster.server(3).ringStats()!.data.capacity);
    expect(capacity).toBeLessThan(256 * 1024);
    await page.getByRole('button', { name: 'Play from server 3' }).click();
    await expect.poll(async () => (await player()).time, { timeout: 25_000, interval: 200 }).toBeGreaterThan(5);
    const p = await player();
    expect(p.fatal).toEqual([]);
    expect(p.viewerServer).toBe(3);
    expect(new Set(p.loads.map((l) => l.source))).toEqual(new Set([await guidOf(3)]));
    const after = (await servers())[2];
    expect(after.fetched).toBeGreaterThan(shrunk.fetched);
    expect(after.dataEvicted).toBeGreaterThan(0);
    console.log(
      `demo: shrunk server 3 to a ${capacity} B data section: ${shrunk.evictions - before.evictions} records evicted by the copy, ${shrunk.framesHeld} of ${shrunk.frames} frames left; ` +
        `playing it fetched ${after.fetched - shrunk.fetched} frame STUs from peers and evicted ${after.dataEvicted} more; first frame ${p.figures!.ttffMs!.toFixed(0)} ms after Play`,
    );
    await shot('demo-shrunk.png');
  });

  it('two servers renaming the sample at once make one collision with the same verdict on every server', async () => {
    await page.getByRole('button', { name: 'Rename on servers 1 and 2 at once' }).click();
    let view: ServerView[] = [];
    await expect
      .poll(
        async () => {
          view = await servers();
          return view.every((s) => s.collisions.length === 1);
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);
    const verdicts = new Set(view.map((s) => `${s.collisions[0].winner}|${[...s.collisions[0].ids].sort().join(',')}`));
    expect(verdicts.size).toBe(1);
    const winner = view[0].collisions[0].winner!;
    expect([await guidOf(1), await guidOf(2)]).toContain(winner.split('/')[0]);
    const titles = new Set((await converged()).map((s) => s.sampleTitle));
    expect(titles.size).toBe(1);
    expect([...titles][0]).toMatch(/^Renamed on server [12] at /);
    await expect.poll(() => page.evaluate(() => window.stateosDemo!.app.shadowRoot!.querySelector('[data-same-verdict]')?.getAttribute('data-same-verdict'))).toBe('true');
    await shot('demo-collision.png');
  });

  it('a file that is not media gets a clear message, and nothing is stored', async () => {
    const before = (await servers())[0].metaStus;
    await page.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a media file, just some text\n'.repeat(40)) });
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent(), { timeout: 10_000 }).toMatch(/“notes\.txt” could not be ingested: .+/);
    console.log(`demo: a text file dropped: ${await alert.textContent()}`);
    expect((await servers())[0].metaStus).toBe(before);
    expect(t.errors).toEqual([]);
  });
});
