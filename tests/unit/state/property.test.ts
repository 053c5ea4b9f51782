// Delivery order must not matter: random chains (forks, gaps, summaries, tombstones, unreadable bodies)
// delivered as random permutations with duplicates, one by one or in batches, give the same engine.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Flag, type Stu, stuId } from '../../../shared/stu/index.ts';
import { compareKey, type Policy, StateEngine } from '../../../shared/state/index.ts';
import { COUNTER, counterApp, LOG, logApp, mk, OBJ, OBJ2, ORIGINS, observe } from './helpers.ts';

type Kind = 'change' | 'summary' | 'tombstone' | 'bad';

const nodeArb = fc.record({
  parent: fc.nat(),
  origin: fc.nat(2),
  object: fc.nat(4), // mostly OBJ, sometimes OBJ2
  kind: fc.constantFrom<Kind>('change', 'change', 'change', 'change', 'summary', 'tombstone', 'bad'),
  sameTs: fc.nat(4), // 0: same timestamp as the node before it
  missing: fc.nat(7), // 0: never delivered, a gap
  add: fc.integer({ min: -5, max: 5 }),
});

/** Builds valid STUs from the random shapes: ts increasing (sometimes equal), prevTs of an earlier node or 0. */
type Shape = { parent: number; origin: number; object: number; kind: Kind; sameTs: number; missing: number; add: number };

/** An engine with the application for `type`: the log (order-sensitive) or the counter. */
function engineFor(type: number, policy: Policy): StateEngine {
  const e = new StateEngine();
  if (type === LOG) e.register(logApp(policy));
  else e.register(counterApp(policy));
  return e;
}

function build(shapes: Shape[], type: number): Stu[] {
  const seqs = [0, 0, 0];
  const ts: number[] = [];
  const out: Stu[] = [];
  shapes.forEach((s, i) => {
    ts[i] = i === 0 ? 10 : s.sameTs === 0 ? ts[i - 1] : ts[i - 1] + 10;
    const p = s.parent % (i + 1);
    const prev = p === i || ts[p] >= ts[i] ? 0 : ts[p];
    const body =
      s.kind === 'bad'
        ? 'unreadable'
        : s.kind === 'summary'
          ? type === LOG
            ? [`summary-${i}`]
            : { value: s.add * 100 }
          : { add: s.add };
    const flags = s.kind === 'summary' ? Flag.SUMMARY : s.kind === 'tombstone' ? Flag.TOMBSTONE : 0;
    const stu = mk({ type, object: s.object === 0 ? OBJ2 : OBJ, ts: ts[i], prev, origin: ORIGINS[s.origin], seq: ++seqs[s.origin], flags, body });
    if (s.missing !== 0) out.push(stu);
  });
  return out;
}

const deliveryArb = (n: number) =>
  fc.record({
    order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    dups: fc.array(fc.tuple(fc.nat(Math.max(0, n - 1)), fc.nat()), { maxLength: 4 }),
    batch: fc.integer({ min: 1, max: 5 }),
  });

function deliver(stus: Stu[], d: { order: number[]; dups: [number, number][]; batch: number }, make: () => StateEngine): StateEngine {
  const seq = d.order.map((i) => stus[i]);
  for (const [i, at] of d.dups) if (stus.length > 0) seq.splice(at % (seq.length + 1), 0, stus[i]);
  const e = make();
  for (let i = 0; i < seq.length; i += d.batch) e.ingestAll(seq.slice(i, i + d.batch));
  return e;
}

function report(e: StateEngine, stus: Stu[], type: number): unknown {
  return {
    ...(observe(e) as object),
    chains: [e.chainStatus(OBJ, type), e.chainStatus(OBJ2, type)],
    superseded: stus.map((s) => e.isSuperseded(stuId(s.header))),
  };
}

const scenario = fc
  .tuple(fc.array(nodeArb, { minLength: 1, maxLength: 14 }), fc.constantFrom<Policy>('first-wins', 'merge'), fc.constantFrom(LOG, COUNTER))
  .chain(([shapes, policy, type]) => {
    const stus = build(shapes, type);
    return fc.tuple(fc.constant({ stus, policy, type }), fc.array(deliveryArb(stus.length), { minLength: 2, maxLength: 4 }));
  });

describe('delivery order does not matter', () => {
  it('every permutation, with duplicates, gives the same objects, gaps, collisions and verdicts', () => {
    fc.assert(
      fc.property(scenario, ([{ stus, policy, type }, deliveries]) => {
        const make = () => engineFor(type, policy);
        const sorted = [...stus].sort((a, b) => compareKey(a.header, b.header));
        const reference = make();
        reference.ingestAll(sorted);
        const expected = report(reference, stus, type);
        for (const d of deliveries) expect(report(deliver(stus, d, make), stus, type)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot taken half way, restored, then fed the rest, ends where an engine that never stopped does', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ([{ stus, policy, type }, [d]], cut) => {
        const make = () => engineFor(type, policy);
        const seq = d.order.map((i) => stus[i]);
        const at = cut % (seq.length + 1);
        const before = make();
        before.ingestAll(seq.slice(0, at));
        const after = make();
        const r = after.restore(before.snapshot(), seq.slice(0, at).map((s) => stuId(s.header)));
        expect(r.ok).toBe(true);
        expect(report(after, stus, type)).toEqual(report(before, stus, type));
        after.ingestAll(seq.slice(at));
        const reference = make();
        reference.ingestAll(seq);
        expect(report(after, stus, type)).toEqual(report(reference, stus, type));
      }),
      { numRuns: 200 },
    );
  });

  it('merge applies every STU of a connected chain: the counter is the sum of all changes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: -9, max: 9 }), fc.nat(2)), { minLength: 1, maxLength: 20 }), (spec) => {
        const stus = spec.map(([parent, add, origin], i) => {
          const prev = i === 0 ? 0 : 10 * (1 + (parent % i));
          return mk({ ts: 10 * (i + 1), prev, seq: i + 1, origin: ORIGINS[origin], body: { add } });
        });
        const e = new StateEngine();
        e.register(counterApp('merge'));
        e.ingestAll([...stus].reverse());
        const sum = spec.reduce((s, [, add]) => s + add, 0);
        expect(e.get(OBJ)?.state).toEqual({ value: sum });
        expect(e.rejected()).toEqual([]);
      }),
    );
  });

  it('first-wins applies exactly the path of first children from the root', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(2)), { minLength: 1, maxLength: 20 }), (spec) => {
        const stus = spec.map(([parent, origin], i) => {
          const prev = i === 0 ? 0 : (parent % (i + 1)) * 10; // 0 (a root child) or an earlier STU's ts
          return mk({ type: LOG, ts: 10 * (i + 1), prev, seq: i + 1, origin: ORIGINS[origin] });
        });
        // The oracle: from ts 0, take the child with the smallest ts (all ts differ here).
        const path: string[] = [];
        for (let at = 0n; ; ) {
          const next = stus.filter((s) => s.header.prevTs === at).sort((a, b) => Number(a.header.ts - b.header.ts))[0];
          if (!next) break;
          path.push(stuId(next.header));
          at = next.header.ts;
        }
        const e = new StateEngine();
        e.register(logApp('first-wins'));
        e.ingestAll([...stus].reverse());
        expect(e.get(OBJ, LOG)?.state).toEqual(path);
        expect(e.rejected()).toHaveLength(stus.length - path.length);
      }),
    );
  });
});
