// Under a steady stream of appends the write queue is never empty. Checkpoints (fsync 'interval') must still
// happen every `ms`, and flush(), read() and scan() must wait only for the writes before them, not for the
// queue to drain: otherwise nothing becomes durable while the load lasts, and a caller can wait forever.
import { describe, expect, it } from 'vitest';
import { makeStu } from '../../../shared/ring/acceptance.ts';
import { REGION_START } from '../../../shared/ring/record.ts';
import { openRing } from '../../../shared/ring/ring.ts';
import type { BlockDevice } from '../../../shared/ring/types.ts';

/** A memory device whose writes and syncs take an event-loop turn, as real I/O does. */
class SlowDevice implements BlockDevice {
  readonly bytes: Uint8Array;
  superblockWrites = 0;
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    await new Promise((r) => setImmediate(r));
    return this.bytes.slice(offset, Math.min(offset + length, this.size));
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.bytes.set(data, offset);
    if (offset < REGION_START) this.superblockWrites++;
  }
  async sync(): Promise<void> {
    await new Promise((r) => setImmediate(r));
  }
  async close(): Promise<void> {}
}

const within = async <T>(ms: number, what: string, p: Promise<T>): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

describe('a ring under sustained appends', () => {
  it('checkpoints every interval, and flush, read and scan return while appends go on', async () => {
    const devices = { meta: new SlowDevice(REGION_START + 256 * 1024), data: new SlowDevice(REGION_START + 1024 * 1024) };
    const ring = await openRing(devices, { fsync: { mode: 'interval', ms: 5 }, batchBytes: 16 * 1024 });
    const before = devices.data.superblockWrites;
    let stop = false;
    let seq = 0;
    const producer = (async () => {
      const inflight: Promise<unknown>[] = [];
      while (!stop) {
        inflight.push(ring.append(makeStu(++seq, true, 2000)));
        if (inflight.length >= 16) await inflight.shift();
      }
      await Promise.all(inflight);
    })();
    try {
      await new Promise((r) => setTimeout(r, 100));
      await within(2000, 'flush() under load', ring.flush());
      const loc = await within(2000, 'append() under load', ring.append(makeStu(1_000_000, true, 100)));
      const r = await within(2000, 'read() under load', ring.read(loc));
      expect(r.ok).toBe(true);
      await within(2000, 'scan() under load', (async () => {
        for await (const e of ring.scan('data')) if (e.loc.recSeq === loc.recSeq) break;
      })());
      await new Promise((r) => setTimeout(r, 100));
      const checkpoints = devices.data.superblockWrites - before;
      expect(checkpoints, `superblock writes in 200 ms of appends with a 5 ms interval (${seq} appends)`).toBeGreaterThanOrEqual(5);
    } finally {
      stop = true;
      await producer;
      await ring.close();
    }
  });
});
