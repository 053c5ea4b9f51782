// Ingest throughput and memory: a generated H.264 (lossless, so big) + AAC file, MP4 with the moov at the
// end and the same frames remuxed to MKV, ingested from disk. Baseline: `ffmpeg -c copy` of the same file
// to an MP4 in /tmp. Also the demuxers we did not choose (mp4box appendBuffer/onSamples, mediabunny
// EncodedPacketSink), reading the same files and copying every sample, next to ours.
// Quick: ~50 MB. Full: ~400 MB. STATEOS_BENCH_INGEST_MB=4000 for the multi-GB run (memory stays flat).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_FORMATS, EncodedPacketSink, FilePathSource, Input } from 'mediabunny';
import { createFile, MP4BoxBuffer } from 'mp4box';
import { FileSource } from '../node-peer/media/file-source.ts';
import { openFileRing } from '../node-peer/ring/file-ring.ts';
import { ChunkReader } from '../shared/media/byte-source.ts';
import { openDemuxer } from '../shared/media/demux/open.ts';
import { ingest, type StuSink } from '../shared/media/ingest.ts';
import { newGuid } from '../shared/stu/guid.ts';
import { Origin } from '../shared/stu/origin.ts';
import type { Figure } from './figure.ts';

const MiB = 1024 * 1024;
const say = (s: string) => process.stderr.write(`  ${s}\n`);

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Runs `fn`, sampling RSS every 20 ms and at every `sample()` call; returns seconds and the peak RSS. */
async function measure<T>(fn: (sample: () => void) => Promise<T>): Promise<{ value: T; seconds: number; peakRss: number; startRss: number }> {
  globalThis.gc?.();
  const startRss = process.memoryUsage.rss();
  let peakRss = startRss;
  const sample = () => {
    const r = process.memoryUsage.rss();
    if (r > peakRss) peakRss = r;
  };
  const timer = setInterval(sample, 20);
  const t0 = performance.now();
  try {
    const value = await fn(sample);
    return { value, seconds: (performance.now() - t0) / 1000, peakRss, startRss };
  } finally {
    clearInterval(timer);
    sample();
  }
}

const discard: StuSink = { append: async () => undefined };

async function ourIngest(path: string, ring: StuSink, sample: () => void, label: string, size: number) {
  const source = await FileSource.open(path);
  let shown = 0;
  try {
    return await ingest(source, {
      origin: new Origin(newGuid()),
      ring,
      title: 'bench',
      onProgress: (p) => {
        sample();
        if (p.bytesRead - shown >= size / 4 || p.phase === 'done') {
          shown = p.bytesRead;
          say(`${label}: ${((100 * p.bytesRead) / p.total).toFixed(0)}% (${p.frames} frames)`);
        }
      },
    });
  } finally {
    await source.close();
  }
}

/** Our demuxer alone (no timeline, no STUs), copying every sample like the alternatives below. */
async function ourDemux(path: string, sample: () => void): Promise<number> {
  const source = await FileSource.open(path);
  try {
    const d = await openDemuxer(new ChunkReader(source), { maxFrame: 64 * MiB, maxMoov: 256 * MiB });
    let frames = 0;
    for await (const f of d.frames()) {
      f.data.slice();
      if (++frames % 256 === 0) sample();
    }
    return frames;
  } finally {
    await source.close();
  }
}

/** mp4box the way its README streams a file: appendBuffer chunks, onSamples, releaseUsedSamples. */
async function mp4boxStreaming(path: string, sample: () => void): Promise<number> {
  const fh = await open(path, 'r');
  const size = (await fh.stat()).size;
  const iso: any = createFile();
  let frames = 0;
  iso.onReady = (info: any) => {
    for (const t of info.tracks) iso.setExtractionOptions(t.id, null, { nbSamples: 500 });
    iso.start();
  };
  iso.onSamples = (id: number, _user: unknown, samples: any[]) => {
    for (const s of samples) {
      s.data.slice();
      frames++;
    }
    iso.releaseUsedSamples(id, samples[samples.length - 1].number + 1);
  };
  try {
    let pos = 0;
    while (pos < size) {
      const len = Math.min(2 * MiB, size - pos);
      const buf = new MP4BoxBuffer(len);
      await fh.read(new Uint8Array(buf), 0, len, pos);
      buf.fileStart = pos;
      const next = iso.appendBuffer(buf, pos + len >= size);
      sample();
      pos = typeof next === 'number' && next !== pos && next < size ? next : pos + len;
    }
    iso.flush();
    return frames;
  } finally {
    await fh.close();
  }
}

/** mediabunny: one EncodedPacketSink per track, merged by timestamp so reads stay near each other. */
async function mediabunnyPackets(path: string, sample: () => void): Promise<number> {
  const input = new Input({ source: new FilePathSource(path), formats: ALL_FORMATS });
  try {
    const its = (await input.getTracks()).map((t) => new EncodedPacketSink(t).packets()[Symbol.asyncIterator]());
    const heads = await Promise.all(its.map((it) => it.next()));
    let frames = 0;
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (!h.done && (best < 0 || h.value.timestamp < (heads[best].value as { timestamp: number }).timestamp)) best = i;
      }
      if (best < 0) break;
      (heads[best].value as { data: Uint8Array }).data.slice();
      frames++;
      if (frames % 256 === 0) sample();
      heads[best] = await its[best].next();
    }
    return frames;
  } finally {
    input.dispose();
  }
}

