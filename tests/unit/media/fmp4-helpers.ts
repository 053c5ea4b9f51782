// A SegmentSource over frames ingested into memory (MemorySink), with the semantics of node-peer's
// MediaSource: frames of [from, to) from the time index's cover(), bytes attached.
import { createFile, MP4BoxBuffer } from 'mp4box';
import type { MediaMetadata } from '../../../shared/media/metadata.ts';
import { parseMetadata } from '../../../shared/media/metadata.ts';
import type { SegmentSource, SourceFrame } from '../../../shared/media/segments.ts';
import { TimeIndex } from '../../../shared/media/time-index.ts';
import type { Guid } from '../../../shared/stu/guid.ts';
import { ingestFileToSink, type MemorySink } from './helpers.ts';

export class MemoryMediaSource implements SegmentSource {
  readonly index = new TimeIndex();
  readonly bodies = new Map<string, Uint8Array>();
  calls = 0;

  static async fromFile(file: string): Promise<{ source: MemoryMediaSource; meta: MediaMetadata; sink: MemorySink }> {
    const { sink } = await ingestFileToSink(file);
    const source = new MemoryMediaSource();
    let meta: MediaMetadata | undefined;
    for (const [stream, frames] of sink.frames()) {
      for (const f of frames) {
        const loc = { section: 'data' as const, recSeq: source.bodies.size + 1, offset: source.bodies.size };
        source.index.addFrame(f.object, f, loc, f.body.length);
        source.bodies.set(`${f.object}/${stream}/${f.sample}`, f.body);
      }
    }
    for (const s of sink.meta()) {
      const m = parseMetadata(s.body);
      if (!m.ok) throw m.error;
      source.index.addMedia(m.value);
      meta = m.value;
    }
    return { source, meta: meta!, sink };
  }

  metadata(id: Guid): MediaMetadata | undefined {
    return this.index.get(id);
  }

  async frames(id: Guid, stream: number, from: number, to: number): Promise<SourceFrame[]> {
    this.calls++;
    const c = this.index.cover(id, stream, from, to);
    if (!c) throw new RangeError(`no media ${id} stream ${stream}`);
    if (!c.complete) throw new Error(`frames missing: ${JSON.stringify(c.gaps)}`);
    return c.frames.map((f) => ({ ...f, data: this.bodies.get(`${id}/${stream}/${f.sample}`)! }));
  }
}

export interface ParsedSample {
  dts: number;
  cts: number;
  duration: number;
  size: number;
  sync: boolean;
  data: Uint8Array;
}

export interface ParsedMp4 {
  info: any;
  samples: Map<number, ParsedSample[]>;
}

/** Parses an fMP4 (init + segments) with mp4box and extracts every sample of every track. */
export function parseMp4(bytes: Uint8Array): ParsedMp4 {
  const f = createFile();
  const buf = new MP4BoxBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  buf.fileStart = 0;
  let info: any;
  const samples = new Map<number, ParsedSample[]>();
  f.onError = (_m: string, e: string) => {
    throw new Error(`mp4box: ${e}`);
  };
  f.onReady = (i: any) => {
    info = i;
    for (const t of i.tracks) f.setExtractionOptions(t.id, null, { nbSamples: 1_000_000 });
    f.start();
  };
  f.onSamples = (id: number, _u: unknown, s: any[]) => {
    if (!samples.has(id)) samples.set(id, []);
    for (const x of s) samples.get(id)!.push({ dts: x.dts, cts: x.cts, duration: x.duration, size: x.size, sync: x.is_sync, data: new Uint8Array(x.data) });
  };
  f.appendBuffer(buf);
  f.flush();
  if (!info) throw new Error('mp4box found no moov');
  return { info, samples };
}

export interface Box {
  type: string;
  start: number;
  size: number;
  /** Version and flags of a full box (first 4 body bytes), when asked for. */
  body: Uint8Array;
  children: Box[];
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'dinf', 'mvex', 'moof', 'traf']);

/** Our own walk of the box tree (containers opened), to check versions, flags and offsets. */
export function walkBoxes(b: Uint8Array, start = 0, end = b.length): Box[] {
  const out: Box[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  for (let p = start; p + 8 <= end; ) {
    let size = v.getUint32(p);
    const type = String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    let hdr = 8;
    if (size === 1) {
      size = Number(v.getBigUint64(p + 8));
      hdr = 16;
    }
    if (size < hdr || p + size > end) throw new Error(`bad box ${type} at ${p}`);
    out.push({ type, start: p, size, body: b.subarray(p + hdr, p + size), children: CONTAINERS.has(type) ? walkBoxes(b, p + hdr, p + size) : [] });
    p += size;
  }
  return out;
}

export const findBox = (boxes: Box[], path: string): Box[] => {
  const [head, ...rest] = path.split('/');
  const here = boxes.filter((x) => x.type === head);
  return rest.length ? here.flatMap((x) => findBox(x.children, rest.join('/'))) : here;
};
