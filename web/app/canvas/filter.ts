// Which rectangles the canvas shows: the applications switched on, and a text that must appear in the
// title, the kind, the GUID or the glance (every word of it, in any case).
import { type AppId, APPS, type ObjectView } from '../core/describe.ts';

export interface Filter {
  apps: ReadonlySet<AppId>;
  text: string;
}

export const ALL_APPS: ReadonlySet<AppId> = new Set(APPS.map((a) => a.id));

export const noFilter = (): Filter => ({ apps: ALL_APPS, text: '' });

export function matches(v: ObjectView, f: Filter): boolean {
  if (!f.apps.has(v.app)) return false;
  const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${v.title} ${v.kind} ${v.id} ${v.glance.join(' ')} ${v.channel?.name ?? ''}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

export const isFiltered = (f: Filter): boolean => f.text.trim() !== '' || f.apps.size !== ALL_APPS.size;
