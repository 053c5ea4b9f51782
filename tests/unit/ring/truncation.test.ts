// Torn writes. A crash (or power loss) can stop the last device write at any byte. For every such byte in the
// writes that carry the last records after a checkpoint, rebuild the device as it would be, reopen, and check:
// the ring opens, every record before the torn one is intact, the torn record and everything after it are
// gone (never served), nothing is reported corrupt, and the ring takes new appends that survive a reopen.
//
// The device logs every write it receives; a torn state is "the checkpointed bytes, the writes before the
// torn one, the first `j` bytes of the torn one, and its remainder left as it was (stale), zeroed, or
// filled with garbage".
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStu } from '../../../shared/ring/acceptance.ts';
import { align, decodeSuperblock, PREFIX_SIZE, REGION_START, SUPERBLOCK_SIZE } from '../../../shared/ring/record.ts';
import { openRing } from '../../../shared/ring/ring.ts';
import type { BlockDevice, Loc, Ring, Section } from '../../../shared/ring/types.ts';
import { HEADER_SIZE, Off, reencodeStu } from '../../../shared/stu/header.ts';
import { openFileRing, ringPaths } from '../../../node-peer/ring/file-ring.ts';

const SIZES: Record<Section, number> = { meta: REGION_START + 24 * 1024, data: REGION_START + 40 * 1024 };
const OTHER: Record<Section, Section> = { meta: 'data', data: 'meta' };

interface Write {
  offset: number;
  data: Uint8Array;
}

/** A memory device that can log the writes it receives. */
class LoggingDevice implements BlockDevice {
  bytes: Uint8Array;
  log: Write[] | undefined;
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    // A view, not a copy (tens of thousands of reopenings): nothing writes while the ring reads here.
    return this.bytes.subarray(offset, Math.min(offset + length, this.size));
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (offset < 0 || offset + data.length > this.size) throw new RangeError(`write of ${data.length} at ${offset}`);
    this.bytes.set(data, offset);
    this.log?.push({ offset, data: data.slice() });
  }
  async sync(): Promise<void> {}
  async close(): Promise<void> {}
}

interface Rec {
  recSeq: number;
  seq: number;
  offset: number;
  /** Prefix and STU bytes, without the padding to 8. */
  length: number;
}

interface Built {
  section: Section;
  /** The section's device after the checkpoint, before the last records. */
  base: Uint8Array;
  /** The other section's device (untouched by the torn writes). */
  other: Uint8Array;
  live: Rec[];
  last: Rec[];
  log: Write[];
  nextSeq: number;
}

interface Scenario {
  name: string;
  section: Section;
  /** Body size of the STU with this seq. */
  body: (seq: number) => number;
  /** Records appended (and checkpointed) before the last ones. */
  before: number;
  /** Keep appending until the last records will wrap around the end of the region. */
  wrapLast?: boolean;
  /** Append the last records one by one (one write each) instead of all at once (one batched write). */
  sequential?: boolean;
}

const LAST = 3;
const bodySizeOf = (seq: number, lo: number, hi: number) => lo + ((seq * 2654435761) >>> 7) % (hi - lo + 1);

