import { describe, expect, it } from 'vitest';
import { crc32c, Flag, type Stu, stuId } from '../../../shared/stu/index.ts';
import { ENVELOPE_SIZE, SnapshotError, StateEngine } from '../../../shared/state/index.ts';
import { COUNTER, counterApp, KV, kvApp, LOG, logApp, mk, OBJ, OBJ2, ORIGINS, observe } from './helpers.ts';

const id = (s: Stu): string => stuId(s.header);

// One of everything: a summarized counter with a tombstone after, a kv object with a collision and a gap,
// a long log chain, a conflict, an invalid STU.
const INPUT: Stu[] = [
  mk({ ts: 10, seq: 1, body: { add: 1 } }),
  mk({ ts: 20, prev: 10, seq: 2, body: { add: 2 } }),
  mk({ ts: 30, seq: 3, flags: Flag.SUMMARY, body: { value: 50 } }),
  mk({ ts: 40, prev: 30, seq: 4, body: 'garbage' }),
  mk({ ts: 50, prev: 40, seq: 5, flags: Flag.TOMBSTONE }),
  mk({ type: KV, object: OBJ2, ts: 11, seq: 6, body: { set: { a: '1' } } }),
  mk({ type: KV, object: OBJ2, ts: 21, prev: 11, seq: 7, body: { set: { b: '2' } } }),
  mk({ type: KV, object: OBJ2, ts: 22, prev: 11, seq: 1, origin: ORIGINS[1], body: { set: { c: '3' } } }),
  mk({ type: KV, object: OBJ2, ts: 90, prev: 80, seq: 8, body: { set: { d: '4' } } }),
  mk({ type: KV, object: OBJ2, ts: 12, seq: 6, body: { set: { z: 'conflict' } } }),
  ...Array.from({ length: 40 }, (_, i) => mk({ type: LOG, ts: 100 + i, prev: i === 0 ? 0 : 99 + i, seq: 100 + i })),
];
const RING = new Set(INPUT.map(id));

function engine(log = logApp('merge')): StateEngine {
  const e = new StateEngine();
  e.register(counterApp('first-wins'));
  e.register(kvApp());
  e.register(log);
  return e;
}

function full(e: StateEngine): unknown {
  return {
    ...(observe(e) as object),
    chains: [e.chainStatus(OBJ, COUNTER), e.chainStatus(OBJ2, KV), e.chainStatus(OBJ, LOG)],
    superseded: INPUT.map((s) => e.isSuperseded(id(s))),
  };
}

/** A snapshot envelope around any payload, with a correct checksum. */
function envelope(payload: string, version = 1): Uint8Array {
  const p = new TextEncoder().encode(payload);
  const out = new Uint8Array(ENVELOPE_SIZE + p.length);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode('STOC'));
  v.setUint16(4, version, true);
  v.setUint32(8, p.length, true);
  v.setUint32(12, crc32c(p), true);
  out.set(p, ENVELOPE_SIZE);
  return out;
}

function code(r: { ok: boolean; error?: SnapshotError }): string | undefined {
  expect(r.ok).toBe(false);
  expect(r.error).toBeInstanceOf(SnapshotError);
  return r.error?.code;
}

