import { describe, expect, it } from 'vitest';
import { decodeStu, HybridClock, hlcCounter, hlcFrom, hlcMs, newGuid, Origin } from '../../../shared/stu/index.ts';

describe('hybrid logical clock', () => {
  it('stays monotonic when the wall clock goes backwards or stands still', () => {
    let wall = 1000;
    const clock = new HybridClock(() => wall);
    const a = clock.now();
    wall = 500;
    const b = clock.now();
    const c = clock.now();
    wall = 2000;
    const d = clock.now();
    expect(a < b && b < c && c < d).toBe(true);
    expect(hlcMs(b)).toBe(1000);
    expect(hlcCounter(c)).toBe(2);
    expect(hlcMs(d)).toBe(2000);
    expect(hlcCounter(d)).toBe(0);
  });

  it('advances past timestamps it observes, so a skewed peer cannot reorder a chain', () => {
    const slow = new HybridClock(() => 1000);
    slow.observe(hlcFrom(5000, 9));
    const t = slow.now();
    expect(t > hlcFrom(5000, 9)).toBe(true);
  });
});

describe('origin', () => {
  it("numbers each type's STUs 1, 2, 3 and continues after what it observed at boot", () => {
    const o = new Origin(newGuid(), new HybridClock(() => 10));
    const object = newGuid();
    const seqs = [o.create({ type: 1, object }), o.create({ type: 1, object })].map((b) => {
      const d = decodeStu(b);
      if (!d.ok) throw d.error;
      return d.value.header.seq;
    });
    expect(seqs).toEqual([1, 2]);
    o.observe(o.guid, 1, 41, hlcFrom(99));
    expect(o.next(1).seq).toBe(42);
    o.observe(newGuid(), 1, 1000, hlcFrom(5));
    expect(o.next(1).seq).toBe(43);
    // each type has its own numbering
    expect(o.next(2).seq).toBe(1);
    expect(o.lastSeq(1)).toBe(43);
  });
});