async function build(sc: Scenario): Promise<Built> {
  const devices = { meta: new LoggingDevice(SIZES.meta), data: new LoggingDevice(SIZES.data) };
  const ring = await openRing(devices, { fsync: { mode: 'none' } });
  const isData = sc.section === 'data';
  const capacity = SIZES[sc.section] - REGION_START;
  let seq = 0;
  const lastTotal = align(PREFIX_SIZE + 512 + sc.body(1));
  let head = 0;
  for (let i = 0; i < sc.before || (sc.wrapLast && capacity - head > 2.5 * lastTotal); i++) {
    seq++;
    const loc = await ring.append(stuOf(seq, isData, sc.body(seq)));
    head = loc.offset + align(PREFIX_SIZE + 512 + sc.body(seq));
  }
  await ring.flush();
  const live = await records(ring, sc.section);
  const device = devices[sc.section];
  const base = device.bytes.slice();
  device.log = [];
  const seqs = Array.from({ length: LAST }, (_, i) => seq + 1 + i);
  const stus = seqs.map((s) => stuOf(s, isData, sc.body(s)));
  const locs: Loc[] = [];
  if (sc.sequential) for (const s of stus) locs.push(await ring.append(s));
  else locs.push(...(await Promise.all(stus.map((s) => ring.append(s)))));
  const log = device.log;
  device.log = undefined;
  // The ring is dropped here, as a crash would: no flush, no close.
  return {
    section: sc.section,
    base,
    other: devices[OTHER[sc.section]].bytes.slice(),
    live,
    last: locs.map((l, i) => ({ recSeq: l.recSeq, seq: seqs[i], offset: l.offset, length: PREFIX_SIZE + stus[i].length })),
    log,
    nextSeq: seq + LAST + 1,
  };
}

const readU32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

const stuCache = new Map<string, Uint8Array>();
/** makeStu, memoised: the same STU is compared tens of thousands of times. */
function stuOf(seq: number, data: boolean, bodySize: number): Uint8Array {
  const key = `${seq}/${data}/${bodySize}`;
  let stu = stuCache.get(key);
  if (!stu) stuCache.set(key, (stu = makeStu(seq, data, bodySize)));
  return stu;
}

async function records(ring: Ring, section: Section, bodies = true): Promise<Rec[]> {
  const out: Rec[] = [];
  for await (const e of ring.scan(section, { bodies })) {
    out.push({ recSeq: e.loc.recSeq, seq: e.header.seq, offset: e.loc.offset, length: PREFIX_SIZE + 512 + e.header.bodySize });
    if (bodies) {
      // The header passed its checksum; same body checksum and body bytes: the very STU that was appended.
      const want = stuOf(e.header.seq, section === 'data', e.header.bodySize);
      const ok = e.header.bodyCrc === readU32(want, Off.bodyCrc) && Buffer.compare(e.body!, want.subarray(HEADER_SIZE)) === 0;
      if (!ok) expect(Buffer.compare(reencodeStu({ header: e.header, body: e.body! }), want), `record ${e.loc.recSeq} byte for byte`).toBe(0);
    }
  }
  return out;
}

type Fill = 'stale' | 'zero' | 'garbage';

/** The section's bytes when write `k` stopped after `j` bytes. */
function tornBytes(b: Built, k: number, j: number, fill: Fill): Uint8Array {
  const bytes = b.base.slice();
  for (let i = 0; i < k; i++) bytes.set(b.log[i].data, b.log[i].offset);
  const w = b.log[k];
  bytes.set(w.data.subarray(0, j), w.offset);
  const rest = bytes.subarray(w.offset + j, w.offset + w.data.length);
  if (fill === 'zero') rest.fill(0);
  if (fill === 'garbage') {
    let x = (k * 7919 + j * 104729 + 1) >>> 0;
    for (let i = 0; i < rest.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      rest[i] = x & 0xff;
    }
  }
  return bytes;
}

/** What must survive: records the superblock in effect keeps, and the last records written in full. */
function expected(b: Built, bytes: Uint8Array, k: number, j: number): { keep: Rec[]; torn: Rec | undefined; prefixWritten: boolean } {
  const sbs = [decodeSuperblock(bytes.subarray(0, SUPERBLOCK_SIZE)), decodeSuperblock(bytes.subarray(SUPERBLOCK_SIZE, REGION_START))];
  const sb = sbs.filter((s) => s !== undefined).sort((x, y) => y.generation - x.generation)[0];
  if (!sb) throw new Error('no superblock survived: the model is wrong');
  const written = (at: number) => {
    const i = b.log.findIndex((w) => at >= w.offset && at < w.offset + w.data.length);
    return i >= 0 && (i < k || (i === k && at < b.log[k].offset + j));
  };
  // A record is whole once its prefix and STU bytes are down (its padding to 8 is never read).
  const whole = (r: Rec) => written(REGION_START + r.offset + r.length - 1) && written(REGION_START + r.offset);
  const torn = b.last.find((r) => !whole(r));
  const keep = [...b.live, ...b.last.filter((r) => !torn || r.recSeq < torn.recSeq)].filter((r) => r.recSeq >= sb.tailRecSeq);
  const prefixWritten = torn !== undefined && written(REGION_START + torn.offset + PREFIX_SIZE - 1);
  return { keep, torn, prefixWritten };
}

