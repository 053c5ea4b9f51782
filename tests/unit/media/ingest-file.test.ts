// Ingest from disk (node-peer/media): FileSource, ingestFile, progress, and memory that stays flat while a
// larger file streams through (the multi-GB run is bench/ingest.ts with STATEOS_BENCH_INGEST_MB).
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource } from '../../../node-peer/media/file-source.ts';
import { ingestFile, ingestSummary } from '../../../node-peer/media/ingest-file.ts';
import type { IngestProgress, StuSink } from '../../../shared/media/ingest.ts';
import { newGuid } from '../../../shared/stu/guid.ts';
import { Origin } from '../../../shared/stu/origin.ts';
import { ffmpeg, MemorySink, probeStreams, SRC, TempDir } from './helpers.ts';

const tmp = new TempDir();
afterAll(() => tmp.cleanup());

describe('ingestFile', () => {
  const file = tmp.file('My Holiday.mp4');
  beforeAll(() => ffmpeg([...SRC.video(2), ...SRC.audio(2), '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', file]));

  it('titles the media after the file, reports progress to 100%', async () => {
    const sink = new MemorySink();
    const seen: IngestProgress[] = [];
    const r = await ingestFile(file, { origin: new Origin(newGuid()), ring: sink, onProgress: (p) => seen.push(p) });
    expect(r.title).toBe('My Holiday');
    expect(seen.at(-1)).toMatchObject({ phase: 'done', bytesRead: statSync(file).size, total: statSync(file).size });
    expect(seen.some((p) => p.phase === 'metadata')).toBe(true);
    const json = JSON.parse(JSON.stringify(ingestSummary(r)));
    expect(json.tracks[0].config).toEqual({ format: 'avcC', bytes: expect.any(Number) });
  });

  it('a missing file is an fs error, not a MediaError', async () => {
    await expect(ingestFile(tmp.file('nope.mp4'), { origin: new Origin(newGuid()), ring: new MemorySink() })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('FileSource reads exact ranges and short at the end', async () => {
    const p = tmp.file('bytes.bin');
    writeFileSync(p, Uint8Array.from({ length: 1000 }, (_, i) => i & 255));
    const s = await FileSource.open(p);
    try {
      expect(s.size).toBe(1000);
      expect([...(await s.read(10, 3))]).toEqual([10, 11, 12]);
      expect((await s.read(990, 100)).length).toBe(10);
      expect((await s.read(2000, 10)).length).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe('public/sample.mp4, the bundled clip', () => {
  it('is small, 20 s of H.264 with a key frame every 2 s and AAC', async () => {
    const path = join(import.meta.dirname, '../../../public/sample.mp4');
    expect(statSync(path).size).toBeLessThan(800 * 1024);
    const sink = new MemorySink();
    const r = await ingestFile(path, { origin: new Origin(newGuid()), ring: sink });
    expect(r.duration).toBeCloseTo(20, 1);
    expect(r.tracks.map((t) => [t.kind, t.codec, t.width ?? t.sampleRate])).toEqual([
      ['video', 'avc1.64001e', 640],
      ['audio', 'mp4a.40.2', 48000],
    ]);
    const video = sink.frames().get(0)!;
    expect(video.length).toBe(600);
    expect(video.filter((f) => f.key).map((f) => f.pts / f.timescale)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(video.some((f) => f.pts !== f.dts)).toBe(true); // B-frames
  });
});

describe('memory while a larger file streams through', () => {
  const seed = tmp.file('seed.mp4');
  const big = tmp.file('big.mp4');
  beforeAll(() => {
    // Lossless H.264 makes big frames fast; looping with -c copy makes the file big without encoding more.
    ffmpeg([...SRC.video(4, '1280x720'), ...SRC.audio(4), '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-g', '60', '-c:a', 'aac', seed]);
    ffmpeg(['-stream_loop', '19', '-i', seed, '-c', 'copy', big]);
  });

  it('keeps RSS flat: the second half of the file adds (almost) nothing', async () => {
    const size = statSync(big).size;
    expect(size).toBeGreaterThan(120 * 1024 * 1024);
    let frames = 0;
    const sink: StuSink = {
      append: async () => {
        frames++;
      },
    };
    const rssAt: number[] = [];
    globalThis.gc?.();
    const start = process.memoryUsage.rss();
    const r = await ingestFile(big, {
      origin: new Origin(newGuid()),
      ring: sink,
      onProgress: (p) => {
        if (p.phase === 'frames') rssAt.push(process.memoryUsage.rss());
      },
    });
    const counts = probeStreams(big).map((s) => s.packets);
    expect(r.tracks.map((t) => t.frames)).toEqual(counts);
    expect(frames).toBe(r.frames + 1); // and the metadata STU
    const half = rssAt.slice(Math.floor(rssAt.length / 2));
    const peak = Math.max(...rssAt);
    const MiB = 1024 * 1024;
    // A leak of what passes through would add about half the file in the second half.
    expect((Math.max(...half) - half[0]) / MiB).toBeLessThan(48);
    expect((peak - start) / MiB).toBeLessThan(size / MiB / 2);
  });
});
