// Test helpers for media: real files made by ffmpeg in a temp dir, ffprobe's view of them, and an
// in-memory STU sink.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesSource } from '../../../shared/media/byte-source.ts';
import { decodeFrameExt, type FrameFields } from '../../../shared/media/frame.ts';
import { ingest, type IngestOptions, type IngestResult } from '../../../shared/media/ingest.ts';
import { FRAME, MEDIA_META } from '../../../shared/media/stu-types.ts';
import type { Loc } from '../../../shared/ring/types.ts';
import { decodeStu, type Stu } from '../../../shared/stu/header.ts';
import { newGuid } from '../../../shared/stu/guid.ts';
import { Origin } from '../../../shared/stu/origin.ts';

export const hasEncoder = (name: string): boolean => {
  try {
    return execFileSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).includes(` ${name} `);
  } catch {
    return false;
  }
};

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'stateos-media-'));
  file(name: string): string {
    return join(this.path, name);
  }
  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Test sources: small, fast to encode. */
export const SRC = {
  video: (seconds: number, size = '160x90', rate = 30) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`],
  audio: (seconds: number, rate = 48000) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}:duration=${seconds}`],
};

export function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface ProbePacket {
  stream: number;
  pts: number | undefined;
  dts: number | undefined;
  duration: number | undefined;
  key: boolean;
  size: number;
}

export interface ProbeStream {
  index: number;
  codec: string;
  type: string;
  timeBase: [number, number];
  packets: number;
}

export function probeStreams(file: string): ProbeStream[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=index,codec_name,codec_type,time_base,nb_read_packets', '-of', 'json', file], {
    encoding: 'utf8',
  });
  return (JSON.parse(out).streams as any[]).map((s) => ({
    index: s.index,
    codec: s.codec_name,
    type: s.codec_type,
    timeBase: s.time_base.split('/').map(Number) as [number, number],
    packets: Number(s.nb_read_packets),
  }));
}

export function probePackets(file: string): ProbePacket[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,pts,dts,duration,flags,size', '-of', 'json', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const num = (v: unknown) => (v === undefined || v === 'N/A' ? undefined : Number(v));
  return (JSON.parse(out).packets as any[]).map((p) => ({
    stream: p.stream_index,
    pts: num(p.pts),
    dts: num(p.dts),
    duration: num(p.duration),
    key: String(p.flags).includes('K'),
    size: Number(p.size),
  }));
}

/** md5 of every packet's bytes as ffmpeg demuxes them, per stream in order (`-c copy -f framemd5`). */
export function framemd5(file: string): Map<number, string[]> {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0', '-c', 'copy', '-f', 'framemd5', '-'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const m = new Map<number, string[]>();
  for (const line of out.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(',').map((s) => s.trim());
    const stream = Number(parts[0]);
    if (!m.has(stream)) m.set(stream, []);
    m.get(stream)!.push(parts[5]);
  }
  return m;
}

export const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** A sink keeping every STU in memory, with Locs like a ring's (recSeq counts per section). */
export class MemorySink {
  readonly stus: Uint8Array[] = [];
  private seq = { meta: 0, data: 0 };
  fail: ((n: number) => boolean) | undefined;
  async append(stu: Uint8Array): Promise<Loc> {
    if (this.fail?.(this.stus.length)) throw new Error('sink full');
    const d = decodeStu(stu);
    if (!d.ok) throw d.error;
    const section = d.value.header.flags & 1 ? 'data' : 'meta';
    this.stus.push(stu);
    return { section, recSeq: ++this.seq[section], offset: this.stus.length - 1 };
  }
  decoded(): Stu[] {
    return this.stus.map((b) => {
      const d = decodeStu(b);
      if (!d.ok) throw d.error;
      return d.value;
    });
  }
  meta(): Stu[] {
    return this.decoded().filter((s) => s.header.type === MEDIA_META);
  }
  /** Frames per stream, in the order written (= decode order per stream). */
  frames(): Map<number, Array<FrameFields & { body: Uint8Array; object: string }>> {
    const m = new Map<number, Array<FrameFields & { body: Uint8Array; object: string }>>();
    for (const s of this.decoded()) {
      if (s.header.type !== FRAME) continue;
      const f = decodeFrameExt(s.header.ext);
      if (!f.ok) throw f.error;
      if (!m.has(f.value.stream)) m.set(f.value.stream, []);
      m.get(f.value.stream)!.push({ ...f.value, body: s.body, object: s.header.object });
    }
    return m;
  }
}

export async function ingestFileToSink(
  file: string,
  opts: Partial<IngestOptions> = {},
): Promise<{ sink: MemorySink; result: IngestResult }> {
  const sink = (opts.ring as MemorySink | undefined) ?? new MemorySink();
  const result = await ingest(bytesSource(new Uint8Array(readFileSync(file))), {
    origin: new Origin(newGuid()),
    title: 'test',
    ...opts,
    ring: sink,
  });
  return { sink, result };
}
