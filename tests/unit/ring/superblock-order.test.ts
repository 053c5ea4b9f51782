// Superblock writes land in the order they were made. With fsync 'interval' a checkpoint (started by the
// timer or flush()) runs while the write queue goes on appending; both write the superblock, the checkpoint
// to record the head, the write queue to record a new tail before it overwrites evicted records. On a raw
// file each write is a pwrite on a thread of the pool, so a slow one (a thread descheduled on a busy machine)
// can land after later ones. If the checkpoint's write of generation g landed after the eviction write of
// g + 2, which goes to the same copy, the newest superblock left would be g + 1, whose tail points at a
// record that the batch after g + 2 has overwritten: after a SIGKILL (the page cache kept, nothing lost by
// the device) the ring would open with that record reported corrupt, or, were the tail past the checkpoint,
// with nothing in it at all.
//
// The device below holds the checkpoint's superblock write until the test releases it, while the queue
// appends two records that evict one record each; then the ring is dropped (a crash) and reopened.
import { expect, it } from 'vitest';
import { makeStu } from '../../../shared/ring/acceptance.ts';
import { MemoryDevice } from '../../../shared/ring/memory.ts';
import { align, PREFIX_SIZE, REGION_START } from '../../../shared/ring/record.ts';
import { openRing } from '../../../shared/ring/ring.ts';
import type { Loc, Ring } from '../../../shared/ring/types.ts';

/** A memory device that can hold a superblock write: it lands (and resolves) only on release(). */
class HoldingDevice extends MemoryDevice {
  holdNextSuperblock = false;
  held: (() => void) | undefined;
  override async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.holdNextSuperblock && offset < REGION_START) {
      this.holdNextSuperblock = false;
      const bytes = data.slice();
      await new Promise<void>((resolve) => (this.held = resolve));
      return super.write(offset, bytes);
    }
    return super.write(offset, data);
  }
  release(): void {
    const r = this.held;
    this.held = undefined;
    r?.();
  }
}

const turns = async (n: number, until: () => boolean = () => false) => {
  for (let i = 0; i < n && !until(); i++) await new Promise((r) => setImmediate(r));
};

/** Waits a while for `p` to settle (it may not, while a write is held). */
async function settles<T>(p: Promise<T>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await turns(200, () => done);
  return done;
}

it('a checkpoint superblock that lands late does not undo a newer eviction superblock', async () => {
  const BODY = 1000;
  const total = align(PREFIX_SIZE + 512 + BODY); // 1536 bytes a record
  const meta = new MemoryDevice(REGION_START + 64 * 1024);
  const data = new HoldingDevice(REGION_START + 16 * 1024); // room for 10 records and a wrap marker
  const opts = { fsync: { mode: 'interval', ms: 3_600_000 } as const };
  const ring: Ring = await openRing({ meta, data }, opts);
  const evicted: number[] = [];
  ring.onEvict((locs) => evicted.push(...locs.map((l) => l.recSeq)));
  const acked: { loc: Loc; seq: number }[] = [];
  const append = (seq: number) => ring.append(makeStu(seq, true, BODY)).then((loc) => void acked.push({ loc, seq }));

  for (let seq = 1; seq <= 9; seq++) await append(seq);
  await ring.flush();
  await append(10); // the region is full now: the next record wraps and evicts
  expect(evicted).toEqual([]);
  expect(acked.at(-1)!.loc.offset + total).toBeGreaterThan(16 * 1024 - total);

  // A checkpoint (what the interval timer does): its superblock write is slow to land.
  data.holdNextSuperblock = true;
  const checkpoint = ring.flush();
  await turns(200, () => data.held !== undefined);
  expect(data.held, 'the checkpoint is writing its superblock').toBeDefined();

  // Meanwhile the queue goes on: record 11 wraps to offset 0 and evicts record 1, record 12 evicts record 2.
  // Each needs a superblock with the new tail before its batch overwrites the evicted record.
  const p11 = append(11);
  await settles(p11);
  const p12 = append(12);
  await settles(p12);
  expect(evicted).toEqual([1, 2]);
  // Without ordering, both appends complete while the checkpoint's write is still out (and the test fails
  // below); with it, they wait for that write. Either way, the slow write lands now.
  data.release();
  await Promise.all([checkpoint, p11, p12]);

  // A crash (no flush, no close; the device keeps every completed write), then open again.
  const copy = (d: MemoryDevice) => {
    const c = new MemoryDevice(d.size);
    c.bytes.set(d.bytes);
    return c;
  };
  const again = await openRing({ meta: copy(meta), data: copy(data) }, opts);
  expect(again.report.corrupt, 'nothing corrupt').toEqual([]);
  const found = new Map<number, number>();
  for await (const e of again.scan('data')) found.set(e.loc.recSeq, e.header.seq);
  for (const { loc, seq } of acked) {
    if (evicted.includes(loc.recSeq)) continue;
    expect(found.get(loc.recSeq), `acknowledged seq ${seq} (record ${loc.recSeq}) survives`).toBe(seq);
  }
  await again.close();
  await ring.close();
});
