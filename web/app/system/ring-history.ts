// A ring's stats over time (GET /api/health's `ring`, or the browser's own ring), kept for the plots: a
// bounded list of samples, and the evictions per second between successive ones.
import type { SectionStats } from '../../../shared/ring/types.ts';

export type Sections = Record<'meta' | 'data', SectionStats>;

export interface RingSample {
  /** performance.now() */
  at: number;
  ring: Sections;
}

export const HISTORY = 120;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null;

function section(v: unknown): SectionStats | undefined {
  if (!isRec(v)) return undefined;
  const n = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : 0);
  return { capacity: n('capacity'), used: n('used'), records: n('records'), evicted: n('evicted'), appended: n('appended'), headRecSeq: n('headRecSeq'), tailRecSeq: n('tailRecSeq') };
}

/** The ring stats of a /api/health answer; undefined when it has none. */
export function ringOf(health: unknown): Sections | undefined {
  if (!isRec(health) || !isRec(health.ring)) return undefined;
  const meta = section(health.ring.meta);
  const data = section(health.ring.data);
  return meta && data ? { meta, data } : undefined;
}

/** Appends a sample, dropping the oldest past HISTORY; returns a new array (components compare by identity). */
export const pushSample = (h: readonly RingSample[], s: RingSample): RingSample[] => [...h.slice(Math.max(0, h.length - HISTORY + 1)), s];

/** Evictions per second between successive samples of one section (one value fewer than samples). */
export function evictionRates(h: readonly RingSample[], s: keyof Sections): number[] {
  const out: number[] = [];
  for (let i = 1; i < h.length; i++) {
    const dt = (h[i].at - h[i - 1].at) / 1000;
    const d = h[i].ring[s].evicted - h[i - 1].ring[s].evicted;
    out.push(dt > 0 && d > 0 ? d / dt : 0);
  }
  return out;
}