describe('object-cache snapshot', () => {
  const original = engine();
  original.ingestAll(INPUT);

  it('round-trips: the restored engine reports exactly what the original did', () => {
    const log = logApp('merge');
    const e = engine(log);
    const r = e.restore(original.snapshot(), RING);
    expect(r.ok && r.value).toEqual({ stus: 47, superseded: 2, reused: 3 });
    expect(full(e)).toEqual(full(original));
    expect(e.get(OBJ, LOG)?.state).toHaveLength(40);
    expect(log.calls).toBe(1); // the log came back from its cached state, not from 40 applies
    expect(typeof e.get(OBJ2, KV)?.ts).toBe('bigint');
    expect(e.get(OBJ2, KV)?.ts).toBe(21n);
    expect(e.listDeleted().map((o) => o.ts)).toEqual([50n]);
  });

  it('keeps the chains: after a restore, late STUs resolve as they would have', () => {
    const e = engine();
    expect(e.restore(original.snapshot(), RING).ok).toBe(true);
    const later = [
      mk({ type: KV, object: OBJ2, ts: 15, prev: 11, seq: 9, origin: ORIGINS[2], body: { set: { early: 'wins' } } }),
      mk({ type: KV, object: OBJ2, ts: 80, prev: 15, seq: 10, origin: ORIGINS[2], body: { set: { gap: 'filled' } } }),
    ];
    const twin = engine();
    twin.ingestAll(INPUT);
    twin.ingestAll(later);
    e.ingestAll(later);
    expect(full(e)).toEqual(full(twin));
    expect(e.get(OBJ2, KV)?.state).toEqual({ a: '1', early: 'wins', gap: 'filled', d: '4' });
  });

  it('is accepted when the ring has already evicted superseded STUs', () => {
    const ring = [...RING].filter((x) => !original.isSuperseded(x));
    expect(ring.length).toBe(RING.size - 2);
    expect(engine().restore(original.snapshot(), ring).ok).toBe(true);
  });

  it('without summarize(), objects are folded again from their STUs', () => {
    const log = logApp('merge');
    const noSummary = { ...log, summarize: undefined, apply: log.apply };
    const a = new StateEngine();
    a.register(noSummary);
    const logs = INPUT.filter((s) => s.header.type === LOG);
    a.ingestAll(logs);
    const b = new StateEngine();
    b.register(noSummary);
    const before = log.calls;
    const r = b.restore(a.snapshot(), logs.map(id));
    expect(r.ok && r.value.reused).toBe(0);
    expect(log.calls - before).toBe(40);
    expect(b.list()).toEqual(a.list());
  });

  it('is refused when the ring lacks an STU the snapshot holds, or holds one the snapshot does not know', () => {
    const snap = original.snapshot();
    const lacking = [...RING].filter((x) => x !== id(INPUT[1 + 4]));
    const e = engine();
    expect(code(e.restore(snap, lacking))).toBe('RING_MISMATCH');
    expect(code(e.restore(snap, [...RING, `${ORIGINS[2]}/77`]))).toBe('RING_MISMATCH');
    // Nothing was loaded: the caller rebuilds from the ring.
    expect(e.list()).toEqual([]);
    e.ingestAll(INPUT);
    expect(full(e)).toEqual(full(original));
  });

  it('refuses corrupt, truncated, foreign and other-version bytes with typed errors', () => {
    const snap = original.snapshot();
    const flipped = snap.slice();
    flipped[ENVELOPE_SIZE + 40] ^= 0x20;
    expect(code(engine().restore(flipped, RING))).toBe('BAD_CHECKSUM');
    expect(code(engine().restore(snap.subarray(0, snap.length - 1), RING))).toBe('TRUNCATED');
    expect(code(engine().restore(snap.subarray(0, 10), RING))).toBe('TRUNCATED');
    const foreign = snap.slice();
    foreign[0] = 0x58;
    expect(code(engine().restore(foreign, RING))).toBe('BAD_MAGIC');
    const old = snap.slice();
    new DataView(old.buffer).setUint16(4, 0, true);
    expect(code(engine().restore(old, RING))).toBe('BAD_VERSION');
    expect(code(engine().restore(envelope('{"stus":'), RING))).toBe('BAD_FORMAT');
    expect(code(engine().restore(envelope('{"stus":["AAAA"],"superseded":[],"conflicts":[],"chains":[]}'), RING))).toBe('BAD_FORMAT');
    expect(code(engine().restore(envelope('{"stus":[],"superseded":[[1,2]],"conflicts":[],"chains":[]}'), RING))).toBe('BAD_FORMAT');
    expect(engine().restore(envelope('{"stus":[],"superseded":[],"conflicts":[],"chains":[]}'), []).ok).toBe(true);
  });

  it('refuses to restore into an engine that already holds STUs', () => {
    const e = engine();
    e.ingest(INPUT[0]);
    expect(code(e.restore(original.snapshot(), RING))).toBe('NOT_EMPTY');
  });
});
