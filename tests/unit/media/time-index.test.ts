// The time index: coverage queries on real ingests into the memory ring, rebuilt from a ring scan at boot,
// following evictions, ignoring orphans; and the query rules on synthetic frames.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesSource } from '../../../shared/media/byte-source.ts';
import { decodeFrameExt, encodeFrameExt, type FrameFields } from '../../../shared/media/frame.ts';
import { ingest, type IngestResult } from '../../../shared/media/ingest.ts';
import type { MediaMetadata } from '../../../shared/media/metadata.ts';
import { TimeIndex, toTicks } from '../../../shared/media/time-index.ts';
import { memoryDevices, openMemoryRing } from '../../../shared/ring/memory.ts';
import type { Loc, Ring } from '../../../shared/ring/types.ts';
import { newGuid } from '../../../shared/stu/guid.ts';
import { Origin } from '../../../shared/stu/origin.ts';
import { ffmpeg, SRC, TempDir } from './helpers.ts';

const tmp = new TempDir();
let media: Uint8Array;
let fragmented: Uint8Array;
beforeAll(() => {
  const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0'];
  ffmpeg([...SRC.video(6, '320x180'), ...SRC.audio(6), ...X264, '-c:a', 'aac', tmp.file('six.mp4')]);
  ffmpeg([...SRC.video(4, '320x180'), ...SRC.audio(4), ...X264, '-c:a', 'aac', '-movflags', 'frag_keyframe+empty_moov', tmp.file('frag.mp4')]);
  media = new Uint8Array(readFileSync(tmp.file('six.mp4')));
  fragmented = new Uint8Array(readFileSync(tmp.file('frag.mp4')));
});
afterAll(() => tmp.cleanup());

async function ingestInto(ring: Ring, index: TimeIndex, bytes = media): Promise<IngestResult> {
  return ingest(bytesSource(bytes), { origin: new Origin(newGuid()), ring, index, title: 'six' });
}

async function scanInto(ring: Ring, index: TimeIndex): Promise<void> {
  for (const section of ['meta', 'data'] as const) {
    for await (const e of ring.scan(section)) {
      const r = index.addStu(e);
      expect(r.ok).toBe(true);
    }
  }
}

