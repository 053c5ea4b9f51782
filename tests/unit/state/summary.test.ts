import { describe, expect, it } from 'vitest';
import { decodeStu, Flag, Origin, type Stu, stuId } from '../../../shared/stu/index.ts';
import { type ChangeEvent, StateEngine } from '../../../shared/state/index.ts';
import { COUNTER, counterApp, mk, OBJ, ORIGINS, USERS } from './helpers.ts';

const id = (s: Stu): string => stuId(s.header);
const A = mk({ ts: 10, seq: 1, body: { add: 1 }, user: USERS[1] });
const B = mk({ ts: 20, prev: 10, seq: 2, body: { add: 2 } });
const S = mk({ ts: 30, seq: 3, flags: Flag.SUMMARY, body: { value: 100 }, user: USERS[1] });
const C = mk({ ts: 40, prev: 30, seq: 4, body: { add: 5 } });

function engine(): StateEngine {
  const e = new StateEngine();
  e.register(counterApp('first-wins'));
  return e;
}

describe('summaries', () => {
  it('a summary replaces the STUs before it: the state comes from its body, the old STUs may be evicted', () => {
    const e = engine();
    e.ingestAll([A, B, S, C]);
    expect(e.get(OBJ)).toMatchObject({ state: { value: 105 }, ts: 40n, owner: USERS[1] });
    expect(e.chainStatus(OBJ, COUNTER)).toMatchObject({ base: id(S), applied: [id(S), id(C)] });
    expect(e.isSuperseded(id(A))).toBe(true);
    expect(e.isSuperseded(id(B))).toBe(true);
    expect(e.isSuperseded(id(S))).toBe(false);
    expect(e.isSuperseded(id(C))).toBe(false);
    expect(e.isSuperseded('nobody/1')).toBe(false);
  });

  it('an STU that arrives after the summary that replaces it changes nothing', () => {
    const e = engine();
    e.ingestAll([S, C]);
    expect(e.ingest(B).status).toBe('superseded');
    expect(e.ingest(A).status).toBe('superseded');
    expect(e.get(OBJ)?.state).toEqual({ value: 105 });
    expect(e.gaps()).toEqual([]);
  });

  it('a summary closes the gaps before it', () => {
    const e = engine();
    const held = mk({ ts: 25, prev: 20, seq: 9, body: { add: 50 } });
    e.ingestAll([A, held]);
    expect(e.gaps()).toHaveLength(1);
    e.ingest(S);
    expect(e.gaps()).toEqual([]);
    expect(e.isSuperseded(id(held))).toBe(true);
    expect(e.get(OBJ)?.state).toEqual({ value: 100 });
  });

  it('the latest of several summaries is the base', () => {
    const e = engine();
    const S2 = mk({ ts: 50, seq: 5, flags: Flag.SUMMARY, body: { value: 7 } });
    e.ingestAll([S2, A, S, C]);
    expect(e.get(OBJ)?.state).toEqual({ value: 7 });
    expect(e.isSuperseded(id(S))).toBe(true);
    expect(e.isSuperseded(id(C))).toBe(true);
  });

  it('a summary its application cannot read is rejected and replaces nothing', () => {
    const e = engine();
    const bad = mk({ ts: 30, seq: 3, origin: ORIGINS[1], flags: Flag.SUMMARY, body: { nonsense: true } });
    expect(e.ingestAll([A, B, bad]).map((r) => r.status)).toEqual(['applied', 'applied', 'rejected']);
    expect(e.get(OBJ)?.state).toEqual({ value: 3 });
    expect(e.isSuperseded(id(A))).toBe(false);
    expect(e.rejected()).toMatchObject([{ id: id(bad), code: 'invalid', reason: 'summary: counter summary without a value' }]);
    // A valid later summary replaces the bad one too.
    e.ingest(mk({ ts: 60, seq: 6, flags: Flag.SUMMARY, body: { value: 1 } }));
    expect(e.rejected()).toEqual([]);
    expect(e.isSuperseded(id(bad))).toBe(true);
  });

  it('summaryFor() gives a summary that rebuilds the same object on any replica', () => {
    const e = engine();
    e.ingestAll([A, B]);
    const draft = e.summaryFor(OBJ, COUNTER)!;
    expect(draft.after).toBe(20n);
    const origin = new Origin(ORIGINS[2]);
    origin.clock.observe(draft.after);
    const r = decodeStu(origin.create(draft.init, draft.body));
    if (!r.ok) throw r.error;
    expect(r.value.header.ts).toBeGreaterThan(20n);
    expect(e.ingest(r.value).status).toBe('applied');
    expect(e.get(OBJ)).toMatchObject({ state: { value: 3 }, owner: USERS[1] });
    expect(e.isSuperseded(id(B))).toBe(true);
    const fresh = engine();
    fresh.ingest(r.value);
    expect(fresh.get(OBJ)).toEqual(e.get(OBJ));
  });

  it('summaryFor() refuses while STUs are held', () => {
    const e = engine();
    e.ingestAll([A, mk({ ts: 35, prev: 30, seq: 8, body: { add: 1 } })]);
    expect(e.summaryFor(OBJ, COUNTER)).toBeUndefined();
  });
});

describe('tombstones', () => {
  const T = mk({ ts: 30, prev: 20, seq: 3, flags: Flag.TOMBSTONE });
  const after = mk({ ts: 40, prev: 30, seq: 4, body: { add: 5 } });

  it('deletes the object from that point: listed as deleted, not returned by list()', () => {
    const e = engine();
    const events: ChangeEvent[] = [];
    e.onChange((ev) => events.push(ev));
    e.ingestAll([A, B]);
    e.ingest(T);
    expect(e.list()).toEqual([]);
    expect(e.listDeleted()).toMatchObject([{ id: OBJ, deleted: true, ts: 30n, state: { value: 3 } }]);
    expect(e.get(OBJ)?.deleted).toBe(true);
    expect(events.map((ev) => ev.kind)).toEqual(['created', 'deleted']);
    expect(e.ingest(after).status).toBe('rejected');
    expect(e.rejected()).toMatchObject([{ id: id(after), code: 'deleted' }]);
  });

  it('a deleted object summarizes to a tombstone summary that replaces its whole chain', () => {
    const e = engine();
    e.ingestAll([A, B, T, after]);
    const draft = e.summaryFor(OBJ, COUNTER)!;
    expect(draft.init.flags).toBe(Flag.SUMMARY | Flag.TOMBSTONE);
    const origin = new Origin(ORIGINS[2]);
    origin.clock.observe(draft.after);
    const r = decodeStu(origin.create(draft.init, draft.body));
    if (!r.ok) throw r.error;
    e.ingest(r.value);
    expect(e.isSuperseded(id(T))).toBe(true);
    expect(e.isSuperseded(id(after))).toBe(true);
    expect(e.listDeleted().map((o) => o.id)).toEqual([OBJ]);
    const fresh = engine();
    fresh.ingest(r.value);
    expect(fresh.list()).toEqual([]);
    expect(fresh.get(OBJ)).toMatchObject({ deleted: true, owner: USERS[1] });
  });
});
