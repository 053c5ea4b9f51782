// Chain resolution, a pure function of the SET of a chain's STUs: which are applied and in what order, which
// are held for a missing predecessor, which lose a collision. Delivery order cannot change its answer.
import { type Hlc, type Stu, stuId } from '../stu/index.ts';
import { compareKey } from './order.ts';
import type { Policy, RejectCode } from './types.ts';

export interface Verdict {
  code: RejectCode;
  reason: string;
}

export interface Fork {
  prevTs: Hlc;
  ids: string[];
  winner: string | undefined;
}

export interface Resolution {
  /** The STUs to apply, in order. */
  order: Stu[];
  rejected: Map<string, Verdict>;
  held: Stu[];
  /** Missing timestamp -> number of STUs held for it. */
  gaps: Map<Hlc, number>;
  forks: Fork[];
}

export const emptyResolution = (): Resolution => ({ order: [], rejected: new Map(), held: [], gaps: new Map(), forks: [] });

/**
 * `nodes`: the chain's STUs after its base (the summary it starts from), in any order; `baseTs`: the base's
 * timestamp, 0n without one. An STU is connected when its prevTs is at or before the base, or when a connected
 * STU has ts === its prevTs; otherwise it is held. Since prevTs < ts, key order is a topological order.
 */
export function resolveChain(nodes: readonly Stu[], policy: Policy, baseTs: Hlc): Resolution {
  const sorted = [...nodes].sort((a, b) => compareKey(a.header, b.header));
  const connectedTs = new Set<Hlc>();
  const connected: Stu[] = [];
  const held: Stu[] = [];
  for (const s of sorted) {
    if (s.header.prevTs <= baseTs || connectedTs.has(s.header.prevTs)) {
      connected.push(s);
      connectedTs.add(s.header.ts);
    } else {
      held.push(s);
    }
  }
  const byPrev = new Map<Hlc, Stu[]>();
  for (const s of connected) {
    const kids = byPrev.get(s.header.prevTs);
    if (kids) kids.push(s);
    else byPrev.set(s.header.prevTs, [s]);
  }
  const res: Resolution = { order: [], rejected: new Map(), held, gaps: findGaps(held), forks: [] };
  if (policy === 'merge') {
    res.order = connected;
    for (const [prevTs, kids] of byPrev) {
      if (kids.length > 1) res.forks.push({ prevTs, ids: kids.map((k) => stuId(k.header)), winner: undefined });
    }
  } else {
    firstWins(res, byPrev, connected, baseTs);
  }
  res.forks.sort((a, b) => (a.prevTs < b.prevTs ? -1 : a.prevTs > b.prevTs ? 1 : 0));
  return res;
}

/** Follow the first child from the base to the tip; every other connected STU is rejected. */
function firstWins(res: Resolution, byPrev: Map<Hlc, Stu[]>, connected: Stu[], baseTs: Hlc): void {
  const onPath = new Set<Stu>();
  for (let cur = baseTs, kids = byPrev.get(cur); kids; kids = byPrev.get(cur)) {
    const winner = kids[0];
    const winnerId = stuId(winner.header);
    res.order.push(winner);
    onPath.add(winner);
    if (kids.length > 1) {
      res.forks.push({ prevTs: cur, ids: kids.map((k) => stuId(k.header)), winner: winnerId });
      for (const k of kids.slice(1)) {
        res.rejected.set(stuId(k.header), { code: 'collision', reason: `lost to ${winnerId} after ${cur}` });
      }
    }
    cur = winner.header.ts;
  }
  const firstAt = new Map<Hlc, string>();
  for (const s of connected) if (!firstAt.has(s.header.ts)) firstAt.set(s.header.ts, stuId(s.header));
  for (const s of connected) {
    const id = stuId(s.header);
    if (onPath.has(s) || res.rejected.has(id)) continue;
    res.rejected.set(
      id,
      s.header.prevTs < baseTs
        ? { code: 'stale', reason: `written after ${s.header.prevTs}, which the summary at ${baseTs} replaced` }
        : { code: 'branch', reason: `descends from rejected ${firstAt.get(s.header.prevTs)}` },
    );
  }
}

/** For each held STU, walk up through held ancestors to the timestamp nobody has. */
function findGaps(held: Stu[]): Map<Hlc, number> {
  const gaps = new Map<Hlc, number>();
  if (held.length === 0) return gaps;
  const heldAt = new Map<Hlc, Stu>();
  for (const s of held) if (!heldAt.has(s.header.ts)) heldAt.set(s.header.ts, s);
  const missing = new Map<Hlc, Hlc>(); // ts of a held STU -> the missing timestamp under it
  for (const s of held) {
    // `held` is in key order, so a held parent (smaller ts) is already in `missing`.
    const t = s.header.prevTs;
    const m = heldAt.has(t) ? (missing.get(t) as Hlc) : t;
    if (!missing.has(s.header.ts)) missing.set(s.header.ts, m);
    gaps.set(m, (gaps.get(m) ?? 0) + 1);
  }
  return gaps;
}
