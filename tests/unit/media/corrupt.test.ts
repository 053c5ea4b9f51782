// Files ingest must refuse with a typed error, writing no metadata STU: truncated, random, text, damaged,
// unsupported. And damaged bytes anywhere never crash ingest with anything but a MediaError.
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesSource } from '../../../shared/media/byte-source.ts';
import { MediaError } from '../../../shared/media/errors.ts';
import { ingest } from '../../../shared/media/ingest.ts';
import { newGuid } from '../../../shared/stu/guid.ts';
import { Origin } from '../../../shared/stu/origin.ts';
import { ffmpeg, MemorySink, SRC, TempDir } from './helpers.ts';

const tmp = new TempDir();
const files: Record<string, Uint8Array> = {};

beforeAll(() => {
  const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '30'];
  const make = (name: string, args: string[]) => {
    ffmpeg([...args, tmp.file(name)]);
    files[name] = new Uint8Array(readFileSync(tmp.file(name)));
  };
  make('a.mp4', [...SRC.video(2), ...SRC.audio(2), ...X264, '-c:a', 'aac']);
  make('fast.mp4', [...SRC.video(2), ...SRC.audio(2), ...X264, '-c:a', 'aac', '-movflags', '+faststart']);
  make('frag.mp4', [...SRC.video(3), ...SRC.audio(3), ...X264, '-c:a', 'aac', '-movflags', 'frag_keyframe+empty_moov']);
  make('a.webm', [...SRC.video(2), ...SRC.audio(2), '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus']);
  make('mpeg4.mp4', [...SRC.video(1), '-c:v', 'mpeg4']);
  make('pcm.mov', [...SRC.video(1), ...SRC.audio(1), ...X264, '-c:a', 'pcm_s16le']);
  make('a.wav', [...SRC.audio(1)]);
});
afterAll(() => tmp.cleanup());

async function attempt(bytes: Uint8Array, sink = new MemorySink()) {
  try {
    await ingest(bytesSource(bytes), { origin: new Origin(newGuid()), ring: sink, title: 'bad' });
    return { error: undefined, sink };
  } catch (e) {
    return { error: e, sink };
  }
}

async function expectRefused(bytes: Uint8Array, code: string, message?: RegExp) {
  const { error, sink } = await attempt(bytes);
  expect(error).toBeInstanceOf(MediaError);
  expect((error as MediaError).code).toBe(code);
  if (message) expect((error as MediaError).message).toMatch(message);
  expect(sink.meta()).toEqual([]);
  return sink;
}

