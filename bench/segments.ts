// Segments from frames: (a) one fMP4 segment built from the frame STUs in the file ring (ring reads + mux,
// no cache), p50/p99 and MiB/s, next to reading a pre-built segment file of the same bytes from disk;
// (b) the muxer alone on frames in memory, ours next to mp4box createMoof; (c) the whole media segmented
// from the ring, next to ffmpeg's own `-c copy -f hls -hls_segment_type fmp4` remux of the same file (the
// goal: faster than ffmpeg); (d) HLS over loopback from a `stateos serve` process, 100 concurrent clients
// with keep-alive, requests/s for segments and playlists, next to a plain Node HTTP server sending the same
// segment bytes from memory. Media: H.264 1280x720 30 fps with B-frames, a key frame every 2 s, + AAC.
// Quick: 30 s of media; full: 120 s.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createFile, DataStream } from 'mp4box';
import { createLogger } from '../shared/log.ts';
import { buildFragment, type TrackFragment } from '../shared/media/fmp4/fragment.ts';
import { indexFrameTimes, Segmenter, type SourceFrame } from '../shared/media/segments.ts';
import { NodeMediaSource } from '../node-peer/media/frames.ts';
import { StateNode } from '../node-peer/node.ts';
import type { Figure } from './figure.ts';

const MiB = 1024 * 1024;
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/stateos.js');
const log = (s: string) => process.stderr.write(`  ${s}\n`);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const CLIENTS = 100;

function makeMedia(file: string, seconds: number): void {
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-b:v', '6M', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '128k', file,
  ]);
}