const summary = (rs: Rec[]) => rs.map((r) => `${r.recSeq}:${r.seq}`).join(',');

interface Opener {
  open(bytes: Uint8Array): Promise<Ring>;
  reopen(): Promise<Ring>;
}

function memoryOpener(b: Built): Opener {
  let devices: Record<Section, LoggingDevice>;
  return {
    async open(bytes) {
      devices = { meta: new LoggingDevice(SIZES.meta), data: new LoggingDevice(SIZES.data) };
      devices[b.section].bytes = bytes;
      devices[OTHER[b.section]].bytes = b.other.slice();
      return openRing(devices, { fsync: { mode: 'none' } });
    },
    reopen: () => openRing(devices, { fsync: { mode: 'none' } }),
  };
}

/** Checks one torn state: opens and compares; then, if `andAppend`, appends and reopens. */
async function checkTorn(b: Built, opener: Opener, k: number, j: number, fill: Fill, andAppend = true): Promise<void> {
  const bytes = tornBytes(b, k, j, fill);
  const want = expected(b, bytes, k, j);
  const at = `${fill} tear in write ${k} (${b.log[k].data.length} bytes at ${b.log[k].offset}) after ${j} bytes`;
  let ring = await opener.open(bytes);
  expect(ring.report.corrupt, `${at}: nothing corrupt`).toEqual([]);
  const got = await records(ring, b.section, true);
  expect(summary(got), `${at}: surviving records`).toBe(summary(want.keep));
  if (b.section === 'data') expect(summary(await records(ring, 'data', false)), `${at}: headers-only scan`).toBe(summary(want.keep));
  expect(ring.report.tornBytes > 0, `${at}: tornBytes ${ring.report.tornBytes}`).toBe(want.prefixWritten);
  if (want.torn) {
    const r = await ring.read({ section: b.section, recSeq: want.torn.recSeq, offset: want.torn.offset });
    expect(r.ok, `${at}: the torn record is not served`).toBe(false);
  }
  if (!andAppend) {
    await ring.close();
    return;
  }
  const evicted = new Set<number>();
  ring.onEvict((locs) => locs.forEach((l) => evicted.add(l.recSeq)));
  await ring.append(stuOf(b.nextSeq, b.section === 'data', 300));
  await ring.close();
  ring = await opener.reopen();
  expect(ring.report.corrupt, `${at}: nothing corrupt after a new append`).toEqual([]);
  const after = await records(ring, b.section, true);
  const kept = want.keep.filter((r) => !evicted.has(r.recSeq)).map((r) => r.seq);
  expect(after.map((r) => r.seq).join(), `${at}: records after a new append`).toBe([...kept, b.nextSeq].join());
  await ring.close();
}

/** Tear points (write, byte, landmark) in the logged writes: every `stride`-th byte and every landmark. */
function* tearPoints(b: Built, stride: number): Generator<[number, number, boolean]> {
  for (let k = 0; k < b.log.length; k++) {
    const w = b.log[k];
    // Landmarks: either side of each record's start, prefix end, STU header end and last byte.
    const marks = new Set<number>([0, 1, w.data.length - 1]);
    for (const r of b.last) {
      const start = REGION_START + r.offset - w.offset;
      for (const d of [0, PREFIX_SIZE, PREFIX_SIZE + 512, r.length]) for (const e of [-2, -1, 0, 1]) marks.add(start + d + e);
    }
    for (let j = 0; j < w.data.length; j++) if (j % stride === 0 || marks.has(j)) yield [k, j, marks.has(j)];
  }
}

