// Bit rot inside the checkpoint: every single-bit flip in a checkpointed record's 512-byte STU header (4096
// flips), and in its 24-byte record prefix, is caught. The record is reported corrupt at its offset (or, for
// a damaged prefix, skipped as part of a reported region) and never served by read() or scan(); its
// neighbours are intact. Records recovered past the checkpoint join it when a writable open finds them, so
// damage to them later is reported too, instead of cutting them and everything after them as a torn tail.
import { describe, expect, it } from 'vitest';
import { makeStu } from '../../../shared/ring/acceptance.ts';
import { memoryDevices, openMemoryRing } from '../../../shared/ring/memory.ts';
import { PREFIX_SIZE, REGION_START } from '../../../shared/ring/record.ts';
import type { Loc, Ring, Section } from '../../../shared/ring/types.ts';
import { HEADER_SIZE, Off, reencodeStu } from '../../../shared/stu/header.ts';

const COUNT = 8;
const TARGET = 3;

async function setup() {
  const devices = memoryDevices(REGION_START + 32 * 1024, REGION_START + 64 * 1024);
  const ring = await openMemoryRing(devices, { fsync: { mode: 'always' } });
  const stus: Record<Section, Uint8Array[]> = { meta: [], data: [] };
  const locs: Record<Section, Loc[]> = { meta: [], data: [] };
  for (let i = 1; i <= 2 * COUNT; i++) {
    const data = i % 2 === 0;
    const stu = makeStu(i, data, 100 + i * 97);
    const loc = await ring.append(stu);
    stus[loc.section].push(stu);
    locs[loc.section].push(loc);
  }
  await ring.close();
  return { devices, stus, locs };
}

const readSeq = (stu: Uint8Array) => new DataView(stu.buffer, stu.byteOffset).getUint32(Off.seq, true);

/** The section's records as read back, each compared byte for byte with what was appended. */
async function survivors(ring: Ring, section: Section, stus: Uint8Array[], bodies: boolean): Promise<number[]> {
  const out: number[] = [];
  for await (const e of ring.scan(section, { bodies })) {
    const i = stus.findIndex((s) => readSeq(s) === e.header.seq);
    expect(i, `record ${e.loc.recSeq} is one of the STUs appended`).toBeGreaterThanOrEqual(0);
    // Headers-only: re-encode the header with the body it was appended with.
    const body = bodies ? e.body! : stus[i].subarray(HEADER_SIZE);
    expect(Buffer.compare(reencodeStu({ header: e.header, body }), stus[i]), `record ${e.loc.recSeq} byte for byte`).toBe(0);
    out.push(i);
  }
  return out;
}

describe('single-bit flips inside the checkpoint', () => {
  for (const section of ['meta', 'data'] as const) {
    it(`every bit of a ${section} record's STU header and record prefix is caught`, async () => {
      const { devices, stus, locs } = await setup();
      const target = locs[section][TARGET];
      const bytes = devices[section].bytes;
      const start = REGION_START + target.offset;
      const others = stus[section].map((_, i) => i).filter((i) => i !== TARGET);
      let flips = 0;
      for (let byte = 0; byte < PREFIX_SIZE + HEADER_SIZE; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          bytes[start + byte] ^= 1 << bit;
          const what = `${section} flip of bit ${bit} in byte ${byte} of the record`;
          const ring = await openMemoryRing(devices, { fsync: { mode: 'none' } });
          try {
            const c = ring.report.corrupt;
            expect(c.length, `${what}: one region reported`).toBe(1);
            expect(c[0].section, what).toBe(section);
            expect(c[0].offset, `${what}: reported at the record's offset`).toBe(target.offset);
            const r = await ring.read(target);
            expect(r.ok, `${what}: not served`).toBe(false);
            expect(await survivors(ring, section, stus[section], true), `${what}: scan with bodies`).toEqual(others);
            if (section === 'data') expect(await survivors(ring, section, stus[section], false), `${what}: headers-only scan`).toEqual(others);
            const next = await ring.read(locs[section][TARGET + 1]);
            expect(next.ok && Buffer.compare(reencodeStu(next.value), stus[section][TARGET + 1]) === 0, `${what}: the next record is intact`).toBe(true);
          } finally {
            await ring.close();
            bytes[start + byte] ^= 1 << bit;
          }
          if (byte >= PREFIX_SIZE) flips++;
        }
      }
      expect(flips).toBe(4096);
    });
  }
});

describe('damage to records recovered at open', () => {
  it('is reported as corruption once an open has recovered them, not cut as a torn tail', async () => {
    const devices = memoryDevices(REGION_START + 32 * 1024, REGION_START + 64 * 1024);
    let ring = await openMemoryRing(devices, { fsync: { mode: 'none' } });
    const locs: Loc[] = [];
    for (let i = 1; i <= 5; i++) locs.push(await ring.append(makeStu(i, false, 400)));
    await ring.flush();
    for (let i = 6; i <= 8; i++) locs.push(await ring.append(makeStu(i, false, 400)));
    // A crash: the last three are written but past the checkpoint. Opening recovers them, and covers them.
    ring = await openMemoryRing(devices, { fsync: { mode: 'none' } });
    expect(ring.report.recovered).toBe(3);
    await ring.close();
    devices.meta.bytes[REGION_START + locs[6].offset + PREFIX_SIZE + HEADER_SIZE + 10] ^= 4;
    ring = await openMemoryRing(devices, { fsync: { mode: 'none' } });
    expect(ring.report.corrupt.map((c) => c.offset)).toEqual([locs[6].offset]);
    expect(ring.report.tornBytes).toBe(0);
    const seqs: number[] = [];
    for await (const e of ring.scan('meta')) seqs.push(e.header.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 8]);
    await ring.close();
  });
});
