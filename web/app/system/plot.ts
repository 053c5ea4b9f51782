// Small SVG plots: the path of a line and the rectangles of bars over a fixed box. Pure.

/**
 * An SVG path through `values` in a w×h box, 0 at the bottom and `max` at the top: one point per slot of
 * `slots` across the width, right-aligned (the newest at the right edge).
 */
export function linePath(values: readonly number[], w: number, h: number, max: number, slots = values.length): string {
  if (values.length === 0) return '';
  const top = max > 0 ? max : 1;
  const step = w / Math.max(1, slots - 1);
  const offset = Math.max(0, slots - values.length);
  const y = (v: number) => (h - (Math.max(0, Math.min(v, top)) / top) * h).toFixed(1);
  const pts = values.map((v, i) => `${i === 0 ? 'M' : 'L'}${((offset + i) * step).toFixed(1)},${y(v)}`);
  // a single value: a short flat segment so that it shows
  if (values.length === 1) pts.push(`L${w.toFixed(1)},${y(values[0])}`);
  return pts.join(' ');
}

/** Bars for `values` in a w×h box: one slot per value of `slots`, right-aligned (the newest at the right). */
export function bars(values: readonly number[], w: number, h: number, max: number, slots: number): { x: number; y: number; w: number; h: number }[] {
  const top = max > 0 ? max : 1;
  const slot = w / Math.max(1, slots);
  const offset = slots - values.length;
  return values.flatMap((v, i) => {
    if (v <= 0) return [];
    const bh = Math.max(1, (Math.min(v, top) / top) * h);
    return [{ x: (offset + i) * slot, y: h - bh, w: Math.max(1, slot - 1), h: bh }];
  });
}

/** A "nice" upper bound for an axis: 1, 2, 5 × 10^n at or above v. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
