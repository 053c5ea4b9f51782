import { describe, expect, it } from 'vitest';
import { Flag, stuId } from '../../../shared/stu/index.ts';
import { StateEngine } from '../../../shared/state/index.ts';
import { COUNTER, counterApp, KV, kvApp, mk, OBJ, OBJ2, ORIGINS, USERS } from './helpers.ts';

function engine(): StateEngine {
  const e = new StateEngine();
  e.register(counterApp('first-wins'));
  e.register(kvApp());
  return e;
}

describe('chains', () => {
  it('applies a chain in order and builds the object', () => {
    const e = engine();
    const a = mk({ ts: 10, seq: 1, body: { add: 2 }, user: USERS[1] });
    const b = mk({ ts: 20, prev: 10, seq: 2, body: { add: 3 }, user: USERS[0] });
    expect(e.ingest(a).status).toBe('applied');
    expect(e.ingest(b).status).toBe('applied');
    expect(e.get(OBJ)).toEqual({ id: OBJ, type: COUNTER, state: { value: 5 }, ts: 20n, owner: USERS[1], deleted: false });
    expect(e.list()).toHaveLength(1);
    expect(e.chainStatus(OBJ, COUNTER)).toMatchObject({ syncedTo: 20n, applied: [stuId(a.header), stuId(b.header)], held: [] });
  });

  it('keeps one object per (object, type) and get() picks the type asked for', () => {
    const e = engine();
    e.ingestAll([mk({ ts: 5, seq: 1, body: { add: 1 } }), mk({ ts: 6, seq: 2, type: KV, body: { set: { a: 'x' } } })]);
    e.ingest(mk({ ts: 7, seq: 3, object: OBJ2, body: { add: 9 } }));
    expect(e.get(OBJ, KV)?.state).toEqual({ a: 'x' });
    expect(e.get(OBJ)?.type).toBe(COUNTER);
    expect(e.list(COUNTER).map((o) => o.id)).toEqual([OBJ, OBJ2]);
    expect(e.list()).toHaveLength(3);
  });

  it('holds an STU whose predecessor is missing, reports the gap, and applies it when the gap fills', () => {
    const e = engine();
    const a = mk({ ts: 10, seq: 1, body: { add: 1 } });
    const b = mk({ ts: 20, prev: 10, seq: 2, body: { add: 10 } });
    const c = mk({ ts: 30, prev: 20, seq: 3, body: { add: 100 } });
    const d = mk({ ts: 40, prev: 30, seq: 4, body: { add: 1000 } });
    e.ingest(a);
    expect(e.ingest(c).status).toBe('held');
    expect(e.ingest(d).status).toBe('held');
    expect(e.get(OBJ)?.state).toEqual({ value: 1 });
    expect(e.gaps()).toEqual([{ object: OBJ, type: COUNTER, missingTs: 20n, heldCount: 2 }]);
    expect(e.chainStatus(OBJ, COUNTER)).toMatchObject({ syncedTo: 10n, held: [stuId(c.header), stuId(d.header)] });

    expect(e.ingest(b).status).toBe('applied');
    expect(e.gaps()).toEqual([]);
    expect(e.get(OBJ)?.state).toEqual({ value: 1111 });
    expect(e.get(OBJ)?.ts).toBe(40n);
    expect(e.chainStatus(OBJ, COUNTER)?.syncedTo).toBe(40n);
  });

  it('reports a chain whose first STU is missing: nothing is applied, no object exists', () => {
    const e = engine();
    e.ingest(mk({ ts: 20, prev: 10, seq: 2, body: { add: 1 } }));
    expect(e.get(OBJ)).toBeUndefined();
    expect(e.gaps()).toEqual([{ object: OBJ, type: COUNTER, missingTs: 10n, heldCount: 1 }]);
    expect(e.chainStatus(OBJ, COUNTER)?.syncedTo).toBe(0n);
  });

  it('ignores an STU delivered twice', () => {
    const e = engine();
    const a = mk({ ts: 10, seq: 1, body: { add: 4 } });
    e.ingest(a);
    expect(e.ingest(mk({ ts: 10, seq: 1, body: { add: 4 } })).status).toBe('duplicate');
    expect(e.get(OBJ)?.state).toEqual({ value: 4 });
    expect(e.conflicts()).toEqual([]);
  });

  it('reports a different STU with the same id as a conflict and keeps the same one whatever came first', () => {
    const x = mk({ ts: 10, seq: 1, body: { add: 4 } });
    const y = mk({ ts: 11, seq: 1, body: { add: 7 } });
    const e1 = engine();
    const e2 = engine();
    e1.ingestAll([x, y]);
    e2.ingestAll([y, x]);
    expect(e1.conflicts()).toHaveLength(1);
    expect(e1.conflicts()).toEqual(e2.conflicts());
    expect(e1.get(OBJ)).toEqual(e2.get(OBJ));
    expect(e1.conflicts()[0].id).toBe(stuId(x.header));
    expect(e1.get(OBJ)?.state).toEqual({ value: 4 }); // x's canonical form (ts 10) sorts first
    expect(e2.ingest(y).status).toBe('conflict');
    expect(e2.ingest(x).status).toBe('duplicate');
  });

  it('rejects an STU its application cannot read, with the reason, and keeps going', () => {
    const e = engine();
    const a = mk({ ts: 10, seq: 1, body: { add: 1 } });
    const bad = mk({ ts: 20, prev: 10, seq: 2, body: new Uint8Array([0xff, 0x00, 0x7b]) });
    const c = mk({ ts: 30, prev: 20, seq: 3, body: { add: 5 } });
    expect(e.ingestAll([a, bad, c]).map((r) => r.status)).toEqual(['applied', 'rejected', 'applied']);
    expect(e.get(OBJ)?.state).toEqual({ value: 6 });
    const [r] = e.rejected();
    expect(r).toMatchObject({ id: stuId(bad.header), code: 'invalid', ts: 20n });
    expect(r.reason).toMatch(/JSON/);
    expect(e.chainStatus(OBJ, COUNTER)?.applied).toEqual([stuId(a.header), stuId(c.header)]);
  });

  it('ignores data STUs and keeps types without an application pending until one registers', () => {
    const e = new StateEngine();
    expect(e.ingest(mk({ ts: 10, seq: 1, flags: Flag.DATA })).status).toBe('ignored');
    expect(e.ingest(mk({ ts: 11, seq: 2, body: { add: 3 } })).status).toBe('pending');
    expect(e.list()).toEqual([]);
    e.register(counterApp('merge'));
    expect(e.get(OBJ)?.state).toEqual({ value: 3 });
    expect(() => e.register(counterApp('merge'))).toThrow(TypeError);
  });

  it('orders collisions by origin when timestamps are equal', () => {
    const e = engine();
    e.ingestAll([
      mk({ ts: 10, seq: 1, origin: ORIGINS[1], body: { add: 1 } }),
      mk({ ts: 10, seq: 1, origin: ORIGINS[0], body: { add: 2 } }),
    ]);
    expect(e.get(OBJ)?.state).toEqual({ value: 2 });
    expect(e.collisions()[0].winner).toBe(stuId({ origin: ORIGINS[0], type: COUNTER, seq: 1 }));
  });
});
