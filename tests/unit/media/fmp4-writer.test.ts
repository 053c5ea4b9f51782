// The fMP4 writer: init and media segments built from ingested frames, parsed back with mp4box (sample by
// sample: size, bytes, decode and composition time, duration, sync flag) and with our own box walk (versions,
// flags, offsets), and decoded by ffmpeg with no error. Plus the pieces: fragments by hand, retiming,
// in-band parameter sets, dOps, vpcC, av1C, languages.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { av1CFromCodec, buildFragment, buildInit, dOpsFromOpusHead, packLanguage, parameterSets, retimeMoof, sampleEntryType, vpcCFromCodec } from '../../../shared/media/fmp4/index.ts';
import { indexFrameTimes, Segmenter } from '../../../shared/media/segments.ts';
import { findBox, MemoryMediaSource, parseMp4, walkBoxes } from './fmp4-helpers.ts';
import { ffmpeg, hasEncoder, SRC, TempDir } from './helpers.ts';

const tmp = new TempDir();
afterAll(() => tmp.cleanup());

interface Case {
  name: string;
  file: string;
  make: () => void;
  when?: () => boolean;
  /** mp4box's codec string of each track, when it should equal the metadata's. */
  exactCodecs?: boolean;
}

const cases: Case[] = [
  {
    name: 'MP4 H.264 with B-frames + AAC',
    file: tmp.file('avc.mp4'),
    exactCodecs: true,
    make: () => ffmpeg([...SRC.video(5), ...SRC.audio(5), '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '30', '-c:a', 'aac', '-b:a', '64k', tmp.file('avc.mp4')]),
  },
  {
    name: 'WebM VP9 + Opus',
    file: tmp.file('vp9.webm'),
    make: () => ffmpeg([...SRC.video(5, '160x90', 25), ...SRC.audio(5), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '50', '-b:v', '200k', '-c:a', 'libopus', tmp.file('vp9.webm')]),
  },
  {
    name: 'MP4 H.265 (hvc1) + AAC',
    file: tmp.file('hevc.mp4'),
    when: () => hasEncoder('libx265'),
    exactCodecs: true,
    make: () =>
      ffmpeg([...SRC.video(3), ...SRC.audio(3), '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=30:bframes=2', '-tag:v', 'hvc1', '-c:a', 'aac', tmp.file('hevc.mp4')]),
  },
  {
    name: 'MP4 AV1 + Opus',
    file: tmp.file('av1.mp4'),
    when: () => hasEncoder('libsvtav1'),
    make: () => ffmpeg([...SRC.video(3, '160x96'), ...SRC.audio(3), '-c:v', 'libsvtav1', '-preset', '12', '-g', '30', '-c:a', 'libopus', tmp.file('av1.mp4')]),
  },
];

const usable = cases.filter((c) => c.when?.() ?? true);

beforeAll(() => {
  for (const c of usable) c.make();
});

async function buildAll(file: string, opts: { inband?: boolean } = {}) {
  const { source, meta, sink } = await MemoryMediaSource.fromFile(file);
  const seg = new Segmenter(source, { frameTimes: indexFrameTimes(source.index) });
  const plan = await seg.plan(meta.id);
  const init = await seg.init(meta.id);
  const segments = [];
  for (let i = 0; i < plan.count; i++) segments.push(await seg.segment(meta.id, i, opts));
  const whole = concat([init, ...segments.map((s) => s.bytes)]);
  return { meta, plan, init, segments, whole, frames: sink.frames() };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ffmpegErrors = (file: string): string => {
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    return '';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  }
};

const decodedFrames = (file: string): number[] => {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return out.trim().split('\n').map(Number);
};

describe('fMP4 segments from stored frames, read back', () => {
  for (const c of usable) {
    it(`${c.name}: every sample byte-exact, times and flags as stored; ffmpeg decodes it cleanly`, async () => {
      const { meta, plan, init, segments, whole, frames } = await buildAll(c.file);
      const parsed = parseMp4(whole);
      expect(parsed.info.isFragmented).toBe(true);
      expect(parsed.info.tracks).toHaveLength(plan.tracks.length);
      for (const pt of plan.tracks) {
        const info = parsed.info.tracks.find((t: any) => t.id === pt.id);
        expect(info.timescale).toBe(pt.track.timescale);
        if (c.exactCodecs) expect(info.codec).toBe(pt.track.codec);
        else expect(info.codec.slice(0, 4).toLowerCase()).toBe(pt.track.codec.slice(0, 4).toLowerCase());
        if (pt.track.kind === 'video') expect([info.video.width, info.video.height]).toEqual([pt.track.width, pt.track.height]);
        const stored = frames.get(pt.stream)!;
        const got = parsed.samples.get(pt.id)!;
        expect(got.length).toBe(stored.length);
        for (let i = 0; i < stored.length; i++) {
          const s = stored[i];
          const g = got[i];
          expect({ i, dts: g.dts, cts: g.cts, duration: g.duration, size: g.size, sync: g.sync }).toEqual({
            i,
            dts: s.dts + pt.shift,
            cts: s.pts,
            duration: s.duration,
            size: s.body.length,
            sync: pt.track.kind === 'audio' || s.key,
          });
          expect(Buffer.from(g.data).equals(Buffer.from(s.body))).toBe(true);
        }
      }
      // Our own reading of the boxes: moof/mfhd sequence, tfhd default-base-is-moof, tfdt v1, trun v1.
      segments.forEach((s, i) => {
        const boxes = walkBoxes(s.bytes);
        expect(boxes.map((b) => b.type)).toEqual(['moof', 'mdat']);
        expect(new DataView(findBox(boxes, 'moof/mfhd')[0].body.buffer, findBox(boxes, 'moof/mfhd')[0].body.byteOffset).getUint32(4)).toBe(i + 1);
        for (const tfhd of findBox(boxes, 'moof/traf/tfhd')) expect(new DataView(tfhd.body.buffer, tfhd.body.byteOffset).getUint32(0)).toBe(0x020000);
        for (const tfdt of findBox(boxes, 'moof/traf/tfdt')) expect(tfdt.body[0]).toBe(1);
        for (const trun of findBox(boxes, 'moof/traf/trun')) expect(new DataView(trun.body.buffer, trun.body.byteOffset).getUint32(0)).toBe(0x01000f01);
        expect(s.moofSize).toBe(boxes[0].size);
      });
      expect(walkBoxes(init).map((b) => b.type)).toEqual(['ftyp', 'moov']);
      expect(findBox(walkBoxes(init), 'moov/mvex/trex')).toHaveLength(plan.tracks.length);

      const file = tmp.file(`${meta.id}.mp4`);
      writeFileSync(file, whole);
      expect(ffmpegErrors(file)).toBe('');
      const video = plan.tracks.findIndex((t) => t.track.kind === 'video');
      expect(decodedFrames(file)[video]).toBe(frames.get(plan.tracks[video].stream)!.length);
    });
  }

  it('in-band parameter sets: SPS/PPS before every H.264 key frame, nothing else changed, still decodes', async () => {
    const c = usable[0];
    const plain = await buildAll(c.file);
    const inband = await buildAll(c.file, { inband: true });
    const ps = parameterSets(plain.plan.tracks[0].track.config)!;
    expect(ps.lengthSize).toBe(4);
    const a = parseMp4(plain.whole).samples.get(1)!;
    const b = parseMp4(inband.whole).samples.get(1)!;
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) {
      if (!a[i].sync) expect(b[i].size).toBe(a[i].size);
      else {
        expect(Buffer.from(b[i].data.subarray(0, ps.prefix.length)).equals(Buffer.from(ps.prefix))).toBe(true);
        expect(Buffer.from(b[i].data.subarray(ps.prefix.length)).equals(Buffer.from(a[i].data))).toBe(true);
      }
    }
    const file = tmp.file('inband.mp4');
    writeFileSync(file, inband.whole);
    expect(ffmpegErrors(file)).toBe('');
  });
});

describe('fMP4 pieces', () => {
  const sample = (n: number, fill: number) => new Uint8Array(n).fill(fill);

  it('a fragment by hand: negative composition offsets, a 2^33 decode time, data offsets into the mdat', () => {
    const f = buildFragment(7, [
      {
        id: 1,
        baseDecodeTime: 2 ** 33 + 5,
        samples: [
          { data: sample(10, 1), duration: 512, cto: 0, key: true },
          { data: sample(20, 2), duration: 512, cto: 1024, key: false },
          { data: sample(30, 3), duration: 512, cto: -512, key: false },
        ],
      },
      { id: 2, baseDecodeTime: 0, samples: [{ data: sample(5, 9), duration: 1024, cto: -1024, key: true }] },
    ]);
    const boxes = walkBoxes(f.bytes);
    const [moof, mdat] = boxes;
    expect(mdat.type).toBe('mdat');
    expect(mdat.size).toBe(8 + 65);
    const truns = findBox(boxes, 'moof/traf/trun').map((t) => new DataView(t.body.buffer, t.body.byteOffset, t.body.length));
    expect(truns[0].getUint32(4)).toBe(3);
    expect(truns[0].getInt32(8)).toBe(moof.size + 8); // data_offset from the moof's first byte
    expect(truns[1].getInt32(8)).toBe(moof.size + 8 + 60);
    expect([truns[0].getInt32(12 + 16 + 12), truns[0].getInt32(12 + 32 + 12), truns[1].getInt32(12 + 12)]).toEqual([1024, -512, -1024]);
    expect([truns[0].getUint32(12 + 8), truns[0].getUint32(12 + 16 + 8)]).toEqual([0x02000000, 0x01010000]);
    const tfdt = findBox(boxes, 'moof/traf/tfdt')[0];
    expect(new DataView(tfdt.body.buffer, tfdt.body.byteOffset).getBigUint64(4)).toBe(2n ** 33n + 5n);
    expect(Array.from(f.bytes.subarray(moof.size + 8 + 60, moof.size + 8 + 65))).toEqual([9, 9, 9, 9, 9]);

    const moved = retimeMoof(f, [1000, -0], 42);
    const mb = walkBoxes(moved);
    expect(new DataView(findBox(mb, 'moof/traf/tfdt')[0].body.buffer, findBox(mb, 'moof/traf/tfdt')[0].body.byteOffset).getBigUint64(4)).toBe(2n ** 33n + 1005n);
    expect(new DataView(findBox(mb, 'moof/mfhd')[0].body.buffer, findBox(mb, 'moof/mfhd')[0].body.byteOffset).getUint32(4)).toBe(42);
    expect(() => retimeMoof(f, [0, -1], 1)).toThrow(RangeError);
    expect(() => buildFragment(1, [{ id: 1, baseDecodeTime: -1, samples: [] }])).toThrow(TypeError);
  });

  it('init segments of every sample entry parse with mp4box, with the codec strings HLS needs', () => {
    const avcC = new Uint8Array([1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1e, 1, 0, 4, 0x68, 0xeb, 0xe3, 0xcb]);
    const head = new Uint8Array(19);
    head.set(new TextEncoder().encode('OpusHead'));
    head[8] = 1;
    head[9] = 2;
    new DataView(head.buffer).setUint16(10, 312, true);
    new DataView(head.buffer).setUint32(12, 48000, true);
    const init = buildInit([
      { id: 1, kind: 'video', codec: 'avc1.64001e', timescale: 15360, width: 640, height: 360, config: { format: 'avcC', data: avcC } },
      { id: 2, kind: 'audio', codec: 'mp4a.40.2', timescale: 48000, sampleRate: 48000, channels: 2, language: 'fra' },
      { id: 3, kind: 'audio', codec: 'opus', timescale: 48000, config: { format: 'OpusHead', data: head } },
      { id: 4, kind: 'video', codec: 'vp09.00.10.08', timescale: 1000, width: 160, height: 90 },
      { id: 5, kind: 'video', codec: 'av01.0.04M.08', timescale: 1000, width: 160, height: 90 },
    ]);
    const info = parseMp4(init).info;
    expect(info.tracks.map((t: any) => t.codec)).toEqual(['avc1.64001e', 'mp4a.40.2', 'Opus', expect.stringMatching(/^vp09\.00\.10\.08/), expect.stringMatching(/^av01\.0\.04M\.08/)]);
    expect(info.tracks[1].language).toBe('fra');
    expect(info.tracks[2].audio.channel_count).toBe(2);
  });

  it('refuses what fMP4 cannot carry here, and converts the configurations it can', () => {
    expect(sampleEntryType({ codec: 'vorbis' })).toBeUndefined();
    expect(sampleEntryType({ codec: 'vp8' })).toBeUndefined();
    expect(sampleEntryType({ codec: 'mp3' })).toBeUndefined();
    expect(sampleEntryType({ codec: 'avc1.64001e' })).toBeUndefined(); // no avcC
    expect(() => buildInit([{ id: 1, kind: 'audio', codec: 'vorbis', timescale: 48000 }])).toThrow(/cannot be carried/);
    const head = new Uint8Array([...new TextEncoder().encode('OpusHead'), 1, 6, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0xff, 0xfe, 1, 4, 2, 0, 4, 1, 2, 3, 5]);
    expect(Array.from(dOpsFromOpusHead(head))).toEqual([0, 6, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0xfe, 0xff, 1, 4, 2, 0, 4, 1, 2, 3, 5]);
    expect(Array.from(vpcCFromCodec('vp09.02.31.10'))).toEqual([1, 0, 0, 0, 2, 31, 0xa2, 2, 2, 2, 0, 0]);
    expect(Array.from(av1CFromCodec('av01.0.08H.10'))).toEqual([0x81, 0x08, 0xcc, 0]);
    expect(packLanguage('und')).toBe(0x55c4);
    expect(packLanguage('en')).toBe(0x55c4);
    expect(parameterSets({ format: 'vpcC', data: new Uint8Array(4) })).toBeUndefined();
    expect(parameterSets({ format: 'avcC', data: new Uint8Array([1, 2, 3]) })).toBeUndefined();
  });
});