describe('time index over a real ingest', () => {
  let ring: Ring;
  let devices: ReturnType<typeof memoryDevices>;
  let index: TimeIndex;
  let result: IngestResult;

  beforeAll(async () => {
    devices = memoryDevices(1 << 20, 64 << 20);
    ring = await openMemoryRing(devices);
    index = new TimeIndex();
    index.attach(ring);
    result = await ingestInto(ring, index);
    await ring.flush();
  });
  afterAll(() => ring.close());

  it('lists the media once its metadata STU is stored', () => {
    expect(index.list().map((m) => m.id)).toEqual([result.id]);
    expect(index.get(result.id)?.title).toBe('six');
    expect(index.orphans()).toEqual([]);
    expect(index.stats().frames).toBe(result.frames);
  });

  it('video: from the key frame at or before t1 to the last frame presented before t2, in decode order', async () => {
    const ts = result.tracks[0].timescale;
    const c = index.cover(result.id, 0, 2.5, 3.5)!;
    expect(c.complete).toBe(true);
    expect(c.gaps).toEqual([]);
    const f = c.frames;
    expect(f[0].key).toBe(true);
    expect(f[0].pts).toBeLessThanOrEqual(2.5 * ts);
    expect(f[0].pts).toBe(2 * ts); // a key frame every second
    for (let i = 1; i < f.length; i++) {
      expect(f[i].dts).toBeGreaterThan(f[i - 1].dts);
      expect(f[i].sample).toBe(f[i - 1].sample + 1);
    }
    const presented = f.map((x) => x.pts).filter((p) => p >= 2.5 * ts && p < 3.5 * ts);
    expect(presented.length).toBe(30);
    expect(Math.max(...f.map((x) => x.pts))).toBeLessThan(3.5 * ts + 3 * 512); // reordering tail only
    // The STUs are where the index says.
    for (const ref of [f[0], f[f.length - 1]]) {
      const r = await ring.read(ref.loc);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const d = decodeFrameExt(r.value.header.ext);
      expect(d.ok && d.value.sample).toBe(ref.sample);
      expect(r.value.body.length).toBe(ref.size);
    }
  });

  it('audio: from the frame playing at t1', () => {
    const ts = result.tracks[1].timescale;
    const c = index.cover(result.id, 1, 2.5, 3.5)!;
    expect(c.complete).toBe(true);
    expect(c.frames[0].pts).toBeLessThanOrEqual(2.5 * ts);
    expect(c.frames[0].pts + c.frames[0].duration).toBeGreaterThan(2.5 * ts);
    const last = c.frames[c.frames.length - 1];
    expect(last.pts).toBeLessThan(3.5 * ts);
    expect(last.pts + last.duration).toBeGreaterThanOrEqual(3.5 * ts);
  });

  it('takes seconds, milliseconds or ticks', () => {
    const ts = result.tracks[0].timescale;
    const a = index.cover(result.id, 0, 1.2, 4.05)!;
    const b = index.cover(result.id, 0, 1200, 4050, 'ms')!;
    const c = index.cover(result.id, 0, 1.2 * ts, 4.05 * ts, 'ticks')!;
    expect(b.frames.map((x) => x.sample)).toEqual(a.frames.map((x) => x.sample));
    expect(c.frames.map((x) => x.sample)).toEqual(a.frames.map((x) => x.sample));
    expect(toTicks(0.1, 's', 48000)).toBe(4800);
    expect(toTicks(33.4, 'ms', 1000, Math.floor)).toBe(33);
  });

  it('covers the whole media, and nothing outside it', () => {
    const all = index.cover(result.id, 0, 0, 1e9)!;
    expect(all.frames.length).toBe(result.tracks[0].frames);
    expect(all.complete).toBe(true);
    expect(index.cover(result.id, 0, 100, 200)!.frames).toEqual([]);
    expect(index.cover(result.id, 7, 0, 1)).toBeUndefined();
    expect(index.cover(newGuid(), 0, 0, 1)).toBeUndefined();
    expect(index.seekPoint(result.id, 0, 4.2)?.pts).toBe(4 * result.tracks[0].timescale);
  });

  it('is rebuilt the same from a ring scan at boot', async () => {
    const again = await openMemoryRing(devices);
    const booted = new TimeIndex();
    await scanInto(again, booted);
    await again.close();
    expect(booted.list().map((m) => m.id)).toEqual([result.id]);
    for (const [s, t1, t2] of [
      [0, 0.5, 1.7],
      [1, 3, 5.5],
    ] as const) {
      const a = index.cover(result.id, s, t1, t2)!;
      const b = booted.cover(result.id, s, t1, t2)!;
      expect(b.frames.map((x) => [x.sample, x.loc.recSeq])).toEqual(a.frames.map((x) => [x.sample, x.loc.recSeq]));
    }
  });
});

describe('time index and eviction', () => {
  it('drops evicted frames and reports the gaps; keeps serving what is left', async () => {
    const ring = await openMemoryRing(memoryDevices(1 << 20, Math.floor(media.length * 0.6)));
    const index = new TimeIndex();
    index.attach(ring);
    const r = await ingestInto(ring, index);
    await ring.flush();
    const s = ring.stats();
    expect(s.data.evicted).toBeGreaterThan(0);
    expect(index.stats().frames).toBe(s.data.records);

    const early = index.cover(r.id, 0, 0, 1)!;
    expect(early.complete).toBe(false);
    expect(early.gaps[0].fromSample).toBe(0);
    const late = index.cover(r.id, 0, 5, 6)!;
    expect(late.complete).toBe(true);
    for (const f of late.frames) expect((await ring.read(f.loc)).ok).toBe(true);
    await ring.close();
  });

  it('evict() by recSeq ignores unknown and metadata Locs', () => {
    const index = new TimeIndex();
    expect(index.evict([{ section: 'data', recSeq: 99, offset: 0 }, { section: 'meta', recSeq: 1, offset: 0 }])).toBe(0);
  });
});