export async function benchSegments({ quick }: { quick: boolean }): Promise<Figure[]> {
  const figures: Figure[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'stateos-bench-segments-'));
  try {
    const seconds = quick ? 30 : 120;
    const file = join(tmp, 'media.mp4');
    makeMedia(file, seconds);
    const size = statSync(file).size;
    log(`media: ${seconds} s, ${(size / MiB).toFixed(1)} MiB`);
    const dir = join(tmp, 'data');
    const node = await StateNode.open({ dir, metaBytes: 16 * MiB, dataBytes: Math.ceil((size * 1.5) / MiB + 32) * MiB, fsync: { mode: 'none' }, log: createLogger('silent', () => undefined) });
    let id: string;
    const built: Uint8Array[] = [];
    try {
      id = (await node.ingestFile(file)).id;
      const source = new NodeMediaSource(node);
      const frameTimes = indexFrameTimes(node.index);

      // (a) One segment at a time from the ring, no cache; then the same bytes read back from files.
      const seg = new Segmenter(source, { cacheBytes: 0, frameTimes });
      const plan = await seg.plan(id);
      const rounds = quick ? 3 : 5;
      const times: number[] = [];
      let bytes = 0;
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < plan.count; i++) {
          const t0 = performance.now();
          const s = await seg.segment(id, i);
          times.push(performance.now() - t0);
          bytes += s.bytes.length;
          if (r === 0) built.push(s.bytes);
        }
      }
      const segDir = join(tmp, 'segments');
      mkdirSync(segDir);
      built.forEach((b, i) => writeFileSync(join(segDir, `seg-${i}.m4s`), b));
      const readTimes: number[] = [];
      let readBytes = 0;
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < built.length; i++) {
          const t0 = performance.now();
          readBytes += (await readFile(join(segDir, `seg-${i}.m4s`))).length;
          readTimes.push(performance.now() - t0);
        }
      }
      const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / 1000;
      times.sort((a, b) => a - b);
      readTimes.sort((a, b) => a - b);
      const avgSeg = bytes / times.length / MiB;
      log(`${plan.count} segments of ~${avgSeg.toFixed(2)} MiB (${plan.target} s target), ${rounds} rounds`);
      const buildRate = bytes / MiB / total(times);
      const readRate = readBytes / MiB / total(readTimes);
      figures.push(
        { name: 'segment from frame STUs (ring + mux): p50', value: quantile(times, 0.5), unit: 'ms', baseline: quantile(readTimes, 0.5), baselineName: 'readFile of the built segment' },
        { name: 'segment from frame STUs: p99', value: quantile(times, 0.99), unit: 'ms', baseline: quantile(readTimes, 0.99), baselineName: 'readFile p99' },
        { name: 'segment from frame STUs: throughput', value: buildRate, unit: 'MiB/s', baseline: readRate, baselineName: 'readFile of built segments', ratio: buildRate / readRate },
      );

      // (b) The muxer alone, on frames already in memory: ours vs mp4box createMoof (+ mdat appended).
      const segFrames: SourceFrame[][][] = [];
      for (let i = 0; i < plan.count; i++) {
        const perTrack: SourceFrame[][] = [];
        for (const pt of plan.tracks) {
          const lo = plan.starts[i];
          const hi = plan.starts[i + 1];
          const got = await source.frames(id, pt.stream, i === 0 ? -1 : lo, i === plan.count - 1 ? hi + 1 : hi);
          perTrack.push(pt.track.kind === 'video' ? got.filter((f) => f.sample >= plan.samples![i] && f.sample < plan.samples![i + 1]) : got.filter((f) => (i === 0 || f.pts >= lo * pt.track.timescale) && (i === plan.count - 1 || f.pts < hi * pt.track.timescale)));
        }
        segFrames.push(perTrack);
      }
      const muxBytes = segFrames.flat(2).reduce((n, f) => n + f.data.length, 0);
      const ours = () => {
        for (const [i, tracks] of segFrames.entries()) {
          const trafs: TrackFragment[] = tracks.map((fs, k) => ({
            id: k + 1,
            baseDecodeTime: fs[0].dts + plan.tracks[k].shift,
            samples: fs.map((f) => ({ data: f.data, duration: f.duration, cto: f.pts - f.dts - plan.tracks[k].shift, key: f.key })),
          }));
          buildFragment(i + 1, trafs);
        }
      };
      const iso = createFile();
      for (const pt of plan.tracks) iso.addTrack({ id: pt.id, timescale: pt.track.timescale, type: pt.track.kind === 'video' ? 'avc1' : 'mp4a', hdlr: pt.track.kind === 'video' ? 'vide' : 'soun' });
      const theirs = () => {
        for (const tracks of segFrames) {
          const stream = new DataStream();
          tracks.forEach((fs, k) => {
            const samples = fs.map((f) => ({ track_id: k + 1, dts: f.dts + plan.tracks[k].shift, cts: f.pts, duration: f.duration, size: f.data.length, is_sync: f.key, data: f.data })) as any[];
            const moof = iso.createMoof(samples) as any;
            moof.trafs[0].truns[0].version = 1;
            moof.write(stream);
            moof.trafs[0].truns[0].data_offset = moof.size + 8;
            stream.adjustUint32(moof.trafs[0].truns[0].data_offset_position, moof.trafs[0].truns[0].data_offset);
            const payload = fs.reduce((n, f) => n + f.data.length, 0);
            stream.writeUint32(payload + 8);
            stream.writeString('mdat', undefined, 4);
            for (const f of fs) stream.writeUint8Array(f.data);
          });
          stream.buffer.slice(0, stream.getPosition());
        }
      };
      const rate = (fn: () => void) => {
        fn(); // warm up
        const n = quick ? 5 : 10;
        const t0 = performance.now();
        for (let r = 0; r < n; r++) fn();
        return (n * muxBytes) / MiB / ((performance.now() - t0) / 1000);
      };
      const oursRate = rate(ours);
      const mp4boxRate = rate(theirs);
      figures.push({ name: 'muxer alone (frames in memory): ours', value: oursRate, unit: 'MiB/s', baseline: mp4boxRate, baselineName: 'mp4box createMoof', ratio: oursRate / mp4boxRate });

      // (c) The whole media: plan + every segment from the ring (fresh segmenter, no cache), in memory and
      // written to files; ffmpeg remuxing the file to fMP4 HLS.
      const whole = async (write: boolean) => {
        const out = join(tmp, `ours-${write ? 'files' : 'mem'}`);
        mkdirSync(out, { recursive: true });
        const t0 = performance.now();
        const s = new Segmenter(source, { cacheBytes: 0, frameTimes });
        const p = await s.plan(id);
        const init = await s.init(id);
        if (write) await writeFile(join(out, 'init.mp4'), init);
        for (let i = 0; i < p.count; i++) {
          const b = (await s.segment(id, i)).bytes;
          if (write) await writeFile(join(out, `seg-${i}.m4s`), b);
        }
        return (performance.now() - t0) / 1000;
      };
      const best = async (fn: () => Promise<number> | number) => {
        let b = Infinity;
        for (let r = 0; r < 6; r++) b = Math.min(b, await fn()); // both sides warmed up (our JIT, the page cache)
        return b;
      };
      const ffmpegRemux = () => {
        const out = join(tmp, 'ffmpeg');
        rmSync(out, { recursive: true, force: true });
        mkdirSync(out);
        const t0 = performance.now();
        execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', file, '-map', '0', '-c', 'copy', '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '2', '-hls_playlist_type', 'vod', join(out, 'index.m3u8')]);
        return (performance.now() - t0) / 1000;
      };
      // Alternate the sides, keep the best of each.
      let oursMem = Infinity;
      let oursFiles = Infinity;
      let ff = Infinity;
      for (let k = 0; k < 2; k++) {
        ff = Math.min(ff, await best(ffmpegRemux));
        oursMem = Math.min(oursMem, await best(() => whole(false)));
        oursFiles = Math.min(oursFiles, await best(() => whole(true)));
      }
      const r = (s: number) => size / MiB / s;
      figures.push(
        { name: 'whole media segmented from the ring (in memory)', value: r(oursMem), unit: 'MiB/s', baseline: r(ff), baselineName: 'ffmpeg -c copy -f hls fmp4', ratio: r(oursMem) / r(ff), goal: '> 1' },
        { name: 'whole media segmented from the ring, to files', value: r(oursFiles), unit: 'MiB/s', baseline: r(ff), baselineName: 'ffmpeg -c copy -f hls fmp4', ratio: r(oursFiles) / r(ff), goal: '> 1' },
      );
      log(`whole media: ours ${oursMem.toFixed(3)} s in memory, ${oursFiles.toFixed(3)} s to files; ffmpeg ${ff.toFixed(3)} s`);
    } finally {
      await node.close();
    }

    // (d) HLS over loopback: a stateos serve process, 100 clients.
    const server = await serveProcess(dir);
    const staticServer = await staticProcess(join(tmp, 'segments'), built.length);
    try {
      const segUrls = built.map((_, i) => `${server.url}/hls/media/${id}/seg-${i}.m4s`);
      const duration = quick ? 3 : 6;
      await load(segUrls, 2); // builds and caches every segment
      // Alternate ours and the baseline, best of each: other work on the machine moves these figures a lot.
      const best = (a: LoadResult | undefined, b: LoadResult) => (!a || b.requests / b.seconds > a.requests / a.seconds ? b : a);
      let segs: LoadResult | undefined;
      let statics: LoadResult | undefined;
      for (let r = 0; r < 2; r++) {
        statics = best(statics, await load(built.map((_, i) => `${staticServer.url}/seg-${i}.m4s`), duration));
        segs = best(segs, await load(segUrls, duration));
      }
      const playlists = await load([`${server.url}/hls/media/${id}/index.m3u8`], duration);
      if (!segs || !statics) throw new Error('no load result');
      log(`segments: ${segs.requests} requests, ${(segs.bytes / MiB).toFixed(0)} MiB; static: ${statics.requests}; errors ${segs.errors + playlists.errors + statics.errors}`);
      figures.push(
        { name: `HLS segments, ${CLIENTS} clients (cached)`, value: segs.requests / segs.seconds, unit: 'req/s', baseline: statics.requests / statics.seconds, baselineName: 'Node HTTP, same bytes from memory', ratio: segs.requests / segs.seconds / (statics.requests / statics.seconds) },
        { name: `HLS segments, ${CLIENTS} clients: bytes`, value: segs.bytes / MiB / segs.seconds, unit: 'MiB/s', baseline: statics.bytes / MiB / statics.seconds, baselineName: 'Node HTTP from memory', ratio: segs.bytes / segs.seconds / (statics.bytes / statics.seconds) },
        { name: `HLS media playlist, ${CLIENTS} clients`, value: playlists.requests / playlists.seconds, unit: 'req/s' },
      );
      if (segs.errors || playlists.errors || statics.errors) throw new Error(`HTTP errors under load: ${segs.errors} ${playlists.errors} ${statics.errors}`);
    } finally {
      await server.stop();
      await staticServer.stop();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return figures;
}

