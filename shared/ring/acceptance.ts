// The acceptance suite every Ring passes (memory, raw file, IndexedDB). Framework-free: it registers cases
// through the `test` function it is given, so vitest runs it in Node and a page runs it in Chromium.
import { decodeStu, encodeStu, Flag, type Guid, hlcFrom, isData } from '../stu/index.ts';
import { PREFIX_SIZE, REGION_START } from './record.ts';
import type { OpenRingOptions } from './ring.ts';
import { type Loc, type Ring, RingError, type ScanEntry, type Section } from './types.ts';

export interface RingHarness {
  /** Fresh storage with devices of these sizes, opened. */
  create(sizes: Record<Section, number>, opts?: OpenRingOptions): Promise<Ring>;
  /** Open the same storage again (after close(), or after crash()). */
  reopen(opts?: OpenRingOptions): Promise<Ring>;
  /** Drop the open ring as a crash would: no flush, no close. */
  crash(): Promise<void>;
  /** Change raw bytes of a section's device at an absolute offset. */
  poke(section: Section, offset: number, mutate: (bytes: Uint8Array) => void, length: number): Promise<void>;
  cleanup(): Promise<void>;
}

export type TestFn = (name: string, fn: () => Promise<void>) => void;

const ORIGIN: Guid = '0a0a0a0a-0000-4000-8000-000000000001';
const OBJECT: Guid = '0b0b0b0b-0000-4000-8000-000000000002';
const SMALL = { meta: 64 * 1024, data: 256 * 1024 };

export function makeStu(seq: number, data: boolean, bodySize: number): Uint8Array {
  const body = new Uint8Array(bodySize);
  for (let i = 0; i < bodySize; i++) body[i] = (seq * 31 + i) & 0xff;
  return encodeStu({ type: data ? 0x101 : 0x100, object: OBJECT, ts: hlcFrom(1_700_000_000_000 + seq), origin: ORIGIN, seq, flags: data ? Flag.DATA : 0 }, body);
}

function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
const eqBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

async function collect(ring: Ring, section: Section, bodies = false): Promise<ScanEntry[]> {
  const out: ScanEntry[] = [];
  for await (const e of ring.scan(section, { bodies })) out.push(e);
  return out;
}

async function expectRejects(p: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    check((e as { code?: string }).code === code, `${what}: expected ${code}, got ${(e as Error).message}`);
    return;
  }
  throw new Error(`assertion failed: ${what} should have been refused with ${code}`);
}

