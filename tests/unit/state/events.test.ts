import { describe, expect, it, vi } from 'vitest';
import { Flag } from '../../../shared/stu/index.ts';
import { type ChangeEvent, Emitter, StateEngine } from '../../../shared/state/index.ts';
import { KV, kvApp, mk, OBJ, OBJ2 } from './helpers.ts';

const kv = (s: { ts: number; prev?: number; seq: number; body?: unknown; flags?: number; object?: string }) => mk({ type: KV, ...s });

describe('change events', () => {
  it('one event per changed object per batch, with created / updated / deleted kinds', () => {
    const e = new StateEngine();
    e.register(kvApp());
    const events: ChangeEvent[] = [];
    e.onChange((ev) => events.push(ev));
    e.ingestAll([kv({ ts: 1, seq: 1, body: { set: { a: '1' } } }), kv({ ts: 2, prev: 1, seq: 2, body: { set: { b: '2' } } })]);
    e.ingest(kv({ ts: 3, prev: 2, seq: 3, body: { del: ['a'] } }));
    e.ingest(kv({ ts: 1, seq: 4, object: OBJ2, body: { set: {} } }));
    e.ingest(kv({ ts: 9, prev: 8, seq: 5, body: { set: { held: 'yes' } } })); // held: nothing changes
    e.ingest(kv({ ts: 4, prev: 3, seq: 6, flags: Flag.TOMBSTONE }));
    expect(events.map((ev) => [ev.kind, ev.object.id, ev.object.ts])).toEqual([
      ['created', OBJ, 2n],
      ['updated', OBJ, 3n],
      ['created', OBJ2, 1n],
      ['deleted', OBJ, 4n],
    ]);
    expect(events[1].object.state).toEqual({ b: '2' });
  });

  it('unsubscribing stops delivery to that listener only', () => {
    const e = new StateEngine();
    e.register(kvApp());
    const a: ChangeEvent[] = [];
    const b: ChangeEvent[] = [];
    const offA = e.onChange((ev) => a.push(ev));
    e.onChange((ev) => b.push(ev));
    e.ingest(kv({ ts: 1, seq: 1, body: { set: { a: '1' } } }));
    offA();
    offA();
    e.ingest(kv({ ts: 2, prev: 1, seq: 2, body: { set: { a: '2' } } }));
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(2);
  });

  it('a throwing listener does not stop the engine or the other listeners', async () => {
    const em = new Emitter<number>();
    const got: number[] = [];
    em.on(() => {
      throw new Error('listener bug');
    });
    em.on((n) => got.push(n));
    const thrown = new Promise<unknown>((resolve) => {
      const original = globalThis.queueMicrotask;
      vi.spyOn(globalThis, 'queueMicrotask').mockImplementationOnce((cb) =>
        original(() => {
          try {
            cb();
          } catch (err) {
            resolve(err);
          }
        }),
      );
    });
    em.emit(7);
    expect(got).toEqual([7]);
    expect(((await thrown) as Error).message).toBe('listener bug');
    vi.restoreAllMocks();
  });
});