const SCENARIOS: Scenario[] = [
  { name: 'metadata, first lap, one batched write', section: 'meta', body: (s) => bodySizeOf(s, 0, 1500), before: 6 },
  { name: 'metadata, after wraps, evicting', section: 'meta', body: (s) => bodySizeOf(s, 0, 1500), before: 70 },
  { name: 'data, after wraps, evicting, bodies of 200 B to 3 KiB', section: 'data', body: (s) => bodySizeOf(s, 200, 3000), before: 40 },
  { name: 'data, last records wrap around the end, one write each', section: 'data', body: (s) => bodySizeOf(s, 600, 1400), before: 40, wrapLast: true, sequential: true },
  // Same-size records land at the same offsets lap after lap: a tear right after a new prefix leaves the
  // previous lap's intact STU behind it, which must not come back under the new record's number.
  { name: 'data, constant size, stale previous lap behind every prefix', section: 'data', body: () => 1000, before: 60 },
];

describe('torn writes after the last checkpoint (memory device, every byte)', () => {
  for (const sc of SCENARIOS) {
    it(sc.name, async () => {
      const b = await build(sc);
      const bytesWritten = b.log.reduce((n, w) => n + w.data.length, 0);
      expect(bytesWritten).toBeGreaterThan(LAST * 512);
      if (sc.before >= 40) expect(b.live[0].recSeq, 'the ring has wrapped and evicted').toBeGreaterThan(1);
      if (sc.wrapLast) expect(b.last[LAST - 1].offset, 'the last records wrap around the end').toBeLessThan(b.last[0].offset);
      const opener = memoryOpener(b);
      // Every byte with the rest of the write left as it was, and zeroed; every third byte with garbage.
      // The append-and-reopen step runs at landmarks and every 16th byte.
      for (const [fill, stride] of [['stale', 1], ['zero', 1], ['garbage', 3]] as const) {
        for (const [k, j, mark] of tearPoints(b, stride)) await checkTorn(b, opener, k, j, fill, mark || j % 16 === 0);
      }
    });
  }
});

describe('torn writes after the last checkpoint (raw files, a sample)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stateos-torn-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('data section after wraps: record boundaries, header edges and random bytes', async () => {
    const b = await build(SCENARIOS[2]);
    const paths = ringPaths(dir);
    const opts = { fsync: { mode: 'none' } as const, metaBytes: SIZES.meta, dataBytes: SIZES.data };
    const writeFile = async (path: string, bytes: Uint8Array) => {
      const fh = await open(path, 'w');
      await fh.write(bytes, 0, bytes.length, 0);
      await fh.close();
    };
    const opener: Opener = {
      async open(bytes) {
        await writeFile(paths[b.section], bytes);
        await writeFile(paths[OTHER[b.section]], b.other);
        return openFileRing(dir, opts);
      },
      reopen: () => openFileRing(dir, opts),
    };
    // Tear points: around every record's start, prefix end and header end, plus random bytes.
    const points = new Set<string>();
    for (let k = 0; k < b.log.length; k++) {
      const w = b.log[k];
      points.add(`${k}:0`);
      for (const r of b.last) {
        const start = REGION_START + r.offset - w.offset;
        for (const d of [-1, 0, 1, 19, 20, 23, 24, 25, 535, 536, 537, r.length - 1, r.length]) {
          if (start + d >= 0 && start + d < w.data.length) points.add(`${k}:${start + d}`);
        }
      }
      for (let n = 0; n < 40; n++) points.add(`${k}:${bodySizeOf(k * 1000 + n, 0, w.data.length - 1)}`);
    }
    for (const p of points) {
      const [k, j] = p.split(':').map(Number);
      await checkTorn(b, opener, k, j, k % 2 === 0 ? 'zero' : 'stale');
    }
  });
});
