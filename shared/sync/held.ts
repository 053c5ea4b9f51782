// What a server holds, by STU id (origin, type, seq): where each STU sits in the ring, and for each
// (type, origin) the sync vector's number, the highest sequence below which every STU is held.
// Metadata STUs count towards the vector; data STUs are indexed (for GetSTU by id range) but never
// counted, since they move on request only and the ring evicts them freely.
import type { Loc } from '../ring/types.ts';
import { type Guid, isData, type StuHeader } from '../stu/index.ts';

export interface VectorEntry {
  type: number;
  origin: Guid;
  /** Every STU of this type from this origin with seq ≤ upTo is held (or was, and was superseded). */
  upTo: number;
}

interface Lane {
  type: number;
  origin: Guid;
  data: boolean;
  /** Contiguous prefix held (metadata lanes only). */
  upTo: number;
  /** Held sequences above upTo + 1 (metadata lanes only): the holes below them are gaps. */
  above: Set<number>;
  locs: Map<number, Loc>;
}

const laneKey = (type: number, origin: Guid, data: boolean): string => `${data ? 'd' : 'm'}${type}:${origin}`;

export class HeldIndex {
  private readonly lanes = new Map<string, Lane>();
  private readonly byRec = { meta: new Map<number, [Lane, number]>(), data: new Map<number, [Lane, number]>() };

  /** Records an STU; false if this id is already held (a duplicate). */
  add(h: Pick<StuHeader, 'type' | 'origin' | 'seq' | 'flags'>, loc?: Loc): boolean {
    const lane = this.lane(h.type, h.origin, isData(h as StuHeader));
    if (this.laneHas(lane, h.seq)) return false;
    if (!lane.data) {
      if (h.seq === lane.upTo + 1) {
        lane.upTo++;
        while (lane.above.delete(lane.upTo + 1)) lane.upTo++;
      } else lane.above.add(h.seq);
    }
    if (loc) {
      lane.locs.set(h.seq, loc);
      this.byRec[loc.section].set(loc.recSeq, [lane, h.seq]);
    }
    return true;
  }

  /** Marks every metadata STU of (type, origin) up to `upTo` held (what a peer's vector says it holds). */
  raise(type: number, origin: Guid, upTo: number): void {
    const lane = this.lane(type, origin, false);
    if (upTo <= lane.upTo) return;
    lane.upTo = upTo;
    for (const s of lane.above) if (s <= upTo) lane.above.delete(s);
    while (lane.above.delete(lane.upTo + 1)) lane.upTo++;
  }

  /** Forgets where an evicted record was. A metadata STU stays counted as held: it was superseded. */
  evicted(loc: Loc): void {
    const hit = this.byRec[loc.section].get(loc.recSeq);
    if (!hit) return;
    this.byRec[loc.section].delete(loc.recSeq);
    const [lane, seq] = hit;
    lane.locs.delete(seq);
    if (lane.data && lane.locs.size === 0) this.lanes.delete(laneKey(lane.type, lane.origin, true));
  }

  has(h: Pick<StuHeader, 'type' | 'origin' | 'seq' | 'flags'>): boolean {
    const lane = this.lanes.get(laneKey(h.type, h.origin, isData(h as StuHeader)));
    return lane !== undefined && this.laneHas(lane, h.seq);
  }

  /** The id of the metadata STU recorded at `loc`, if any. */
  metaIdAt(loc: Loc): { type: number; origin: Guid; seq: number; flags: number } | undefined {
    const hit = this.byRec[loc.section].get(loc.recSeq);
    return hit && !hit[0].data ? { type: hit[0].type, origin: hit[0].origin, seq: hit[1], flags: 0 } : undefined;
  }

  loc(type: number, origin: Guid, seq: number, data: boolean): Loc | undefined {
    return this.lanes.get(laneKey(type, origin, data))?.locs.get(seq);
  }

  /** The sync vector: one entry per (type, origin) of metadata held. */
  vector(): VectorEntry[] {
    const out: VectorEntry[] = [];
    for (const l of this.lanes.values()) if (!l.data) out.push({ type: l.type, origin: l.origin, upTo: l.upTo });
    return out;
  }

  /** Metadata held here that a peer with vector `theirs` lacks, as ring locations, oldest sequence first per lane. */
  missingFrom(theirs: Iterable<VectorEntry>): Loc[] {
    const upTo = new Map<string, number>();
    for (const e of theirs) upTo.set(laneKey(e.type, e.origin, false), e.upTo);
    const out: Loc[] = [];
    for (const [key, l] of this.lanes) {
      if (l.data) continue;
      const after = upTo.get(key) ?? 0;
      const seqs = [...l.locs.keys()].filter((s) => s > after).sort((a, b) => a - b);
      for (const s of seqs) out.push(l.locs.get(s)!);
    }
    return out;
  }

  /** Metadata gaps: for each lane with STUs held above a hole, the first missing range. */
  gaps(): { type: number; origin: Guid; from: number; to: number }[] {
    const out: { type: number; origin: Guid; from: number; to: number }[] = [];
    for (const l of this.lanes.values()) {
      if (l.data || l.above.size === 0) continue;
      let next = Infinity;
      for (const s of l.above) if (s < next) next = s;
      out.push({ type: l.type, origin: l.origin, from: l.upTo + 1, to: next - 1 });
    }
    return out;
  }

  /** Locations of held STUs with from ≤ seq ≤ to, ascending. */
  range(type: number, origin: Guid, from: number, to: number, data: boolean): { seq: number; loc: Loc }[] {
    const lane = this.lanes.get(laneKey(type, origin, data));
    if (!lane) return [];
    const out: { seq: number; loc: Loc }[] = [];
    if (to - from < lane.locs.size) {
      for (let s = from; s <= to; s++) {
        const loc = lane.locs.get(s);
        if (loc) out.push({ seq: s, loc });
      }
    } else {
      for (const [seq, loc] of lane.locs) if (seq >= from && seq <= to) out.push({ seq, loc });
      out.sort((a, b) => a.seq - b.seq);
    }
    return out;
  }

  /** Data lanes held: (type, origin, lowest and highest seq, count), for operators and GetSTU by range. */
  dataLanes(): { type: number; origin: Guid; from: number; to: number; count: number }[] {
    const out: { type: number; origin: Guid; from: number; to: number; count: number }[] = [];
    for (const l of this.lanes.values()) {
      if (!l.data || l.locs.size === 0) continue;
      let lo = Infinity;
      let hi = 0;
      for (const s of l.locs.keys()) {
        if (s < lo) lo = s;
        if (s > hi) hi = s;
      }
      out.push({ type: l.type, origin: l.origin, from: lo, to: hi, count: l.locs.size });
    }
    return out;
  }

  private lane(type: number, origin: Guid, data: boolean): Lane {
    const key = laneKey(type, origin, data);
    let l = this.lanes.get(key);
    if (!l) this.lanes.set(key, (l = { type, origin, data, upTo: 0, above: new Set(), locs: new Map() }));
    return l;
  }

  private laneHas(l: Lane, seq: number): boolean {
    return l.data ? l.locs.has(seq) : seq <= l.upTo || l.above.has(seq);
  }
}

/** Count of metadata STUs `mine` holds that `theirs` lacks (by vector only: how far behind a peer is). */
export function behindBy(mine: readonly VectorEntry[], theirs: readonly VectorEntry[]): number {
  const t = new Map(theirs.map((e) => [`${e.type}:${e.origin}`, e.upTo]));
  let n = 0;
  for (const e of mine) n += Math.max(0, e.upTo - (t.get(`${e.type}:${e.origin}`) ?? 0));
  return n;
}
