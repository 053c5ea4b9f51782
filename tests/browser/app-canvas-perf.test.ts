// The State UI canvas with a few thousand objects (synthetic, tests/browser/pages/app-canvas.html): a
// scripted wheel zoom (through overview, summary and detail) and a drag, one input per frame, must keep
// frames coming; zoomed out the blocks are painted on the 2D canvas, zoomed in only the rectangles around
// the view are elements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameStats } from './pages/app-canvas.ts';
import { type BrowserEnv, startBrowserEnv, type TestPage } from './helpers/index.ts';

const N = 3000;
let env: BrowserEnv;
let t: TestPage;

beforeAll(async () => {
  env = await startBrowserEnv({ viewport: { width: 1280, height: 800 } });
  t = await env.open(`/tests/browser/pages/app-canvas.html?n=${N}`, 'window.canvasBench?.ready === true');
});
afterAll(async () => {
  await env?.close();
});

const run = (kind: 'wheel' | 'drag', frames: number): Promise<FrameStats> => t.page.evaluate(([k, f]) => window.canvasBench!.run(k, f), [kind, frames] as const);

describe('the canvas with 3000 objects', () => {
  it('lays out every object, draws only those around the view, and keeps frames coming while zooming and panning', async () => {
    const placed = await t.page.evaluate(() => document.querySelector('stateos-canvas')!.placedCount);
    expect(placed).toBe(N);
    // fitted: everything is in view, painted (overview mode), no rectangle element
    const atFit = await t.page.evaluate(() => {
      const root = document.querySelector('stateos-canvas')!.shadowRoot!;
      const c = root.querySelector<HTMLCanvasElement>('canvas.overview')!;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
      return { drawn: root.querySelectorAll('.rect').length, mode: root.querySelector<HTMLElement>('.viewport')!.dataset.mode, painted: painted / (c.width * c.height) };
    });
    expect(atFit.mode).toBe('overview');
    expect(atFit.drawn).toBe(0);
    expect(atFit.painted).toBeGreaterThan(0.1);
    await env.screenshot(t.page, 'app-canvas-3000.png');

    const wheel = await run('wheel', 120);
    const drag = await run('drag', 120);
    console.log(`canvas, ${N} objects: wheel zoom p50 ${wheel.p50.toFixed(1)} ms p95 ${wheel.p95.toFixed(1)} ms max ${wheel.max.toFixed(1)} ms; drag p50 ${drag.p50.toFixed(1)} ms p95 ${drag.p95.toFixed(1)} ms max ${drag.max.toFixed(1)} ms; ${drag.drawn} drawn at zoom ${drag.k.toFixed(2)}`);
    // headless Chromium without a GPU: generous bounds, meant to catch a canvas that re-renders everything per frame
    expect(wheel.p50).toBeLessThan(34);
    expect(wheel.p95).toBeLessThan(150);
    expect(drag.p50).toBeLessThan(34);
    expect(drag.p95).toBeLessThan(100);

    // from 22 % the overview writes the titles on its blocks
    await t.page.evaluate(() => document.querySelector('stateos-canvas')!.moveCamera({ x: -200, y: -200, k: 0.3 }));
    await t.page.waitForTimeout(100);
    await env.screenshot(t.page, 'app-canvas-3000-titles.png');

    // zoomed in to summary, then detail: only the neighbourhood is in the DOM
    await t.page.evaluate(() => document.querySelector('stateos-canvas')!.moveCamera({ x: -2000, y: -2000, k: 0.8 }));
    await t.page.waitForFunction(() => document.querySelector('stateos-canvas')!.shadowRoot!.querySelector<HTMLElement>('.viewport')!.dataset.mode === 'summary');
    const summary = await t.page.evaluate(() => document.querySelector('stateos-canvas')!.shadowRoot!.querySelectorAll('.rect').length);
    expect(summary).toBeGreaterThan(20);
    expect(summary).toBeLessThan(400);
    await env.screenshot(t.page, 'app-canvas-3000-summary.png');
    await t.page.evaluate(() => document.querySelector('stateos-canvas')!.moveCamera({ x: -2000, y: -2000, k: 2 }));
    await t.page.waitForFunction(() => document.querySelector('stateos-canvas')!.shadowRoot!.querySelector<HTMLElement>('.viewport')!.dataset.mode === 'detail');
    const zoomed = await t.page.evaluate(() => document.querySelector('stateos-canvas')!.shadowRoot!.querySelectorAll('.rect').length);
    expect(zoomed).toBeGreaterThan(0);
    expect(zoomed).toBeLessThan(200);
    await env.screenshot(t.page, 'app-canvas-3000-detail.png');
    expect(t.errors).toEqual([]);
  });
});
