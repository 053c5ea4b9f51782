// Where each rectangle goes: one block per application (media, playlists, channels, usage, other), side by
// side, each a grid of equal cards in the order the model gives (by title). Pure: the same objects give
// the same places, so a rectangle stays put while others change.
import { type AppId, APPS, type ObjectView } from '../core/describe.ts';
import type { Rect } from './camera.ts';

export const CARD_W = 240;
export const CARD_H = 150;
export const GAP = 24;
/** Room above a group's cards for its label. */
export const GROUP_HEAD = 56;
export const GROUP_GAP = 160;
export const GROUP_PAD = 24;

export interface Placed extends Rect {
  key: string;
  app: AppId;
  /** Position in the Tab order (groups in order, then row by row). */
  index: number;
}

export interface GroupBox extends Rect {
  app: AppId;
  label: string;
  count: number;
}

export interface Layout {
  placed: Placed[];
  byKey: Map<string, Placed>;
  groups: GroupBox[];
  bounds: Rect;
}

/** Columns of a group of n cards: a roughly square block. */
export const columnsFor = (n: number): number => Math.max(1, Math.ceil(Math.sqrt((n * (CARD_H + GAP)) / (CARD_W + GAP))));

export function layout(views: readonly ObjectView[]): Layout {
  const placed: Placed[] = [];
  const byKey = new Map<string, Placed>();
  const groups: GroupBox[] = [];
  let x = 0;
  let bottom = 0;
  for (const app of APPS) {
    const members = views.filter((v) => v.app === app.id);
    if (members.length === 0) continue;
    const cols = columnsFor(members.length);
    const rows = Math.ceil(members.length / cols);
    const w = GROUP_PAD * 2 + cols * CARD_W + (cols - 1) * GAP;
    const h = GROUP_HEAD + GROUP_PAD + rows * CARD_H + (rows - 1) * GAP;
    groups.push({ app: app.id, label: app.label, count: members.length, x, y: 0, w, h });
    members.forEach((v, i) => {
      const p: Placed = {
        key: v.key,
        app: app.id,
        index: placed.length,
        x: x + GROUP_PAD + (i % cols) * (CARD_W + GAP),
        y: GROUP_HEAD + Math.floor(i / cols) * (CARD_H + GAP),
        w: CARD_W,
        h: CARD_H,
      };
      placed.push(p);
      byKey.set(v.key, p);
    });
    x += w + GROUP_GAP;
    bottom = Math.max(bottom, h);
  }
  const bounds = groups.length === 0 ? { x: 0, y: 0, w: CARD_W, h: CARD_H } : { x: 0, y: 0, w: x - GROUP_GAP, h: bottom };
  return { placed, byKey, groups, bounds };
}

/** The placed rectangles that meet `area`, in Tab order. */
export const within = (l: Layout, area: Rect): Placed[] =>
  l.placed.filter((p) => p.x < area.x + area.w && area.x < p.x + p.w && p.y < area.y + area.h && area.y < p.y + p.h);