interface Proc {
  url: string;
  stop(): Promise<void>;
}

function waitForUrl(proc: ChildProcess, pattern: RegExp, what: string): Promise<Proc> {
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      const m = pattern.exec(l);
      if (m)
        resolve({
          url: m[1],
          stop: () =>
            new Promise<void>((done) => {
              proc.removeAllListeners('exit');
              if (proc.exitCode !== null) return done();
              proc.once('exit', () => done());
              proc.kill('SIGTERM');
            }),
        });
    });
  });
}

function serveProcess(dir: string): Promise<Proc> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--http', '127.0.0.1:0', '--rtsp', '127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return waitForUrl(proc, /serving (http:\/\/[\d.]+:\d+)/, 'stateos serve');
}

/** A plain Node HTTP server sending /seg-<i>.m4s from memory: the ceiling of the HTTP stack. */
function staticProcess(dir: string, count: number): Promise<Proc> {
  const code = `
    const { createServer } = require('node:http');
    const { readFileSync } = require('node:fs');
    const segs = Array.from({ length: ${count} }, (_, i) => readFileSync(${JSON.stringify(dir)} + '/seg-' + i + '.m4s'));
    const server = createServer((req, res) => {
      const m = /^\\/seg-(\\d+)\\.m4s$/.exec(req.url);
      const b = m && segs[Number(m[1])];
      if (!b) { res.writeHead(404); return res.end(); }
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': b.length, 'access-control-allow-origin': '*' });
      res.end(b);
    });
    server.listen(0, '127.0.0.1', () => console.log('static http://127.0.0.1:' + server.address().port));
  `;
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return waitForUrl(proc, /static (http:\/\/[\d.]+:\d+)/, 'static server');
}

interface LoadResult {
  requests: number;
  bytes: number;
  errors: number;
  seconds: number;
}

/** CLIENTS loops, each GETting the URLs in turn (from its own offset) over keep-alive, for `seconds`. */
async function load(urls: string[], seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let requests = 0;
  let bytes = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const get = (url: string) =>
    new Promise<void>((resolve) => {
      const req = request(url, { agent }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => {
          if (res.statusCode === 200) {
            requests++;
            bytes += n;
          } else errors++;
          resolve();
        });
        res.on('error', () => {
          errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = c; performance.now() < end; i++) await get(urls[i % urls.length]);
    }),
  );
  const took = (performance.now() - t0) / 1000;
  agent.destroy();
  return { requests, bytes, errors, seconds: took };
}

