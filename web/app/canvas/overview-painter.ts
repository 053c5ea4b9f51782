// The overview (zoomed far out): thousands of rectangles are coloured blocks, too small for text, so they
// are painted on one 2D canvas instead of being elements: a few thousand fillRects take well under a
// millisecond, where as many elements would take a long frame to create. From TITLES_K up each block gets
// its title, so the text fades in before the rectangles become elements (the summary mode).
import type { AppId, ObjectView } from '../core/describe.ts';
import { type Camera, intersects, type Size, visibleWorld } from './camera.ts';
import type { Layout } from './layout.ts';

export const TITLES_K = 0.22;

export type Palette = Record<AppId | 'surface' | 'fg' | 'muted', string>;

/** The palette from the element's custom properties (web/app/styles/theme.css). */
export function readPalette(el: Element): Palette {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return {
    media: v('--media', '#2f6fdd'),
    playlists: v('--playlists', '#8b4fd6'),
    channels: v('--channels', '#0f8f7f'),
    usage: v('--usage', '#c7731a'),
    other: v('--other', '#6b7280'),
    surface: v('--surface', '#fff'),
    fg: v('--fg', '#1d2330'),
    muted: v('--muted', '#5d6575'),
  };
}

/** Sizes the canvas to the view (device pixels) and paints the blocks in view. */
export function paintOverview(canvas: HTMLCanvasElement, lay: Layout, cam: Camera, view: Size, palette: Palette, get: (key: string) => ObjectView | undefined): void {
  const dpr = globalThis.devicePixelRatio || 1;
  const w = Math.round(view.w * dpr);
  const h = Math.round(view.h * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.setTransform(dpr * cam.k, 0, 0, dpr * cam.k, dpr * cam.x, dpr * cam.y);
  const seen = visibleWorld(cam, view);
  const titles = cam.k >= TITLES_K;
  const inView = lay.placed.filter((p) => intersects(p, seen));
  // blocks by application: one fillStyle change per group
  for (const app of Object.keys(palette) as (keyof Palette)[]) {
    const mine = inView.filter((p) => p.app === app);
    if (mine.length === 0) continue;
    ctx.fillStyle = palette[app];
    ctx.globalAlpha = titles ? 0.18 : 0.75;
    for (const p of mine) ctx.fillRect(p.x, p.y, p.w, p.h);
    if (titles) {
      ctx.globalAlpha = 1;
      for (const p of mine) ctx.fillRect(p.x, p.y, 6, p.h);
    }
  }
  ctx.globalAlpha = 1;
  if (!titles) return;
  ctx.fillStyle = palette.fg;
  ctx.font = '600 26px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  for (const p of inView) {
    const v = get(p.key);
    if (v) ctx.fillText(v.title.length > 16 ? `${v.title.slice(0, 15)}…` : v.title, p.x + 18, p.y + 18, p.w - 30);
  }
}

/** The placed rectangle under a point of the view, if any. */
export function hit(lay: Layout, cam: Camera, sx: number, sy: number): string | undefined {
  const x = (sx - cam.x) / cam.k;
  const y = (sy - cam.y) / cam.k;
  return lay.placed.find((p) => x >= p.x && x < p.x + p.w && y >= p.y && y < p.y + p.h)?.key;
}
