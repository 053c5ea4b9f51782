// Matroska features ffmpeg does not write by default, on small files built by hand: lacing (Xiph, EBML,
// fixed), header stripping, BlockGroups, unknown-size Segment and Clusters (as browsers' MediaRecorder writes).
import { describe, expect, it } from 'vitest';
import { bytesSource } from '../../../shared/media/byte-source.ts';
import { MediaError } from '../../../shared/media/errors.ts';
import { ingest } from '../../../shared/media/ingest.ts';
import { newGuid } from '../../../shared/stu/guid.ts';
import { Origin } from '../../../shared/stu/origin.ts';
import { MemorySink } from './helpers.ts';

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const idBytes = (id: number) => {
  const b: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) b.unshift(v & 255);
  return Uint8Array.from(b);
};
const size8 = (n: number | 'unknown') => {
  const b = new Uint8Array(8);
  if (n === 'unknown') b.fill(0xff);
  else new DataView(b.buffer).setBigUint64(0, BigInt(n));
  b[0] = 0x01; // 8-byte vint marker; all value bits set = unknown size
  return b;
};
const el = (id: number, ...payload: Uint8Array[]) => {
  const p = concat(...payload);
  return concat(idBytes(id), size8(p.length), p);
};
const elUnknown = (id: number, ...payload: Uint8Array[]) => concat(idBytes(id), size8('unknown'), ...payload);
const uint = (id: number, v: number) => {
  const b: number[] = [];
  for (let x = v; x > 0 || b.length === 0; x = Math.floor(x / 256)) b.unshift(x & 255);
  return el(id, Uint8Array.from(b));
};
const str = (id: number, s: string) => el(id, new TextEncoder().encode(s));
const bytes = (...b: number[]) => Uint8Array.from(b);

const OPUS_HEAD = bytes(0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64, 1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0);
const AVCC = bytes(1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0xc0, 0x1e, 1, 0, 2, 0x68, 0xce);

/** SimpleBlock payload: track, relative timestamp, flags, then frames (laced or not). */
const block = (track: number, rel: number, flags: number, ...rest: Uint8Array[]) =>
  concat(bytes(0x80 | track, (rel >> 8) & 255, rel & 255, flags), ...rest);

function file(opts: { unknownSizes?: boolean; stripped?: boolean } = {}): Uint8Array {
  const ebml = el(0x1a45dfa3, str(0x4282, 'matroska'), uint(0x4287, 4), uint(0x4285, 2));
  const info = el(0x1549a966, uint(0x2ad7b1, 1_000_000));
  const video = el(
    0xae,
    uint(0xd7, 1),
    uint(0x83, 1),
    str(0x86, 'V_MPEG4/ISO/AVC'),
    el(0x63a2, AVCC),
    el(0xe0, uint(0xb0, 320), uint(0xba, 240)),
    ...(opts.stripped ? [el(0x6d80, el(0x6240, el(0x5034, uint(0x4254, 3), el(0x4255, bytes(0, 0, 0)))))] : []),
  );
  const audio = el(0xae, uint(0xd7, 2), uint(0x83, 2), str(0x86, 'A_OPUS'), el(0x63a2, OPUS_HEAD), uint(0x23e383, 20_000_000), el(0xe1, el(0xb5, bytes(0x47, 0x3b, 0x80, 0x00)), uint(0x9f, 2)));
  const tracks = el(0x1654ae6b, video, audio);
  const f = (n: number, fill: number) => new Uint8Array(n).fill(fill);
  // Video frames: a key frame (SimpleBlock), then a BlockGroup with a ReferenceBlock (not key) and a duration.
  const v0 = el(0xa3, block(1, 0, 0x80, f(10, 1)));
  const v1 = el(0xa0, el(0xa1, block(1, 40, 0x00, f(7, 2))), uint(0x9b, 40), el(0xfb, bytes(0xd8)));
  // Audio: Xiph lacing of 3 frames (sizes 3, 300, rest 5), EBML lacing of 3 (4, 6, rest 2), fixed lacing of 2x4.
  const xiph = el(0xa3, block(2, 0, 0x80 | 0x02, bytes(2, 3, 255, 45), f(3, 3), f(300, 4), f(5, 5)));
  const ebmlLace = el(0xa3, block(2, 60, 0x80 | 0x06, bytes(2, 0x84, 0xc1), f(4, 6), f(6, 7), f(2, 8))); // sizes 4, 4+2=6, rest
  const fixed = el(0xa3, block(2, 120, 0x80 | 0x04, bytes(1), f(4, 9), f(4, 10)));
  const clusterBody = [uint(0xe7, 0), v0, xiph, v1, ebmlLace, fixed];
  const cluster = opts.unknownSizes ? elUnknown(0x1f43b675, ...clusterBody) : el(0x1f43b675, ...clusterBody);
  const cluster2Body = [uint(0xe7, 200), el(0xa3, block(1, 0, 0x80, f(9, 11)))];
  const cluster2 = opts.unknownSizes ? elUnknown(0x1f43b675, ...cluster2Body) : el(0x1f43b675, ...cluster2Body);
  const cues = el(0x1c53bb6b, el(0xbb, uint(0xb3, 0)));
  const body = [info, tracks, cluster, cluster2, cues];
  return concat(ebml, opts.unknownSizes ? elUnknown(0x18538067, ...body) : el(0x18538067, ...body));
}

