import { describe, expect, it } from 'vitest';
import { decodeBatch } from '../../../shared/stx/batch.ts';
import { Batcher } from '../../../shared/stx/batcher.ts';
import { StxError } from '../../../shared/stx/errors.ts';
import { ScriptedChannel } from './helpers.ts';

const msg = (n: number, fill = 0x41) => new Uint8Array(n).fill(fill);
const tick = () => new Promise<void>((r) => setTimeout(r, 0));
const counts = (ch: ScriptedChannel) =>
  ch.sent.map((b) => {
    const r = decodeBatch(b);
    if (!r.ok) throw r.error;
    return r.value.length;
  });
const thrown = (fn: () => unknown): StxError => {
  try {
    fn();
  } catch (e) {
    return e as StxError;
  }
  throw new Error('did not throw');
};

describe('Batcher', () => {
  it('sends nothing synchronously and everything as one batch on the next tick', async () => {
    const ch = new ScriptedChannel();
    const b = new Batcher(ch);
    for (let i = 0; i < 50; i++) b.push(msg(20));
    expect(ch.sent).toHaveLength(0);
    expect(b.queuedBytes).toBe(5 + 50 * 24);
    await Promise.resolve();
    expect(counts(ch)).toEqual([50]);
    expect(b.queuedBytes).toBe(0);
    b.push(msg(20));
    await Promise.resolve();
    expect(counts(ch)).toEqual([50, 1]);
    expect(b.stats).toEqual({ messages: 51, batches: 2, bytes: 5 + 50 * 24 + 29 });
  });

  it('sends a batch at once when the next message would pass the cap', () => {
    const ch = new ScriptedChannel();
    const b = new Batcher(ch, { maxBatchBytes: 100 });
    b.push(msg(40)); // 5 + 44
    b.push(msg(40)); // 93
    expect(ch.sent).toHaveLength(0);
    b.push(msg(40)); // would be 137: the first two go now
    expect(counts(ch)).toEqual([2]);
    expect(ch.sent[0].length).toBe(93);
    expect(b.queuedBytes).toBe(49);
  });

  it('caps a batch by count too', async () => {
    const ch = new ScriptedChannel();
    const b = new Batcher(ch, { maxCount: 3 });
    for (let i = 0; i < 7; i++) b.push(msg(1));
    await Promise.resolve();
    expect(counts(ch)).toEqual([3, 3, 1]);
  });

  it('never sends more than the channel accepts, even if asked to', () => {
    const ch = new ScriptedChannel(1000);
    expect(new Batcher(ch, { maxBatchBytes: 64 * 1024 }).maxBatchBytes).toBe(1000);
  });

  it('refuses a message larger than a batch with a clear error', () => {
    const ch = new ScriptedChannel();
    const b = new Batcher(ch);
    expect(b.maxMessageBytes).toBe(64 * 1024 - 9);
    b.push(msg(64 * 1024 - 9));
    const e = thrown(() => b.push(msg(64 * 1024 - 8)));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toMatch(/data channel/);
  });

  it('holds partial batches while corked; cork nests; full batches still go out', async () => {
    const ch = new ScriptedChannel();
    const b = new Batcher(ch, { maxBatchBytes: 100 });
    b.cork();
    b.cork();
    b.push(msg(10));
    await tick();
    expect(ch.sent).toHaveLength(0);
    b.push(msg(40));
    b.push(msg(40)); // seals [10, 40]
    expect(counts(ch)).toEqual([2]);
    b.uncork();
    await tick();
    expect(counts(ch)).toEqual([2]);
    b.uncork(); // the outer uncork flushes at once
    expect(counts(ch)).toEqual([2, 1]);
    expect(() => b.uncork()).toThrow(RangeError);
  });

  it('applies backpressure: push() turns false past the high-water mark and drain() waits for the channel', async () => {
    const ch = new ScriptedChannel();
    ch.hold = true;
    const b = new Batcher(ch, { highWaterBytes: 1000, maxBatchBytes: 300 });
    expect(ch.bufferedAmountLowThreshold).toBe(500);
    const results: boolean[] = [];
    for (let i = 0; i < 12; i++) results.push(b.push(msg(96))); // 100 bytes a message
    expect(results.slice(0, 9).every(Boolean)).toBe(true);
    expect(results.at(-1)).toBe(false);
    await Promise.resolve();
    // Batches went out until the channel held 1000 bytes; the rest waits here.
    expect(ch.bufferedAmount).toBeGreaterThanOrEqual(1000);
    const sentBefore = ch.sent.length;
    expect(b.writable).toBe(false);
    let drained = false;
    const d = b.drain().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    ch.drainAll(); // the network took everything: bufferedAmountLow fires
    await d;
    expect(ch.sent.length).toBeGreaterThan(sentBefore);
    expect(b.queuedBytes).toBe(0);
    expect(counts(ch).reduce((a, n) => a + n, 0)).toBe(12);
  });

  it('refuses with QUEUE_FULL past maxQueuedBytes instead of growing', async () => {
    const ch = new ScriptedChannel();
    ch.hold = true;
    const b = new Batcher(ch, { highWaterBytes: 1000, maxQueuedBytes: 2000, maxBatchBytes: 300 });
    let e: StxError | undefined;
    for (let i = 0; i < 100 && !e; i++) {
      try {
        b.push(msg(96));
      } catch (x) {
        e = x as StxError;
      }
    }
    expect(e?.code).toBe('QUEUE_FULL');
    expect(b.queuedBytes).toBeLessThanOrEqual(2000);
    ch.drainAll();
    await Promise.resolve();
    expect(() => b.push(msg(96))).not.toThrow();
  });

  it('rejects drain() waiters on close, and push() after close', async () => {
    const ch = new ScriptedChannel();
    ch.hold = true;
    const b = new Batcher(ch, { highWaterBytes: 100, maxBatchBytes: 100 });
    b.push(msg(90));
    b.push(msg(90));
    const d = b.drain();
    b.close();
    await expect(d).rejects.toMatchObject({ code: 'CLOSED' });
    expect(thrown(() => b.push(msg(1))).code).toBe('CLOSED');
  });

  it('closes itself and reports when the channel refuses a batch', async () => {
    const ch = new ScriptedChannel();
    const errors: StxError[] = [];
    const b = new Batcher(ch, { onError: (e) => errors.push(e) });
    b.push(msg(5));
    ch.state = 'closed';
    await Promise.resolve();
    expect(errors.map((e) => e.code)).toEqual(['CLOSED']);
    expect(thrown(() => b.push(msg(1))).code).toBe('CLOSED');
  });

  it('uses the scheduler it is given (e.g. setTimeout for bigger batches)', async () => {
    const ch = new ScriptedChannel();
    const b = new Batcher(ch, { schedule: (f) => void setTimeout(f, 0) });
    b.push(msg(1));
    await Promise.resolve();
    b.push(msg(1));
    await Promise.resolve();
    expect(ch.sent).toHaveLength(0);
    await tick();
    expect(counts(ch)).toEqual([2]);
  });
});
