// The State UI canvas of the app, served by a real state server: one rectangle per business object,
// grouped by application; zoom by wheel, keys and pinch, pan by drag and arrows; Tab and Enter to a
// rectangle's detail, Escape back; filters by application and text; a rename shows at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../helpers/cli.ts';
import { type AppEnv, buildApp, startAppEnv } from './helpers/app.ts';
import type { TestPage } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-app-canvas-'));
let server: Served;
let env: AppEnv;
let t: TestPage;
let objects: { id: string; title: string; type: string }[];

interface View {
  cam: { x: number; y: number; k: number };
  mode: string;
  rects: { id: string; app: string; label: string }[];
  focused: string | undefined;
}

const view = (): Promise<View> =>
  t.page.evaluate(() => {
    const c = document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-canvas')!;
    const root = c.shadowRoot!;
    return {
      cam: c.camera,
      mode: root.querySelector<HTMLElement>('.viewport')!.dataset.mode!,
      rects: [...root.querySelectorAll<HTMLElement>('.rect')].map((r) => ({ id: r.dataset.id!, app: r.dataset.app!, label: r.getAttribute('aria-label')! })),
      focused: (root.activeElement as HTMLElement | null)?.dataset?.id,
    };
  });

const viewport = () => t.page.locator('stateos-canvas .viewport');
const settle = () => t.page.waitForTimeout(450); // a camera flight is 320 ms

const post = async (path: string, body: unknown) => {
  const r = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as { id: string };
};