async function run(b: Uint8Array) {
  const sink = new MemorySink();
  const result = await ingest(bytesSource(b), { origin: new Origin(newGuid()), ring: sink, title: 'crafted' });
  return { sink, result, frames: sink.frames() };
}

describe('hand-built Matroska', () => {
  it('unlaces Xiph, EBML and fixed lacing, with DefaultDuration spacing', async () => {
    const { frames, result } = await run(file());
    expect(result.tracks.map((t) => t.codec)).toEqual(['avc1.42c01e', 'opus']);
    const a = frames.get(1)!;
    expect(a.map((f) => f.body.length)).toEqual([3, 300, 5, 4, 6, 2, 4, 4]);
    expect(a.map((f) => f.body[0])).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(a.map((f) => f.pts)).toEqual([0, 20, 40, 60, 80, 100, 120, 140]);
    expect(a.every((f) => f.key)).toBe(true);
  });

  it('reads BlockGroups: ReferenceBlock means not a key frame', async () => {
    const { frames } = await run(file());
    const v = frames.get(0)!;
    expect(v.map((f) => [f.key, f.body.length, f.pts])).toEqual([
      [true, 10, 0],
      [false, 7, 40],
      [true, 9, 200],
    ]);
    expect(v.map((f) => f.dts)).toEqual([0, 40, 200]);
  });

  it('prepends header-stripped bytes', async () => {
    const { frames } = await run(file({ stripped: true }));
    const v = frames.get(0)!;
    expect([...v[0].body.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
    expect(v[0].body.length).toBe(13);
  });

  it('reads unknown-size Segment and Clusters the same as sized ones', async () => {
    const a = await run(file());
    const b = await run(file({ unknownSizes: true }));
    for (const s of [0, 1]) {
      expect(b.frames.get(s)!.map((f) => [f.pts, f.dts, f.duration, f.key, [...f.body]])).toEqual(a.frames.get(s)!.map((f) => [f.pts, f.dts, f.duration, f.key, [...f.body]]));
    }
  });

  it('refuses lace sizes that overrun the block', async () => {
    const b = file();
    const at = findSeq(b, [0x82, 0x00, 0x00, 0x82, 0x02, 3, 255, 45]); // the Xiph-laced SimpleBlock header
    b[at + 6] = 255;
    b[at + 7] = 255;
    await expect(run(b)).rejects.toBeInstanceOf(MediaError);
  });
});

function findSeq(b: Uint8Array, seq: number[]): number {
  for (let i = 0; i + seq.length <= b.length; i++) if (seq.every((x, k) => b[i + k] === x)) return i;
  throw new Error('not found');
}
