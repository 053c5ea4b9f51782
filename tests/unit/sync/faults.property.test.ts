// Any schedule of writes, partitions and message faults (drop, duplicate, reorder, delay on every signaling
// channel) ends with every server holding the same metadata STUs and the same objects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newGuid } from '../../../shared/stu/index.ts';
import type { FaultOptions } from '../../../shared/stx/fault.ts';
import { closeAll, connect, heldIds, makeServer, objects, until, write } from './helpers.ts';

const op = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), server: fc.nat(2), object: fc.nat(3), value: fc.nat(99) }),
  fc.record({ kind: fc.constant('partition' as const), link: fc.nat(2), on: fc.boolean() }),
  fc.record({ kind: fc.constant('sleep' as const), ms: fc.integer({ min: 1, max: 30 }) }),
);

describe('sync under faults (fast-check, seeded)', () => {
  it('converges after any schedule', async () => {
    const seen = { dropped: 0, duplicated: 0, reordered: 0, delayed: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), fc.integer({ min: 1, max: 2 ** 30 }), async (ops, seed) => {
        const servers = await Promise.all([0, 1, 2].map(() => makeServer({ syncIntervalMs: 150 })));
        const objs = [newGuid(), newGuid(), newGuid(), newGuid()];
        // faults switch on once admitted (a lost Hello is a failed connection, retried by the joiner, not by sync)
        const faults: FaultOptions[] = [];
        const fault = (i: number): FaultOptions => {
          const f: FaultOptions = { seed: seed + i, holdMs: 3, delayMs: [1, 15] };
          faults.push(f);
          return f;
        };
        try {
          const pairs = [
            [0, 1],
            [1, 2],
            [0, 2],
          ] as const;
          const links = [];
          for (const [i, [x, y]] of pairs.entries()) links.push(await connect(servers[x], servers[y], { a: fault(2 * i), b: fault(2 * i + 1) }));
          await Promise.all(links.flatMap((l) => [l.a.admitted(), l.b.admitted()]));
          for (const f of faults) Object.assign(f, { drop: 0.1, duplicate: 0.1, reorder: 0.1, delay: 0.2 });
          for (const o of ops) {
            if (o.kind === 'write') await write(servers[o.server], objs[o.object], { [`v${o.value}`]: String(o.value) });
            else if (o.kind === 'partition') for (const sh of links[o.link].shims) sh.partition(o.on);
            else await new Promise((r) => setTimeout(r, o.ms));
          }
          for (const l of links) for (const sh of l.shims) sh.partition(false);
          for (const l of links) for (const sh of l.shims) for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += sh.stats[k];
          await until(
            () => servers.every((s) => JSON.stringify(heldIds(s)) === JSON.stringify(heldIds(servers[0])) && objects(s) === objects(servers[0])),
            20_000,
            'convergence under faults',
          );
          const writes = ops.filter((o) => o.kind === 'write').length;
          expect(servers[0].store.held.vector().reduce((n, e) => n + e.upTo, 0)).toBe(writes);
          // the same collision verdicts everywhere
          const verdicts = (i: number) => JSON.stringify(servers[i].engine.collisions(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
          expect(verdicts(1)).toBe(verdicts(0));
          expect(verdicts(2)).toBe(verdicts(0));
        } finally {
          await closeAll(servers);
        }
      }),
      { numRuns: 25, seed: 20261122, endOnFailure: true },
    );
    // the schedules really did lose, repeat, reorder and delay messages
    expect(Math.min(...Object.values(seen))).toBeGreaterThan(0);
  }, 240_000);
});
