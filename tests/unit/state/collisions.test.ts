import { describe, expect, it } from 'vitest';
import { Flag, type Stu, stuId } from '../../../shared/stu/index.ts';
import { type ChangeEvent, type Policy, StateEngine } from '../../../shared/state/index.ts';
import { LOG, logApp, mk, OBJ, ORIGINS, observe } from './helpers.ts';

// A forks at 10 into B (ts 20) and C (ts 25); D follows C.
const A = mk({ type: LOG, ts: 10, seq: 1 });
const B = mk({ type: LOG, ts: 20, prev: 10, seq: 2, origin: ORIGINS[1] });
const C = mk({ type: LOG, ts: 25, prev: 10, seq: 2 });
const D = mk({ type: LOG, ts: 30, prev: 25, seq: 3 });
const id = (s: Stu): string => stuId(s.header);

function replica(policy: Policy, stus: Stu[]): StateEngine {
  const e = new StateEngine();
  e.register(logApp(policy));
  for (const s of stus) e.ingest(s);
  return e;
}

describe('collisions', () => {
  it('first-wins: the first child by (ts, origin, seq) wins, its siblings and their descendants are rejected', () => {
    const e = replica('first-wins', [A, B, C, D]);
    expect(e.get(OBJ)?.state).toEqual([id(A), id(B)]);
    expect(e.collisions()).toEqual([{ object: OBJ, type: LOG, policy: 'first-wins', prevTs: 10n, ids: [id(B), id(C)], winner: id(B) }]);
    expect(e.rejected().map((r) => [r.id, r.code])).toEqual([
      [id(C), 'collision'],
      [id(D), 'branch'],
    ]);
  });

  it('first-wins: a late STU that sorts earlier recomputes the object from the fork', () => {
    const e = replica('first-wins', [A, C, D]);
    expect(e.get(OBJ)?.state).toEqual([id(A), id(C), id(D)]);
    const events: ChangeEvent[] = [];
    e.onChange((ev) => events.push(ev));
    expect(e.ingest(B).status).toBe('applied');
    expect(e.get(OBJ)?.state).toEqual([id(A), id(B)]);
    expect(e.get(OBJ)?.ts).toBe(20n);
    expect(events.map((ev) => ev.kind)).toEqual(['updated']);
  });

  it('first-wins: children are found by timestamp, so an STU with the timestamp of a loser adopts its children', () => {
    const X = mk({ type: LOG, ts: 25, prev: 20, seq: 1, origin: ORIGINS[2] });
    const e = replica('first-wins', [A, B, C, D]);
    e.ingest(X);
    expect(e.get(OBJ)?.state).toEqual([id(A), id(B), id(X), id(D)]);
    expect(observe(e)).toEqual(observe(replica('first-wins', [X, D, C, B, A])));
  });

  it('merge: every branch is applied in (ts, origin, seq) order and the collision is reported', () => {
    const e = replica('merge', [D, C, B, A]);
    expect(e.get(OBJ)?.state).toEqual([id(A), id(B), id(C), id(D)]);
    expect(e.collisions()).toEqual([{ object: OBJ, type: LOG, policy: 'merge', prevTs: 10n, ids: [id(B), id(C)], winner: undefined }]);
    expect(e.rejected()).toEqual([]);
  });

  it.each<Policy>(['first-wins', 'merge'])('%s: every replica reaches the same state and verdict', (policy) => {
    const orders = [
      [A, B, C, D],
      [D, C, B, A],
      [C, A, D, B, C],
      [B, D, A, C, A],
    ];
    const seen = orders.map((o) => observe(replica(policy, o)));
    for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
    expect((seen[0] as { collisions: unknown[] }).collisions).toHaveLength(1);
  });

  it('first-wins: a tombstone on the losing branch does not delete the object', () => {
    const T = mk({ type: LOG, ts: 25, prev: 10, seq: 2, flags: Flag.TOMBSTONE });
    const e = replica('first-wins', [A, T, B]);
    expect(e.get(OBJ)?.deleted).toBe(false);
    expect(e.list()).toHaveLength(1);
    expect(e.rejected()[0]).toMatchObject({ id: id(T), code: 'collision' });
  });

  it('after a summary: first-wins rejects an STU written against replaced history, merge applies it', () => {
    const S = mk({ type: LOG, ts: 40, seq: 4, flags: Flag.SUMMARY, body: [id(A), id(B)] });
    const X = mk({ type: LOG, ts: 50, prev: 20, seq: 1, origin: ORIGINS[2] });
    const Y = mk({ type: LOG, ts: 45, prev: 40, seq: 5 });
    const fw = replica('first-wins', [A, B, S, X, Y]);
    expect(fw.get(OBJ)?.state).toEqual([id(A), id(B), id(Y)]);
    expect(fw.rejected().map((r) => [r.id, r.code])).toEqual([[id(X), 'stale']]);
    const mg = replica('merge', [X, Y, S, B, A]);
    expect(mg.get(OBJ)?.state).toEqual([id(A), id(B), id(Y), id(X)]);
    expect(mg.gaps()).toEqual([]);
  });
});