describe('orphans', () => {
  it('frames of an object without a metadata STU are not listed', async () => {
    const ring = await openMemoryRing(memoryDevices(1 << 20, 64 << 20));
    const index = new TimeIndex();
    const cut = fragmented.subarray(0, Math.floor(fragmented.length * 0.8));
    await expect(ingestInto(ring, index, cut)).rejects.toMatchObject({ code: 'TRUNCATED' });
    expect(index.list()).toEqual([]);
    const orphans = index.orphans();
    expect(orphans.length).toBe(1);
    expect(orphans[0].frames).toBeGreaterThan(10);
    expect(index.cover(orphans[0].id, 0, 0, 1)).toBeUndefined();
    expect(index.held(orphans[0].id, 0)).toBe(0);
    // A scan at boot finds the same: frames, no metadata.
    const booted = new TimeIndex();
    await scanInto(ring, booted);
    expect(booted.list()).toEqual([]);
    expect(booted.orphans()[0].id).toBe(orphans[0].id);
    await ring.close();
  });
});

describe('query rules on synthetic frames', () => {
  // 3 GOPs of 6 frames, decode order I P B B P B ..., presentation order by pts; timescale 600, 100 per frame.
  const id = newGuid();
  const ts = 600;
  const gop = [0, 3, 1, 2, 5, 4]; // presentation slot of each decode position
  const frames: FrameFields[] = [];
  for (let g = 0; g < 3; g++) {
    gop.forEach((slot, k) => {
      const n = g * 6 + k;
      frames.push({ stream: 0, timescale: ts, dts: n * 100 - 100, pts: (g * 6 + slot) * 100, duration: 100, key: k === 0, sample: n });
    });
  }
  const meta: MediaMetadata = {
    id,
    title: 'synthetic',
    duration: 1.8,
    container: 'mp4',
    size: 0,
    frames: 18,
    bytes: 0,
    tracks: [{ index: 0, kind: 'video', codec: 'avc1.640028', timescale: ts, frames: 18, start: 0, duration: 1800 }],
  };
  const loc = (n: number): Loc => ({ section: 'data', recSeq: 1000 + n, offset: n * 4096 });
  const build = (skip: number[] = []) => {
    const index = new TimeIndex();
    // Out of order on purpose: arrival order must not matter.
    for (const f of [...frames].reverse()) if (!skip.includes(f.sample)) index.addFrame(id, f, loc(f.sample), 10);
    index.addMedia(meta);
    return index;
  };

  it('starts at the GOP key frame and ends with the reordered tail', () => {
    const c = build().cover(id, 0, 800, 1000, 'ticks')!;
    // Key frame of GOP 1 (pts 600) ... up to decode position 10 (pts 900 is at decode 9, pts 1000 excluded).
    expect(c.frames[0]).toMatchObject({ sample: 6, key: true, pts: 600 });
    const pts = c.frames.map((f) => f.pts);
    expect(pts).toContain(800);
    expect(pts).toContain(900);
    expect(pts).not.toContain(1000);
    expect(c.complete).toBe(true);
  });

  it('a missing frame inside the range is a gap with its span', () => {
    const c = build([8]).cover(id, 0, 600, 1200, 'ticks')!;
    expect(c.complete).toBe(false);
    expect(c.gaps).toEqual([{ fromSample: 8, toSample: 9, start: 700, end: 800 }]);
  });

  it('a missing key frame: the start is reported missing, not patched from an earlier GOP', () => {
    const c = build([6]).cover(id, 0, 700, 800, 'ticks')!;
    expect(c.frames).toEqual([]);
    expect(c.gaps).toEqual([{ fromSample: 6, toSample: 9, start: 700, end: 800 }]);
    // A longer range resumes at the next key frame we hold.
    const d = build([6]).cover(id, 0, 700, 1300, 'ticks')!;
    expect(d.frames[0]).toMatchObject({ sample: 12, key: true });
    expect(d.gaps).toEqual([{ fromSample: 6, toSample: 12, start: 700, end: 1100 }]);
  });

  it('a hole after t1 does not hide the key frame before it', () => {
    const c = build([9]).cover(id, 0, 700, 1100, 'ticks')!;
    expect(c.frames[0]).toMatchObject({ sample: 6, key: true });
    expect(c.gaps).toEqual([{ fromSample: 9, toSample: 10, start: 800, end: 900 }]);
  });

  it('a missing tail is reported up to the end of the stream', () => {
    const c = build([15, 16, 17]).cover(id, 0, 1500, 2000, 'ticks')!;
    expect(c.complete).toBe(false);
    expect(c.gaps.at(-1)).toEqual({ fromSample: 15, toSample: 18, start: 1400, end: 1800 });
  });

  it('nothing held at all', () => {
    const index = new TimeIndex();
    index.addMedia(meta);
    expect(index.cover(id, 0, 0, 1)).toEqual({ timescale: ts, frames: [], gaps: [{ fromSample: 0, toSample: 18, start: 0, end: 1800 }], complete: false });
  });

  it('a frame stored twice keeps the newer copy; evicting the older one changes nothing', () => {
    const index = build();
    index.addFrame(id, frames[3], { section: 'data', recSeq: 5000, offset: 0 }, 10);
    expect(index.evict([loc(3)])).toBe(0);
    expect(index.cover(id, 0, 0, 600, 'ticks')!.frames.find((f) => f.sample === 3)?.loc.recSeq).toBe(5000);
    expect(index.evict([{ section: 'data', recSeq: 5000, offset: 0 }])).toBe(1);
    expect(index.cover(id, 0, 0, 600, 'ticks')!.complete).toBe(false);
  });

  it('addStu refuses bad frame areas and bad metadata with typed errors', () => {
    const index = new TimeIndex();
    const ext = encodeFrameExt(frames[0]);
    ext[0] = 9;
    const header = { flags: 1, type: 0x101, object: id, ts: 1n, prevTs: 0n, origin: id, seq: 1, user: id, bodySize: 1, bodyCrc: 0, ext };
    const r = index.addStu({ loc: loc(0), header });
    expect(!r.ok && r.error.code).toBe('BAD_FRAME');
    const m = index.addStu({ loc: { section: 'meta', recSeq: 1, offset: 0 }, header: { ...header, flags: 0, type: 0x100 }, body: new TextEncoder().encode('<x/>') });
    expect(!m.ok && m.error.code).toBe('BAD_METADATA');
    expect(index.addStu({ loc: loc(0), header: { ...header, type: 0x999 } })).toEqual({ ok: true, value: 'ignored' });
  });

  it('lazy compaction keeps queries right after many evictions', () => {
    const index = new TimeIndex();
    const many: FrameFields[] = Array.from({ length: 5000 }, (_, n) => ({ stream: 0, timescale: 1000, dts: n * 10, pts: n * 10, duration: 10, key: n % 50 === 0, sample: n }));
    for (const f of many) index.addFrame(id, f, loc(f.sample), 1);
    index.addMedia({ ...meta, tracks: [{ ...meta.tracks[0], timescale: 1000, frames: 5000, duration: 50000 }] });
    expect(index.evict(many.slice(0, 3000).map((f) => loc(f.sample)))).toBe(3000);
    const c = index.cover(id, 0, 40, 41)!;
    expect(c.frames[0].sample).toBe(4000);
    expect(c.complete).toBe(true);
    expect(index.cover(id, 0, 0, 1)!.gaps[0]).toMatchObject({ fromSample: 0, toSample: 3000 });
  });
});
