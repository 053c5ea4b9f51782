import { describe, expect, it } from 'vitest';
import { prng, withFaults } from '../../../shared/stx/fault.ts';
import { memoryChannelPair, memoryPair } from '../../../shared/stx/memory-transport.ts';
import type { Channel } from '../../../shared/stx/transport.ts';
import { until } from './helpers.ts';

const collect = (ch: Channel) => {
  const got: number[] = [];
  ch.onMessage((b) => got.push(b[0] | (b[1] << 8)));
  return got;
};
const m = (i: number, size = 2) => {
  const b = new Uint8Array(size);
  b[0] = i & 0xff;
  b[1] = i >> 8;
  return b;
};

describe('memory transport', () => {
  it('announces a channel to the other side before its first message, and delivers in order', async () => {
    const [a, b] = memoryPair();
    const got: number[] = [];
    b.onChannel((ch) => ch.onMessage((x) => got.push(x[0])));
    const ch = await a.openChannel('stx', { ordered: true, reliable: true });
    expect(ch.state).toBe('open');
    for (let i = 0; i < 100; i++) ch.send(Uint8Array.of(i));
    await until(() => got.length === 100);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('refuses unreliable channels and messages over maxMessageSize', async () => {
    const [a] = memoryPair({ maxMessageSize: 1000 });
    await expect(a.openChannel('x', { ordered: true, reliable: false })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const ch = await a.openChannel('x', { ordered: true, reliable: true });
    expect(ch.maxMessageSize).toBe(1000);
    expect(() => ch.send(new Uint8Array(1001))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    ch.send(new Uint8Array(1000));
  });

  it('copies what is sent', async () => {
    const [x, y] = await memoryChannelPair();
    const got = collect(y);
    const buf = m(1);
    x.send(buf);
    buf[0] = 2;
    await until(() => got.length === 1);
    expect(got).toEqual([1]);
  });

  it('simulates bufferedAmount draining at bytesPerTick, with bufferedAmountLow', async () => {
    const [x, y] = await memoryChannelPair({ bytesPerTick: 1000 });
    const got = collect(y);
    x.bufferedAmountLowThreshold = 2000;
    let lows = 0;
    x.onBufferedAmountLow(() => lows++);
    for (let i = 0; i < 10; i++) x.send(m(i, 500));
    expect(x.bufferedAmount).toBe(5000);
    await new Promise((r) => setTimeout(r, 0));
    expect(x.bufferedAmount).toBe(4000);
    await until(() => x.bufferedAmount === 0);
    expect(lows).toBe(1);
    expect(got).toHaveLength(10);
  });

  it('closes both ends after delivering what was sent; send after close throws CLOSED', async () => {
    const [x, y] = await memoryChannelPair();
    const got = collect(y);
    const reasons: string[] = [];
    x.onClose((r) => reasons.push(`x:${r}`));
    y.onClose((r) => reasons.push(`y:${r}`));
    x.send(m(1));
    x.send(m(2));
    x.close();
    expect(() => x.send(m(3))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await until(() => y.state === 'closed');
    expect(got).toEqual([1, 2]);
    expect(reasons.sort()).toEqual(['x:closed', 'y:closed by the peer']);
  });

  it('closing the link closes every channel on both sides', async () => {
    const [a, b] = memoryPair();
    const remote: Channel[] = [];
    b.onChannel((c) => remote.push(c));
    const c1 = await a.openChannel('one', { ordered: true, reliable: true });
    const c2 = await a.openChannel('two', { ordered: true, reliable: true });
    let closedB = '';
    b.onClose((r) => (closedB = r));
    a.close('bye');
    expect([c1.state, c2.state, ...remote.map((c) => c.state)]).toEqual(['closed', 'closed', 'closed', 'closed']);
    expect(closedB).toBe('closed by the peer');
    await expect(a.openChannel('three', { ordered: true, reliable: true })).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('fault shim', () => {
  it('prng is deterministic per seed', () => {
    const a = prng(42);
    const b = prng(42);
    const xs = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(xs);
    expect(xs.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Array.from({ length: 5 }, prng(43))).not.toEqual(xs);
  });

  const run = async (seed: number, opts: Parameters<typeof withFaults>[1] extends infer O ? Omit<O, 'seed'> : never, n = 500) => {
    const [x, y] = await memoryChannelPair();
    const f = withFaults(x, { seed, ...opts });
    const got = collect(y);
    for (let i = 0; i < n; i++) f.send(m(i));
    await until(() => x.bufferedAmount === 0 && f.bufferedAmount === 0);
    await new Promise((r) => setTimeout(r, 30));
    return { got, stats: f.stats, f };
  };

  it('drops about the asked share, the same messages for the same seed', async () => {
    const one = await run(7, { drop: 0.2 });
    const two = await run(7, { drop: 0.2 });
    expect(one.got).toEqual(two.got);
    expect(one.stats.dropped).toBeGreaterThan(60);
    expect(one.stats.dropped).toBeLessThan(140);
    expect(one.got.length + one.stats.dropped).toBe(500);
  });

  it('duplicates, reorders and delays', async () => {
    const dup = await run(1, { duplicate: 0.1 });
    expect(dup.got.length).toBe(500 + dup.stats.duplicated);
    const re = await run(2, { reorder: 0.1 });
    expect(re.stats.reordered).toBeGreaterThan(0);
    expect(re.got.length).toBe(500);
    expect(re.got).not.toEqual([...re.got].sort((a, b) => a - b));
    const late = await run(3, { delay: 0.5, delayMs: [1, 10] });
    expect(late.stats.delayed).toBeGreaterThan(100);
    expect(late.got.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('loses everything while partitioned', async () => {
    const [x, y] = await memoryChannelPair();
    const f = withFaults(x, { seed: 9 });
    const got = collect(y);
    f.send(m(1));
    f.partition(true);
    f.send(m(2));
    f.partition(false);
    f.send(m(3));
    await until(() => got.length === 2);
    expect(got).toEqual([1, 3]);
    expect(f.stats.dropped).toBe(1);
  });
});
