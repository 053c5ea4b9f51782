// The canvas's camera: a world point p is drawn at p·k + (x, y) on screen. Pure functions: zoom about a
// point, pan, fit a rectangle, the world rectangle in view, the mode a zoom level shows, and the frames of
// a flight from one camera to another (zoom interpolated in log space, the centre moving in world space).

export interface Camera {
  x: number;
  y: number;
  k: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Size {
  w: number;
  h: number;
}

export const MIN_K = 0.02;
export const MAX_K = 8;
/** Below this zoom a rectangle is a coloured block (its text would be too small to read); from DETAIL_K up it shows its detail (interactive). */
export const OVERVIEW_K = 0.45;
export const DETAIL_K = 1.6;

export type Mode = 'overview' | 'summary' | 'detail';

export const modeFor = (k: number): Mode => (k < OVERVIEW_K ? 'overview' : k < DETAIL_K ? 'summary' : 'detail');

const clampK = (k: number): number => Math.min(MAX_K, Math.max(MIN_K, k));

/** Zooms by `factor` keeping the world point under the screen point (sx, sy) where it is. */
export function zoomAt(c: Camera, factor: number, sx: number, sy: number): Camera {
  const k = clampK(c.k * factor);
  const f = k / c.k;
  return { k, x: sx - (sx - c.x) * f, y: sy - (sy - c.y) * f };
}

/** Sets the zoom to `k` about the screen point (sx, sy). */
export const zoomTo = (c: Camera, k: number, sx: number, sy: number): Camera => zoomAt(c, clampK(k) / c.k, sx, sy);

export const panBy = (c: Camera, dx: number, dy: number): Camera => ({ k: c.k, x: c.x + dx, y: c.y + dy });

/** The camera that shows `r` whole, centred, with `pad` screen pixels around it, zoomed in no further than maxK. */
export function fit(r: Rect, view: Size, pad = 32, maxK = 1): Camera {
  const kx = (view.w - 2 * pad) / Math.max(1, r.w);
  const ky = (view.h - 2 * pad) / Math.max(1, r.h);
  const k = clampK(Math.min(maxK, kx, ky));
  return centerOn(r, view, k);
}

/** The camera at zoom k with the centre of `r` in the middle of the view. */
export function centerOn(r: Rect, view: Size, k: number): Camera {
  const kk = clampK(k);
  return { k: kk, x: view.w / 2 - (r.x + r.w / 2) * kk, y: view.h / 2 - (r.y + r.h / 2) * kk };
}

/** The world rectangle the view shows. */
export const visibleWorld = (c: Camera, view: Size): Rect => ({ x: -c.x / c.k, y: -c.y / c.k, w: view.w / c.k, h: view.h / c.k });

export const grow = (r: Rect, by: number): Rect => ({ x: r.x - r.w * by, y: r.y - r.h * by, w: r.w * (1 + 2 * by), h: r.h * (1 + 2 * by) });

export const contains = (outer: Rect, inner: Rect): boolean =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.w <= outer.x + outer.w && inner.y + inner.h <= outer.y + outer.h;

export const intersects = (a: Rect, b: Rect): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** The smallest pan that brings `r` (world) inside the view with `pad` screen pixels to spare; c itself when it is in. */
export function reveal(c: Camera, r: Rect, view: Size, pad = 24): Camera {
  const left = r.x * c.k + c.x;
  const top = r.y * c.k + c.y;
  const right = left + r.w * c.k;
  const bottom = top + r.h * c.k;
  let dx = 0;
  let dy = 0;
  if (right - left > view.w - 2 * pad || left < pad) dx = pad - left;
  else if (right > view.w - pad) dx = view.w - pad - right;
  if (bottom - top > view.h - 2 * pad || top < pad) dy = pad - top;
  else if (bottom > view.h - pad) dy = view.h - pad - bottom;
  return dx === 0 && dy === 0 ? c : panBy(c, dx, dy);
}

/** The camera at t ∈ [0, 1] of a flight from a to b, for a view of `view`. */
export function between(a: Camera, b: Camera, t: number, view: Size): Camera {
  const k = Math.exp(Math.log(a.k) + (Math.log(b.k) - Math.log(a.k)) * t);
  // centres in world coordinates, moved linearly
  const ca = { x: (view.w / 2 - a.x) / a.k, y: (view.h / 2 - a.y) / a.k };
  const cb = { x: (view.w / 2 - b.x) / b.k, y: (view.h / 2 - b.y) / b.k };
  const cx = ca.x + (cb.x - ca.x) * t;
  const cy = ca.y + (cb.y - ca.y) * t;
  return { k, x: view.w / 2 - cx * k, y: view.h / 2 - cy * k };
}

export const easeOut = (t: number): number => 1 - (1 - t) ** 3;

/** Zoom factor of a wheel event: pixel, line and page deltas alike; a trackpad pinch (ctrlKey) is finer. */
export function wheelFactor(deltaY: number, deltaMode: number, pinch: boolean): number {
  const px = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  const clamped = Math.max(-240, Math.min(240, px));
  return Math.exp(-clamped * (pinch ? 0.01 : 0.0018));
}