beforeAll(async () => {
  const build = await buildApp();
  server = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--cluster-key', 'app-canvas-cluster-key-01', '--sample']);
  const [media] = (await (await fetch(`${server.url}/api/objects`)).json()) as { id: string }[];
  const lobby = await post('/api/playlists', { title: 'Lobby loop', clips: [{ media: media.id, startMs: 0, endMs: 5000 }, { media: media.id, startMs: 8000 }] });
  await post('/api/playlists', { title: 'Evening', clips: [{ media: media.id }] });
  await post('/api/channels', { name: 'lobby', title: 'Lobby', mode: 'live', playlists: [lobby.id] });
  objects = (await (await fetch(`${server.url}/api/objects`)).json()) as typeof objects;
  env = await startAppEnv(build, { origins: [server.url] });
  t = await env.open(`${server.url}/canvas`);
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the State UI canvas', () => {
  it('shows one rectangle per business object, grouped by application', async () => {
    expect(objects).toHaveLength(4);
    await expect.poll(async () => (await view()).rects.length, { timeout: 10_000 }).toBe(4);
    const v = await view();
    expect(v.rects.map((r) => r.id).sort()).toEqual(objects.map((o) => o.id).sort());
    expect(v.rects.map((r) => r.app)).toEqual(['media', 'playlists', 'playlists', 'channels']);
    expect(v.rects.map((r) => r.label)).toEqual([
      expect.stringMatching(/^Media: stateos sample clip\. 0:20, 640×360, H\.264 \+ AAC, 634 KiB$/),
      expect.stringMatching(/^Playlist: Evening\. 1 clip, 0:20$/),
      expect.stringMatching(/^Playlist: Lobby loop\. 2 clips, 0:17$/),
      expect.stringMatching(/^Channel: Lobby\. lobby, live, 1 playlist$/),
    ]);
    expect(v.mode).toBe('summary');
    expect(await t.page.locator('stateos-canvas .glabel').allInnerTexts()).toEqual(['Media1', 'Playlists2', 'Channels1']);
    await env.screenshot(t.page, 'app-canvas.png');
    expect(t.errors).toEqual([]);
  });

  it('zooms with the wheel about the pointer, and with + and − keys', async () => {
    const box = (await viewport().boundingBox())!;
    const before = await view();
    const [px, py] = [box.width * 0.3, box.height * 0.5];
    const world = { x: (px - before.cam.x) / before.cam.k, y: (py - before.cam.y) / before.cam.k };
    await t.page.mouse.move(box.x + px, box.y + py);
    await t.page.mouse.wheel(0, -240);
    await expect.poll(async () => (await view()).cam.k).toBeGreaterThan(before.cam.k * 1.2);
    const after = await view();
    // the world point under the pointer stays under it
    expect(Math.abs(world.x * after.cam.k + after.cam.x - px)).toBeLessThan(1);
    expect(Math.abs(world.y * after.cam.k + after.cam.y - py)).toBeLessThan(1);

    await viewport().focus();
    await t.page.keyboard.press('0'); // fit
    await settle();
    const fitted = (await view()).cam.k;
    await t.page.keyboard.press('+');
    await settle();
    expect((await view()).cam.k).toBeCloseTo(fitted * 1.25, 5);
    await t.page.keyboard.press('-');
    await t.page.keyboard.press('-');
    await settle();
    expect((await view()).cam.k).toBeCloseTo(fitted / 1.25, 5);
  });

  it('pans by dragging, with the arrow keys, and zooms by pinching (two touch pointers)', async () => {
    const box = (await viewport().boundingBox())!;
    const a = await view();
    // drag from an empty spot near the top left corner
    await t.page.mouse.move(box.x + 20, box.y + 20);
    await t.page.mouse.down();
    await t.page.mouse.move(box.x + 80, box.y + 60, { steps: 4 });
    await t.page.mouse.move(box.x + 140, box.y + 100, { steps: 4 });
    await t.page.mouse.up();
    const b = await view();
    expect(b.cam.x - a.cam.x).toBeCloseTo(120, 0);
    expect(b.cam.y - a.cam.y).toBeCloseTo(80, 0);
    expect(b.cam.k).toBe(a.cam.k);

    await viewport().focus();
    await t.page.keyboard.press('ArrowRight');
    await t.page.keyboard.press('ArrowDown');
    await settle();
    const c = await view();
    expect(c.cam.x - b.cam.x).toBeCloseTo(-60, 5);
    expect(c.cam.y - b.cam.y).toBeCloseTo(-60, 5);

    // a pinch: two touch pointers move apart from 100 to 200 px around a point; the zoom doubles about it
    await t.page.evaluate(() => {
      const vp = document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-canvas')!.shadowRoot!.querySelector<HTMLElement>('.viewport')!;
      const r = vp.getBoundingClientRect();
      const cx = r.left + 400;
      const cy = r.top + 300;
      const ev = (type: string, id: number, x: number) => vp.dispatchEvent(new PointerEvent(type, { pointerId: id, pointerType: 'touch', clientX: x, clientY: cy, bubbles: true, isPrimary: id === 1 }));
      ev('pointerdown', 1, cx - 50);
      ev('pointerdown', 2, cx + 50);
      for (let i = 1; i <= 5; i++) {
        ev('pointermove', 1, cx - 50 - 10 * i);
        ev('pointermove', 2, cx + 50 + 10 * i);
      }
      ev('pointerup', 1, cx - 100);
      ev('pointerup', 2, cx + 100);
    });
    const d = await view();
    expect(d.cam.k / c.cam.k).toBeCloseTo(2, 5);
  });

  it('Tab moves between rectangles, Enter opens one in detail, Escape comes back; zooming in shows every detail', async () => {
    await viewport().focus();
    await t.page.keyboard.press('0');
    await settle();
    await t.page.keyboard.press('Tab');
    await expect.poll(async () => (await view()).focused).toBe(objects.find((o) => o.type === 'media')!.id);
    await t.page.keyboard.press('Tab');
    await expect
      .poll(async () => {
        const v = await view();
        return v.rects.find((r) => r.id === v.focused)?.label;
      })
      .toMatch(/^Playlist: Evening/);
    await t.page.keyboard.press('Shift+Tab');
    await t.page.keyboard.press('Enter');
    await settle();
    const v = await view();
    expect(v.mode).toBe('detail');
    expect(v.cam.k).toBeGreaterThanOrEqual(1.6);
    const media = t.page.locator(`stateos-canvas .rect[data-app=media]`);
    expect(await media.locator('table.mini').innerText()).toMatch(/video\s+H\.264\s+640×360\s+600[\s\S]*audio\s+AAC\s+48 kHz stereo\s+939/);
    expect(await media.getByRole('link', { name: '▶ Play' }).getAttribute('href')).toMatch(/\/canvas\?play=[0-9a-f-]{36}&focus=/);
    await env.screenshot(t.page, 'app-canvas-detail.png');

    await t.page.keyboard.press('Escape');
    await settle();
    expect((await view()).mode).toBe('summary');

    // zooming in with the wheel past the detail zoom: every rectangle drawn shows its detail
    const box = (await viewport().boundingBox())!;
    await t.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 12 && (await view()).mode !== 'detail'; i++) await t.page.mouse.wheel(0, -200);
    await expect.poll(async () => (await view()).mode).toBe('detail');
    const details = await t.page.locator('stateos-canvas .rect').evaluateAll((els) => els.map((e) => !!e.querySelector('dl.fields')));
    expect(details.length).toBeGreaterThan(0);
    expect(details.every(Boolean)).toBe(true);
    await viewport().focus();
    await t.page.keyboard.press('0');
    await settle();
    expect((await view()).mode).toBe('summary');

    // from the detail of a playlist, a clip's button takes the camera to its media
    const playlist = t.page.locator('stateos-canvas .rect[data-app=playlists]').first();
    await playlist.dblclick();
    await settle();
    await playlist.getByRole('button', { name: 'stateos sample clip' }).first().click();
    await settle();
    const m = await view();
    expect(m.focused).toBe(objects.find((o) => o.type === 'media')!.id);
    expect(m.mode).toBe('detail');
    expect(t.errors).toEqual([]);
  });

  it('filters by application and by text', async () => {
    await viewport().focus();
    await t.page.keyboard.press('0');
    const search = t.page.locator('stateos-canvas-toolbar input[type=search]');
    await search.fill('lobby');
    await expect.poll(async () => (await view()).rects.map((r) => r.label.split('.')[0]).sort()).toEqual(['Channel: Lobby', 'Playlist: Lobby loop']);
    await t.page.locator('stateos-canvas-toolbar button[data-app=channels]').click();
    await expect.poll(async () => (await view()).rects.map((r) => r.label.split('.')[0])).toEqual(['Playlist: Lobby loop']);
    expect(await t.page.locator('stateos-canvas-toolbar .shown').innerText()).toMatch(/^1 of 4 objects/);
    await env.screenshot(t.page, 'app-canvas-filtered.png');
    await search.fill('');
    await t.page.locator('stateos-canvas-toolbar button[data-app=channels]').click();
    await expect.poll(async () => (await view()).rects.length).toBe(4);
  });

  it('a renamed media shows at once', async () => {
    const media = objects.find((o) => o.type === 'media')!;
    const r = await fetch(`${server.url}/api/objects/${media.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Renamed on the canvas' }) });
    expect(r.status).toBe(200);
    await expect.poll(async () => (await view()).rects.find((x) => x.id === media.id)?.label, { timeout: 10_000 }).toMatch(/^Media: Renamed on the canvas\./);
    // playlists that cut from it say so too
    await expect.poll(async () => t.page.locator('stateos-canvas .rect[data-app=playlists]').first().innerText()).toMatch(/Evening/);
    await settle(); // rectangles glide to new places in 0.3 s
    await env.screenshot(t.page, 'app-canvas-live.png');
    expect(t.errors).toEqual([]);
  });
});