export function runRingTests(test: TestFn, harness: () => Promise<RingHarness>): void {
  const withHarness = (name: string, fn: (h: RingHarness) => Promise<void>) =>
    test(name, async () => {
      const h = await harness();
      try {
        await fn(h);
      } finally {
        await h.cleanup();
      }
    });

  withHarness('appends and reads back metadata and data STUs byte for byte', async (h) => {
    const ring = await h.create(SMALL);
    const stus = [makeStu(1, false, 10), makeStu(2, true, 5000), makeStu(3, false, 0), makeStu(4, true, 1)];
    const locs = await Promise.all(stus.map((s) => ring.append(s)));
    check(locs[0].section === 'meta' && locs[1].section === 'data', 'sections follow the DATA flag');
    for (let i = 0; i < stus.length; i++) {
      const r = await ring.read(locs[i]);
      check(r.ok, `read ${i}`);
      const d = decodeStu(stus[i]);
      check(d.ok && eqBytes(r.value.body, d.value.body) && r.value.header.seq === i + 1, `record ${i} intact`);
    }
    const st = ring.stats();
    check(st.meta.records === 2 && st.data.records === 2, 'stats count records');
    await ring.close();
  });

  withHarness('reads many records at once, in the order asked, across wraps and evictions', async (h) => {
    const ring = await h.create(SMALL);
    const locs: Loc[] = [];
    for (let i = 1; i <= 120; i++) locs.push(await ring.append(makeStu(i, true, 2500 + (i % 5) * 300)));
    const live = (await collect(ring, 'data')).map((e) => e.loc);
    check(live.length > 10 && live.length < 120, `wrapped and evicted (${live.length} live)`);
    // live records in order (runs across the wrap), an evicted one, and a repeat out of order
    const ask = [...live, locs[0], live[3]];
    const got = await ring.readMany(ask);
    check(got.length === ask.length, 'one result per loc');
    for (let i = 0; i < live.length; i++) {
      const r = got[i];
      const prev = got[i - 1];
      check(r.ok && (i === 0 || (prev.ok && r.value.header.seq === prev.value.header.seq + 1)), `record ${i} in order`);
      const one = await ring.read(live[i]);
      check(one.ok && r.ok && eqBytes(one.value.bytes, r.value.bytes), `record ${i} same bytes as read()`);
    }
    const ev = got[live.length];
    check(!ev.ok && ev.error.code === 'EVICTED', 'evicted record reported');
    const again = got[live.length + 1];
    check(again.ok && again.value.header.seq === (got[3].ok ? got[3].value.header.seq : -1), 'repeat out of order');
    check((await ring.readMany([])).length === 0, 'nothing asked, nothing read');
    await ring.close();
  });

  withHarness('reopens with every record; metadata with bodies, data headers only', async (h) => {
    let ring = await h.create(SMALL);
    for (let i = 1; i <= 20; i++) await ring.append(makeStu(i, i % 2 === 0, 100 + i));
    await ring.close();
    const seen: ScanEntry[] = [];
    ring = await h.reopen({ visit: (e) => seen.push(e) });
    check(seen.length === 20, `visited 20, got ${seen.length}`);
    check(seen.filter((e) => e.loc.section === 'meta').every((e) => e.body?.length === e.header.bodySize), 'meta bodies read');
    check(seen.filter((e) => e.loc.section === 'data').every((e) => e.body === undefined), 'data headers only');
    const data = await collect(ring, 'data');
    check(data.map((e) => e.header.seq).join() === '2,4,6,8,10,12,14,16,18,20', 'data in append order');
    check(ring.report.corrupt.length === 0 && ring.report.tornBytes === 0, 'clean report');
    await ring.close();
  });

  withHarness('evicts the oldest when full, tells listeners, and keeps the newest across wraps and reopen', async (h) => {
    let ring = await h.create(SMALL);
    const evicted: Loc[] = [];
    ring.onEvict((locs) => evicted.push(...locs));
    const locs: Loc[] = [];
    for (let i = 1; i <= 200; i++) locs.push(await ring.append(makeStu(i, true, 3000 + (i % 7) * 100)));
    check(evicted.length > 100, `evicted ${evicted.length}`);
    check(evicted.every((l, i) => i === 0 || l.recSeq > evicted[i - 1].recSeq), 'oldest first');
    const gone = await ring.read(locs[0]);
    check(!gone.ok && gone.error.code === 'EVICTED', 'evicted record reads as EVICTED');
    const last = await ring.read(locs[199]);
    check(last.ok && last.value.header.seq === 200, 'newest readable');
    const live = (await collect(ring, 'data')).map((e) => e.header.seq);
    await ring.close();
    ring = await h.reopen();
    const again = (await collect(ring, 'data')).map((e) => e.header.seq);
    check(again.join() === live.join() && again.at(-1) === 200, `same live set after reopen (${again.length} records)`);
    check(again.every((s, i) => i === 0 || s === again[i - 1] + 1), 'contiguous');
    await ring.close();
  });

  withHarness('serves reads of records still being written and keeps many concurrent appends in order', async (h) => {
    const ring = await h.create(SMALL);
    const ps = Array.from({ length: 50 }, (_, i) => ring.append(makeStu(i + 1, false, 50)));
    const first = await ring.read(await ps[0]);
    check(first.ok, 'read while writing');
    const locs = await Promise.all(ps);
    check(locs.every((l, i) => i === 0 || l.recSeq === locs[i - 1].recSeq + 1), 'recSeq in append order');
    await ring.close();
  });

  withHarness('refuses malformed STUs and STUs larger than a section', async (h) => {
    const ring = await h.create(SMALL);
    const bad = makeStu(1, false, 10);
    bad[100] ^= 1;
    await expectRejects(ring.append(bad), 'BAD_HEADER_CHECKSUM', 'flipped header bit');
    await expectRejects(ring.append(makeStu(2, true, 300 * 1024)), 'TOO_LARGE', 'oversized STU');
    await expectRejects(ring.append(makeStu(3, false, 10).subarray(0, 300)), 'TRUNCATED', 'truncated STU');
    check(ring.stats().meta.records === 0 && ring.stats().data.records === 0, 'nothing stored');
    await ring.close();
  });

  withHarness('refuses to evict metadata that is retained (FULL), evicts it once released', async (h) => {
    let keep = true;
    const ring = await h.create(SMALL, { retain: () => keep });
    let err: unknown;
    for (let i = 1; i <= 100 && !err; i++) {
      try {
        await ring.append(makeStu(i, false, 2000));
      } catch (e) {
        err = e;
      }
    }
    check(err instanceof RingError && err.code === 'FULL', 'FULL when nothing may be evicted');
    const before = ring.stats().meta.records;
    keep = false;
    await ring.append(makeStu(1000, false, 2000));
    check(ring.stats().meta.evicted > 0 && ring.stats().meta.records <= before, 'evicts once released');
    await ring.close();
  });

  withHarness('recovers records written after the last checkpoint and cuts a torn tail', async (h) => {
    let ring = await h.create(SMALL, { fsync: { mode: 'none' } });
    for (let i = 1; i <= 5; i++) await ring.append(makeStu(i, false, 200));
    await ring.flush();
    await ring.append(makeStu(6, false, 200));
    const torn = await ring.append(makeStu(7, false, 200));
    await h.crash();
    await h.poke('meta', REGION_START + torn.offset + PREFIX_SIZE + 512 + 100, (b) => (b[0] ^= 0xff), 1);
    ring = await h.reopen();
    check(ring.report.recovered === 1, `recovered ${ring.report.recovered}`);
    check(ring.report.tornBytes > 0, 'torn tail cut');
    check(ring.report.corrupt.length === 0, 'a torn tail is not corruption');
    let seqs = (await collect(ring, 'meta')).map((e) => e.header.seq);
    check(seqs.join() === '1,2,3,4,5,6', `after cut: ${seqs.join()}`);
    await ring.append(makeStu(8, false, 300));
    await ring.close();
    ring = await h.reopen();
    seqs = (await collect(ring, 'meta')).map((e) => e.header.seq);
    check(seqs.join() === '1,2,3,4,5,6,8', `after append: ${seqs.join()}`);
    await ring.close();
  });

  withHarness('reports a corrupt record with its offset, skips it, never serves it', async (h) => {
    let ring = await h.create(SMALL);
    const locs: Loc[] = [];
    for (let i = 1; i <= 6; i++) locs.push(await ring.append(makeStu(i, i > 3, 500)));
    await ring.close();
    await h.poke('meta', REGION_START + locs[1].offset + PREFIX_SIZE + 512 + 7, (b) => (b[0] ^= 1), 1);
    await h.poke('data', REGION_START + locs[4].offset + PREFIX_SIZE + 512 + 9, (b) => (b[0] ^= 1), 1);
    ring = await h.reopen();
    const c = ring.report.corrupt;
    check(c.length === 1 && c[0].section === 'meta' && c[0].offset === locs[1].offset, `meta corruption reported at its offset: ${JSON.stringify(c)}`);
    const meta = (await collect(ring, 'meta')).map((e) => e.header.seq);
    check(meta.join() === '1,3', `corrupt meta record skipped: ${meta.join()}`);
    const r1 = await ring.read(locs[1]);
    check(!r1.ok && r1.error.code === 'CORRUPT', 'corrupt meta record not served');
    const r4 = await ring.read(locs[4]);
    check(!r4.ok && r4.error.code === 'CORRUPT', 'data body corruption found on read');
    const r5 = await ring.read(locs[5]);
    check(r5.ok && isData(r5.value.header), 'neighbours intact');
    await ring.close();
  });

  withHarness('finds its way past a damaged record prefix', async (h) => {
    let ring = await h.create(SMALL);
    const locs: Loc[] = [];
    for (let i = 1; i <= 5; i++) locs.push(await ring.append(makeStu(i, false, 300)));
    await ring.close();
    await h.poke('meta', REGION_START + locs[2].offset + 2, (b) => (b[0] ^= 0x40), 1);
    ring = await h.reopen();
    check(ring.report.corrupt.some((r) => r.offset === locs[2].offset), 'damaged prefix reported');
    const seqs = (await collect(ring, 'meta')).map((e) => e.header.seq);
    check(seqs.join() === '1,2,4,5', `records after it kept: ${seqs.join()}`);
    await ring.close();
  });

  withHarness('opens with the other superblock copy when one is damaged', async (h) => {
    let ring = await h.create(SMALL);
    for (let i = 1; i <= 4; i++) await ring.append(makeStu(i, false, 100));
    await ring.close();
    for (const at of [0, 4096]) {
      await h.poke('meta', at + 10, (b) => (b[0] ^= 0xff), 1);
      ring = await h.reopen();
      const seqs = (await collect(ring, 'meta')).map((e) => e.header.seq);
      check(seqs.join() === '1,2,3,4', `superblock copy at ${at} damaged: ${seqs.join()}`);
      await ring.close();
    }
  });

  withHarness('opens read-only without writing anything, even when there is a tail to recover', async (h) => {
    let ring = await h.create(SMALL, { fsync: { mode: 'none' } });
    for (let i = 1; i <= 3; i++) await ring.append(makeStu(i, false, 100));
    await ring.flush();
    await ring.append(makeStu(4, false, 100));
    await h.crash();
    let before = new Uint8Array(0);
    await h.poke('meta', 0, (b) => (before = b.slice()), 16384);
    ring = await h.reopen({ readOnly: true });
    const seqs = (await collect(ring, 'meta')).map((e) => e.header.seq);
    check(seqs.join() === '1,2,3,4', `read-only sees the recovered tail: ${seqs.join()}`);
    await expectRejects(ring.append(makeStu(5, false, 10)), 'CLOSED', 'append to a read-only ring');
    await ring.close();
    let same = false;
    await h.poke('meta', 0, (b) => (same = eqBytes(b, before)), 16384);
    check(same, 'device unchanged');
  });

  withHarness('refuses a device that is not a ring, and one of another size, without writing to it', async (h) => {
    let ring = await h.create(SMALL);
    await ring.append(makeStu(1, false, 100));
    await ring.close();
    await h.poke('meta', 0, (b) => b.fill(0x5a), 8192);
    await expectRejects(h.reopen(), 'BAD_DEVICE', 'garbage superblocks');
    let still = true;
    await h.poke('meta', 0, (b) => (still = b.every((x) => x === 0x5a)), 8192);
    check(still, 'the damaged device was left as it was');
    ring = await h.create({ meta: 64 * 1024, data: 256 * 1024 });
    await ring.close();
  });
}