export async function benchIngest({ quick }: { quick: boolean }): Promise<Figure[]> {
  const targetMb = Number(process.env.STATEOS_BENCH_INGEST_MB) || (quick ? 50 : 400);
  const dir = mkdtempSync(join(tmpdir(), 'stateos-bench-ingest-'));
  const figures: Figure[] = [];
  try {
    say(`generating a ~${targetMb} MB H.264 + AAC file in ${dir}`);
    const seed = join(dir, 'seed.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=4', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-g', '60', '-c:a', 'aac', seed]);
    const loops = Math.max(1, Math.round((targetMb * 1e6) / statSync(seed).size));
    const mp4 = join(dir, 'big.mp4');
    ffmpeg(['-stream_loop', String(loops - 1), '-i', seed, '-c', 'copy', mp4]);
    const mkv = join(dir, 'big.mkv');
    ffmpeg(['-i', mp4, '-c', 'copy', mkv]);
    const out = join(dir, 'copy.mp4');
    const mp4Size = statSync(mp4).size;
    const mkvSize = statSync(mkv).size;
    say(`${(mp4Size / MiB).toFixed(0)} MiB MP4, ${(mkvSize / MiB).toFixed(0)} MiB MKV`);

    // Warm up the JIT (and the page cache) on the small file.
    await ourIngest(seed, discard, () => {}, 'warm-up', statSync(seed).size);

    const mibps = (bytes: number, s: number) => bytes / MiB / s;
    const copy = (file: string) => {
      const t0 = performance.now();
      ffmpeg(['-i', file, '-map', '0', '-c', 'copy', out]);
      return (performance.now() - t0) / 1000;
    };
    const copyMp4 = mibps(mp4Size, copy(mp4));
    const copyMkv = mibps(mkvSize, copy(mkv));
    rmSync(out, { force: true });

    const ours = await measure((s) => ourIngest(mp4, discard, s, 'ingest MP4', mp4Size));
    const oursRate = mibps(mp4Size, ours.seconds);
    figures.push({ name: 'ingest MP4 (demux + frame STUs, no storage)', value: oursRate, unit: 'MiB/s', baseline: copyMp4, baselineName: 'ffmpeg -c copy', ratio: oursRate / copyMp4 });
    figures.push({
      name: 'ingest MP4: RSS growth (peak - start)',
      value: (ours.peakRss - ours.startRss) / MiB,
      unit: 'MiB',
      baseline: mp4Size / MiB,
      baselineName: 'file size',
      ratio: (ours.peakRss - ours.startRss) / mp4Size,
      goal: 'flat: independent of the file size',
    });

    const ringDir = join(dir, 'ring');
    const ring = await openFileRing(ringDir, { metaBytes: 16 * MiB, dataBytes: Math.ceil((mp4Size * 1.1) / MiB) * MiB, fsync: { mode: 'none' } });
    try {
      const intoRing = await measure((s) => ourIngest(mp4, ring, s, 'ingest MP4 into file ring', mp4Size));
      const r = mibps(mp4Size, intoRing.seconds);
      figures.push({ name: 'ingest MP4 into the file ring (/tmp, no fsync)', value: r, unit: 'MiB/s', baseline: copyMp4, baselineName: 'ffmpeg -c copy', ratio: r / copyMp4 });
    } finally {
      await ring.close();
      rmSync(ringDir, { recursive: true, force: true });
    }

    const oursMkv = await measure((s) => ourIngest(mkv, discard, s, 'ingest MKV', mkvSize));
    const mkvRate = mibps(mkvSize, oursMkv.seconds);
    figures.push({ name: 'ingest MKV (same frames, no storage)', value: mkvRate, unit: 'MiB/s', baseline: copyMkv, baselineName: 'ffmpeg -c copy', ratio: mkvRate / copyMkv });
    figures.push({ name: 'ingest MKV: RSS growth (peak - start)', value: (oursMkv.peakRss - oursMkv.startRss) / MiB, unit: 'MiB', baseline: mkvSize / MiB, baselineName: 'file size' });

    // Demuxers alone, each copying every sample: ours against the libraries we did not choose.
    const demux = async (label: string, path: string, size: number, run: (p: string, s: () => void) => Promise<number>) => {
      say(label);
      const m = await measure((s) => run(path, s));
      return { rate: mibps(size, m.seconds), rss: (m.peakRss - m.startRss) / MiB, frames: m.value };
    };
    const dMp4 = await demux('our MP4 demuxer', mp4, mp4Size, ourDemux);
    const dBox = await demux('mp4box appendBuffer/onSamples', mp4, mp4Size, mp4boxStreaming);
    const dMkv = await demux('our Matroska demuxer', mkv, mkvSize, ourDemux);
    const dBunny = await demux('mediabunny EncodedPacketSink', mkv, mkvSize, mediabunnyPackets);
    if (dBox.frames !== dMp4.frames || dBunny.frames !== dMkv.frames) say(`frame counts differ: ${JSON.stringify({ dMp4, dBox, dMkv, dBunny })}`);
    figures.push({ name: 'demux MP4: ours (copying samples)', value: dMp4.rate, unit: 'MiB/s', baseline: dBox.rate, baselineName: 'mp4box streaming', ratio: dMp4.rate / dBox.rate });
    figures.push({ name: 'demux MP4: RSS growth, ours', value: dMp4.rss, unit: 'MiB', baseline: dBox.rss, baselineName: 'mp4box streaming' });
    figures.push({ name: 'demux MKV: ours (copying samples)', value: dMkv.rate, unit: 'MiB/s', baseline: dBunny.rate, baselineName: 'mediabunny', ratio: dMkv.rate / dBunny.rate });
    figures.push({ name: 'demux MKV: RSS growth, ours', value: dMkv.rss, unit: 'MiB', baseline: dBunny.rss, baselineName: 'mediabunny' });
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
