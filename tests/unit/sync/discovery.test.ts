// Data discovery in a memory cluster: frames split between servers are found and sent by every holder.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrameExt } from '../../../shared/media/frame.ts';
import { FRAME } from '../../../shared/media/stu-types.ts';
import { Flag, type Guid, newGuid } from '../../../shared/stu/index.ts';
import { Discovery, type DiscoveryOptions, NoMediaError, split } from '../../../shared/sync/discovery.ts';
import { closeAll, connect, makeServer, type TestServer } from './helpers.ts';
import { USERS } from '../state/helpers.ts';

const live: TestServer[] = [];
afterEach(async () => closeAll(live.splice(0)));

async function server(opts: Partial<DiscoveryOptions> = {}): Promise<TestServer & { discovery: Discovery }> {
  const s = await makeServer({ dataBytes: 8 << 20 });
  live.push(s);
  return Object.assign(s, { discovery: new Discovery({ hub: s.hub, holder: s.index, answerWindowMs: 200, ...opts }) });
}

/** Writes frames [from, to) of stream 0 of `media` (1,000 bytes each, a key frame every 10) on `s`. */
async function frames(s: TestServer, media: Guid, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) {
    const ext = encodeFrameExt({ stream: 0, timescale: 1000, dts: n * 40, pts: n * 40, duration: 40, key: n % 10 === 0, sample: n });
    await s.store.create({ type: FRAME, flags: Flag.DATA, object: media, user: USERS[0], ext }, new Uint8Array(1000).fill(n & 0xff));
  }
}

describe('split', () => {
  it('cuts a stretch held by k servers into k parts and reports what nobody holds', () => {
    const answers = new Map([
      ['a', [{ from: 0, to: 60 }]],
      ['b', [{ from: 40, to: 100 }]],
    ]);
    const { parts, missing } = split([{ from: 0, to: 120 }], answers);
    expect(parts).toEqual([
      { from: 0, to: 50, source: 'a' },
      { from: 50, to: 100, source: 'b' },
    ]);
    expect(missing).toEqual([{ from: 100, to: 120 }]);
    expect(split([{ from: 0, to: 10 }], new Map()).missing).toEqual([{ from: 0, to: 10 }]);
  });
});

describe('data discovery', () => {
  it('fetches frames split between two servers from both', async () => {
    const [a, b, c] = [await server(), await server(), await server()];
    const media = newGuid();
    await frames(a, media, 0, 60);
    await frames(b, media, 40, 100);
    const links = [await connect(a, b), await connect(a, c), await connect(b, c)];
    await Promise.all(links.flatMap((l) => [l.a.admitted(), l.b.admitted()]));
    await c.discovery.download(media, 0, [{ from: 0, to: 100 }], AbortSignal.timeout(5000));
    expect(c.index.heldRanges(media, 0)).toEqual([{ from: 0, to: 100 }]);
    const fromA = c.hub.session(a.guid)!.stats.stusIn;
    const fromB = c.hub.session(b.guid)!.stats.stusIn;
    expect(fromA).toBeGreaterThan(0);
    expect(fromB).toBeGreaterThan(0);
    expect(fromA + fromB).toBe(100);
    // byte-exact
    const f = c.index.samples(media, 0, 77, 78)[0];
    const got = await c.store.read(f.loc);
    expect(got?.[512]).toBe(77);
    // a second viewer of the same range is served locally
    await c.discovery.download(media, 0, [{ from: 0, to: 100 }]);
    expect(c.hub.session(a.guid)!.stats.stusIn + c.hub.session(b.guid)!.stats.stusIn).toBe(100);
  });

  it('fails clearly when nobody holds part of the range, and in the configured time when nobody answers', async () => {
    const [a, c] = [await server(), await server()];
    const media = newGuid();
    await frames(a, media, 0, 20);
    const l = await connect(a, c);
    await Promise.all([l.a.admitted(), l.b.admitted()]);
    const e = await c.discovery.download(media, 0, [{ from: 0, to: 30 }], AbortSignal.timeout(5000)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoMediaError);
    expect((e as NoMediaError).missing).toEqual([{ from: 20, to: 30 }]);
    const alone = await server();
    await expect(alone.discovery.download(newGuid(), 0, [{ from: 0, to: 5 }])).rejects.toThrow(/no server peer/);
  });

  it('a pushed media is copied by every server, and a mirror receives what another asks for', async () => {
    const [a, b, c] = [await server(), await server(), await server()];
    const media = newGuid();
    await frames(a, media, 0, 30);
    const links = [await connect(a, b), await connect(a, c), await connect(b, c)];
    await Promise.all(links.flatMap((l) => [l.a.admitted(), l.b.admitted()]));
    a.discovery.push(media);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.discovery.isPushed(media)).toBe(true);
    // c asks; b wants it too and receives the same data as a mirror
    await c.discovery.download(media, 0, [{ from: 0, to: 30 }], AbortSignal.timeout(5000));
    const t0 = Date.now();
    while (b.index.heldRanges(media, 0).length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(b.index.heldRanges(media, 0)).toEqual([{ from: 0, to: 30 }]);
  });

  it('a push makes every server download the whole media', async () => {
    const [a, b] = [await server(), await server({ wholeMedia: () => [{ stream: 0, ranges: [{ from: 0, to: 25 }] }] })];
    const media = newGuid();
    await frames(a, media, 0, 25);
    const l = await connect(a, b);
    await Promise.all([l.a.admitted(), l.b.admitted()]);
    a.discovery.push(media);
    const t0 = Date.now();
    while (b.index.heldRanges(media, 0).length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(b.index.heldRanges(media, 0)).toEqual([{ from: 0, to: 25 }]);
  });
});
