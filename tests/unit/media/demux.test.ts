// Ingest of real files made by ffmpeg, checked against ffprobe and ffmpeg's own packet hashes: frame counts,
// key frames, times, durations and the sample bytes themselves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '../../../shared/media/metadata.ts';
import { ffmpeg, framemd5, hasEncoder, ingestFileToSink, md5, probePackets, probeStreams, SRC, TempDir } from './helpers.ts';

interface Case {
  name: string;
  file: string;
  args: string[];
  container: string;
  codecs: RegExp[];
  configs: Array<string | undefined>;
  /** ffprobe's decode times are the container's own (MP4): compare them too. */
  dts?: boolean;
  skip?: boolean;
}

const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '30', '-pix_fmt', 'yuv420p'];
const av1 = hasEncoder('libsvtav1')
  ? ['-c:v', 'libsvtav1', '-preset', '12', '-g', '30']
  : hasEncoder('libaom-av1')
    ? ['-c:v', 'libaom-av1', '-cpu-used', '8', '-row-mt', '1', '-g', '30']
    : undefined;

const cases: Case[] = [
  {
    name: 'MP4 H.264 with B-frames + AAC (moov at the end)',
    file: 'h264-aac.mp4',
    args: [...SRC.video(3), ...SRC.audio(3), ...X264, '-c:a', 'aac', '-b:a', '64k'],
    container: 'mp4',
    codecs: [/^avc1\.[0-9a-f]{6}$/, /^mp4a\.40\.2$/],
    configs: ['avcC', 'AudioSpecificConfig'],
    dts: true,
  },
  {
    name: 'MP4 H.264 + AAC, faststart',
    file: 'h264-faststart.mp4',
    args: [...SRC.video(2), ...SRC.audio(2), ...X264, '-c:a', 'aac', '-movflags', '+faststart'],
    container: 'mp4',
    codecs: [/^avc1\./, /^mp4a\.40\.2$/],
    configs: ['avcC', 'AudioSpecificConfig'],
    dts: true,
  },
  {
    name: 'fragmented MP4 H.264 + AAC',
    file: 'h264-frag.mp4',
    args: [...SRC.video(3), ...SRC.audio(3), ...X264, '-c:a', 'aac', '-movflags', 'frag_keyframe+empty_moov+default_base_moof'],
    container: 'mp4',
    codecs: [/^avc1\./, /^mp4a\.40\.2$/],
    configs: ['avcC', 'AudioSpecificConfig'],
    dts: true,
  },
  {
    name: 'MP4 H.265',
    file: 'hevc.mp4',
    args: [...SRC.video(2), '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:bframes=3', '-g', '30', '-tag:v', 'hvc1'],
    container: 'mp4',
    codecs: [/^hvc1\.1\.6\.L\d+\.[0-9A-F]+/],
    configs: ['hvcC'],
    dts: true,
  },
  {
    name: 'MP4 H.264 + Opus',
    file: 'h264-opus.mp4',
    args: [...SRC.video(2), ...SRC.audio(2), ...X264, '-c:a', 'libopus', '-b:a', '48k'],
    container: 'mp4',
    codecs: [/^avc1\./, /^opus$/],
    configs: ['avcC', 'OpusHead'],
    dts: true,
  },
  {
    name: 'MP4 VP9 + Opus',
    file: 'vp9-opus.mp4',
    args: [...SRC.video(2), ...SRC.audio(2), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30', '-c:a', 'libopus'],
    container: 'mp4',
    codecs: [/^vp09\.00\.\d\d\.08$/, /^opus$/],
    configs: ['vpcC', 'OpusHead'],
    dts: true,
  },
  {
    name: 'MP4 AV1 + AAC',
    file: 'av1-aac.mp4',
    args: [...SRC.video(2), ...SRC.audio(2), ...(av1 ?? []), '-c:a', 'aac'],
    container: 'mp4',
    codecs: [/^av01\.0\.\d\d[MH]\.08$/, /^mp4a\.40\.2$/],
    configs: ['av1C', 'AudioSpecificConfig'],
    dts: true,
    skip: !av1,
  },
  {
    name: 'MP4 H.264 + MP3',
    file: 'h264-mp3.mp4',
    args: [...SRC.video(2), ...SRC.audio(2), ...X264, '-c:a', 'libmp3lame'],
    container: 'mp4',
    codecs: [/^avc1\./, /^mp4a\.6b$/],
    configs: ['avcC', undefined],
    dts: true,
  },
  {
    name: 'MKV H.264 + FLAC',
    file: 'h264-flac.mkv',
    args: [...SRC.video(2), ...SRC.audio(2), ...X264, '-c:a', 'flac'],
    container: 'matroska',
    codecs: [/^avc1\./, /^flac$/],
    configs: ['avcC', 'flac'],
  },
  {
    name: 'MOV H.264 + AAC',
    file: 'h264-aac.mov',
    args: [...SRC.video(2), ...SRC.audio(2), ...X264, '-c:a', 'aac'],
    container: 'mov',
    codecs: [/^avc1\./, /^mp4a\.40\.2$/],
    configs: ['avcC', 'AudioSpecificConfig'],
    dts: true,
  },
  {
    name: 'WebM VP8 + Vorbis',
    file: 'vp8-vorbis.webm',
    args: [...SRC.video(2), ...SRC.audio(2), '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30', '-c:a', 'libvorbis'],
    container: 'webm',
    codecs: [/^vp8$/, /^vorbis$/],
    configs: [undefined, 'xiph'],
  },
  {
    name: 'WebM VP9 + Opus',
    file: 'vp9-opus.webm',
    args: [...SRC.video(2), ...SRC.audio(2), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30', '-c:a', 'libopus'],
    container: 'webm',
    codecs: [/^vp09\.00\.\d\d\.08$/, /^opus$/],
    configs: [undefined, 'OpusHead'],
  },
  {
    name: 'WebM AV1 + Opus',
    file: 'av1-opus.webm',
    args: [...SRC.video(2), ...SRC.audio(2), ...(av1 ?? []), '-c:a', 'libopus'],
    container: 'webm',
    codecs: [/^av01\.0\.\d\d[MH]\.08$/, /^opus$/],
    configs: ['av1C', 'OpusHead'],
    skip: !av1,
  },
  {
    name: 'MKV H.264 with B-frames + Vorbis',
    file: 'h264-vorbis.mkv',
    args: [...SRC.video(3), ...SRC.audio(3), ...X264, '-c:a', 'libvorbis'],
    container: 'matroska',
    codecs: [/^avc1\./, /^vorbis$/],
    configs: ['avcC', 'xiph'],
  },
  {
    name: 'MKV H.265 + AAC',
    file: 'hevc-aac.mkv',
    args: [...SRC.video(2), ...SRC.audio(2), '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-g', '30', '-c:a', 'aac'],
    container: 'matroska',
    codecs: [/^hev1\.1\.6\.L\d+\./, /^mp4a\.40\.2$/],
    configs: ['hvcC', 'AudioSpecificConfig'],
  },
];

const tmp = new TempDir();
afterAll(() => tmp.cleanup());

describe.each(cases.filter((c) => !c.skip))('ingest $name', (c) => {
  const file = tmp.file(c.file);
  let ingested: Awaited<ReturnType<typeof ingestFileToSink>>;
  let packets: ReturnType<typeof probePackets>;
  let streams: ReturnType<typeof probeStreams>;

  beforeAll(async () => {
    ffmpeg([...c.args, file]);
    ingested = await ingestFileToSink(file);
    packets = probePackets(file);
    streams = probeStreams(file);
  });

  it('writes one frame STU per packet, then one metadata STU, last', () => {
    const { sink, result } = ingested;
    expect(result.container).toBe(c.container);
    expect(result.tracks.length).toBe(streams.length);
    const frames = sink.frames();
    for (const s of streams) expect(frames.get(s.index)?.length, `stream ${s.index}`).toBe(s.packets);
    expect(result.frames).toBe(streams.reduce((n, s) => n + s.packets, 0));
    const decoded = sink.decoded();
    expect(sink.meta().length).toBe(1);
    expect(decoded[decoded.length - 1].header.type).toBe(0x0100);
    for (const s of decoded.slice(0, -1)) {
      expect(s.header.flags & 1).toBe(1);
      expect(s.header.object).toBe(result.id);
    }
  });

  it('describes tracks: kind, codec string, timescale, configuration', () => {
    const { result, sink } = ingested;
    const meta = parseMetadata(sink.meta()[0].body);
    expect(meta.ok).toBe(true);
    if (!meta.ok) return;
    expect(meta.value.id).toBe(result.id);
    result.tracks.forEach((t, i) => {
      expect(t.kind).toBe(streams[i].type);
      expect(t.codec).toMatch(c.codecs[i]);
      expect(t.timescale).toBe(streams[i].timeBase[1]);
      expect(streams[i].timeBase[0]).toBe(1);
      expect(t.config?.format).toBe(c.configs[i]);
      expect(meta.value.tracks[i].codec).toBe(t.codec);
      expect(meta.value.tracks[i].frames).toBe(streams[i].packets);
      if (t.kind === 'video') expect([t.width, t.height]).toEqual([160, 90]);
      else expect(t.sampleRate).toBe(48000);
    });
    expect(meta.value.duration).toBeGreaterThan(1.5);
    expect(meta.value.duration).toBeLessThan(3.2);
  });

  it('keeps decode times monotonic and each duration = next dts - dts', () => {
    for (const [stream, frames] of ingested.sink.frames()) {
      frames.forEach((f, i) => {
        expect(f.sample, `stream ${stream}`).toBe(i);
        if (i + 1 < frames.length) {
          expect(frames[i + 1].dts).toBeGreaterThanOrEqual(f.dts);
          expect(f.duration).toBe(frames[i + 1].dts - f.dts);
        } else expect(f.duration).toBeGreaterThan(0);
        expect(f.pts - f.dts).toBeGreaterThanOrEqual(-f.timescale); // offsets stay small
      });
      const t = ingested.result.tracks[stream];
      expect(Math.min(...frames.map((f) => f.pts))).toBe(t.start);
    }
  });

  it('starts the first video presentation at 0, and matches ffprobe times shifted by the same instant', () => {
    const video = streams.find((s) => s.type === 'video')!;
    const videoPts = packets.filter((p) => p.stream === video.index).map((p) => p.pts!);
    const t0 = Math.min(...videoPts) / video.timeBase[1]; // seconds
    const frames = ingested.sink.frames();
    expect(Math.min(...frames.get(video.index)!.map((f) => f.pts))).toBe(0);
    for (const s of streams) {
      const ours = frames.get(s.index)!;
      const theirs = packets.filter((p) => p.stream === s.index);
      const shift = Math.round(t0 * s.timeBase[1]);
      ours.forEach((f, i) => {
        expect(f.pts, `stream ${s.index} frame ${i}`).toBe(theirs[i].pts! - shift);
        if (c.dts) expect(f.dts, `stream ${s.index} frame ${i} dts`).toBe(theirs[i].dts! - shift);
      });
    }
  });

  it('flags key frames where ffprobe does', () => {
    const frames = ingested.sink.frames();
    for (const s of streams) {
      const theirs = packets.filter((p) => p.stream === s.index).map((p) => p.key);
      expect(frames.get(s.index)!.map((f) => f.key), `stream ${s.index}`).toEqual(theirs);
    }
    const v = frames.get(streams.find((s) => s.type === 'video')!.index)!;
    expect(v[0].key).toBe(true);
    expect(v.filter((f) => f.key).length).toBeGreaterThanOrEqual(2);
  });

  it('stores the sample bytes ffmpeg demuxes (md5 of every frame)', () => {
    const hashes = framemd5(file);
    const frames = ingested.sink.frames();
    for (const s of streams) {
      const ours = frames.get(s.index)!.map((f) => md5(f.body));
      expect(ours, `stream ${s.index}`).toEqual(hashes.get(s.index));
    }
  });
});