describe('ingest refuses bad input with a typed error and no metadata STU', () => {
  it('an MP4 truncated mid-mdat (moov at the end: the index is lost)', async () => {
    const b = files['a.mp4'];
    await expectRefused(b.subarray(0, Math.floor(b.length * 0.6)), 'TRUNCATED', /mdat/);
  });

  it('an MP4 cut right after its mdat (the moov never written)', async () => {
    const b = files['a.mp4'];
    const moov = findBox(b, 'moov');
    await expectRefused(b.subarray(0, moov), 'TRUNCATED', /no moov/);
  });

  it('a faststart MP4 truncated mid-mdat: found before any frame is written', async () => {
    const b = files['fast.mp4'];
    const sink = await expectRefused(b.subarray(0, Math.floor(b.length * 0.7)), 'TRUNCATED');
    expect(sink.stus.length).toBe(0);
  });

  it('a fragmented MP4 truncated mid-fragment: frames so far are orphans, no object', async () => {
    const b = files['frag.mp4'];
    const sink = await expectRefused(b.subarray(0, Math.floor(b.length * 0.8)), 'TRUNCATED');
    expect(sink.stus.length).toBeGreaterThan(0);
  });

  it('a WebM truncated mid-cluster', async () => {
    const b = files['a.webm'];
    await expectRefused(b.subarray(0, Math.floor(b.length * 0.5)), 'TRUNCATED', /Segment/);
  });

  it('random bytes', async () => {
    const b = new Uint8Array(100_000);
    for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
    await expectRefused(b, 'NOT_MEDIA', /not a media file/);
  });

  it('a text file', async () => {
    await expectRefused(new TextEncoder().encode('Hello, this is not a movie.\n'.repeat(100)), 'NOT_MEDIA');
  });

  it('an empty file and a tiny one', async () => {
    await expectRefused(new Uint8Array(0), 'NOT_MEDIA');
    await expectRefused(new Uint8Array([0, 0, 0]), 'NOT_MEDIA');
  });

  it('an unsupported codec (MPEG-4 Part 2) names it', async () => {
    await expectRefused(files['mpeg4.mp4'], 'UNSUPPORTED', /unsupported codec mp4v/);
  });

  it('PCM audio in MOV is unsupported', async () => {
    await expectRefused(files['pcm.mov'], 'UNSUPPORTED', /unsupported codec/);
  });

  it('a WAV file is recognised and refused', async () => {
    await expectRefused(files['a.wav'], 'UNSUPPORTED', /RIFF/);
  });

  it('a damaged moov is CORRUPT, not a crash', async () => {
    const b = files['fast.mp4'].slice();
    const at = findBox(b, 'stsz');
    b.fill(0xff, at + 8, at + 40); // sample count and first sizes: absurd
    const { error, sink } = await attempt(b);
    expect(error).toBeInstanceOf(MediaError);
    expect(['CORRUPT', 'TRUNCATED', 'TOO_LARGE']).toContain((error as MediaError).code);
    expect(sink.meta()).toEqual([]);
  });

  it('a sink that fails: SINK error, no metadata', async () => {
    const sink = new MemorySink();
    sink.fail = (n) => n === 20;
    const { error } = await attempt(files['a.mp4'], sink);
    expect((error as MediaError).code).toBe('SINK');
    expect(sink.meta()).toEqual([]);
  });

  it('an aborted ingest', async () => {
    const ac = new AbortController();
    ac.abort();
    const sink = new MemorySink();
    await expect(ingest(bytesSource(files['a.mp4']), { origin: new Origin(newGuid()), ring: sink, signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(sink.meta()).toEqual([]);
  });
});

describe('damaged bytes anywhere', () => {
  for (const name of ['fast.mp4', 'frag.mp4', 'a.webm']) {
    it(`${name}: ingest either succeeds or throws a MediaError`, async () => {
      const base = files[name];
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
          async (edits) => {
            const b = base.slice();
            for (const [at, v] of edits) b[at] = v;
            const { error, sink } = await attempt(b);
            if (error !== undefined) {
              expect(error).toBeInstanceOf(MediaError);
              expect(sink.meta()).toEqual([]);
            } else expect(sink.meta().length).toBe(1);
          },
        ),
        { numRuns: 40, seed: 7 },
      );
    });
  }

  it('header bytes damaged (first 4 KiB) in every way: only MediaErrors', async () => {
    const base = files['fast.mp4'];
    for (let i = 0; i < 300; i++) {
      const b = base.slice();
      const at = (i * 37) % 4096;
      b[at] ^= 1 << i % 8;
      const { error } = await attempt(b);
      if (error !== undefined) expect(error).toBeInstanceOf(MediaError);
    }
  });
});

describe('sizes mp4box would trust (found by npm run fuzz)', () => {
  it('sample groups are not parsed: an sgpd asking for 2 GiB entries, 2^32 of them, is ignored', async () => {
    const b = files['fast.mp4'].slice();
    const at = findBox(b, 'sgpd');
    const v = new DataView(b.buffer, b.byteOffset);
    b[at + 8] = 1; // version 1: default_length, then entry_count
    v.setUint32(at + 16, 0x7fff_ffff);
    v.setUint32(at + 20, 0xffff_ffff);
    const before = process.memoryUsage().arrayBuffers;
    const { error, sink } = await attempt(b);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(error).toBeUndefined();
    expect(sink.meta().length).toBe(1);
  });

  it('an esds descriptor claiming 256 MiB is CORRUPT before anything that size is allocated', async () => {
    const b = files['fast.mp4'].slice();
    const at = findBox(b, 'esds');
    // the DecoderSpecificInfo descriptor: tag 5, then its size in up to four 7-bit bytes
    let dsi = at + 12;
    while (dsi < at + 64 && !(b[dsi] === 0x05 && (b[dsi + 1] & 0x80) !== 0)) dsi++;
    expect(dsi).toBeLessThan(at + 64);
    b.set([0xff, 0xff, 0xff, 0x7f], dsi + 1);
    const before = process.memoryUsage().arrayBuffers;
    const { error, sink } = await attempt(b);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe('CORRUPT');
    expect((error as MediaError).message).toMatch(/asks for \d+ bytes/); // refused before the allocation, not by it
    expect(sink.meta()).toEqual([]);
  });

  it('a trun without per-sample fields claiming millions of samples is CORRUPT at once, none listed', async () => {
    const b = files['frag.mp4'].slice();
    const at = findBox(b, 'trun');
    const v = new DataView(b.buffer, b.byteOffset);
    v.setUint32(at + 8, 0); // version 0, no flags: every sample takes the defaults, 8 bytes of box for any count
    v.setUint32(at + 12, 5_000_000);
    const t0 = performance.now();
    const { error, sink } = await attempt(b);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).message).toMatch(/more samples than the file has bytes/);
    expect(sink.meta()).toEqual([]);
  });
});

function findBox(b: Uint8Array, type: string): number {
  const t = [...type].map((c) => c.charCodeAt(0));
  for (let i = 4; i < b.length - 4; i++) if (b[i] === t[0] && b[i + 1] === t[1] && b[i + 2] === t[2] && b[i + 3] === t[3]) return i - 4;
  throw new Error(`no ${type}`);
}

// Keep a copy of a fixture for debugging when a property fails.
export const dump = (name: string, b: Uint8Array) => writeFileSync(tmp.file(name), b);
