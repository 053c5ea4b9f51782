// The segmenter: where segments are cut (video key frames near the target, audio-only by duration), that
// every frame lands in exactly one segment, planning without a time index, the byte-bounded cache and
// single-flight builds; the playlists; and channels laid out from clips (snapping, discontinuities, maps, the
// live window and its sequence numbers, segments retimed into channel time).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retimeMoof } from '../../../shared/media/fmp4/fragment.ts';
import type { MediaMetadata } from '../../../shared/media/metadata.ts';
import type { ChannelSchedule } from '../../../shared/media/schedule.ts';
import { channelPlaylist, channelSegment, channelTimeline, discontinuitySequence, liveSequence } from '../../../shared/media/segments-channel.ts';
import { fmtDuration, masterPlaylist, mediaPlaylist } from '../../../shared/media/segments-hls.ts';
import { ByteLru } from '../../../shared/media/segments-cache.ts';
import { chooseCuts, indexFrameTimes, type SegmentPlan, Segmenter } from '../../../shared/media/segments.ts';
import { findBox, MemoryMediaSource, parseMp4, walkBoxes } from './fmp4-helpers.ts';
import { ffmpeg, SRC, TempDir } from './helpers.ts';

const tmp = new TempDir();
afterAll(() => tmp.cleanup());

const h264 = (file: string, seconds: number, gop: number, size = '160x90') =>
  ffmpeg([...SRC.video(seconds, size), ...SRC.audio(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-c:a', 'aac', '-b:a', '48k', tmp.file(file)]);

interface Loaded {
  source: MemoryMediaSource;
  meta: MediaMetadata;
  frames: Map<number, Array<{ sample: number; dts: number; pts: number; key: boolean }>>;
}
const media: Record<string, Loaded> = {};

beforeAll(async () => {
  h264('g1.mp4', 7, 30); // a key frame every second
  h264('g25.mp4', 6, 75); // every 2.5 s
  h264('wide.mp4', 4, 30, '192x108'); // another resolution: another init segment
  ffmpeg([...SRC.audio(5), '-c:a', 'aac', '-b:a', '48k', tmp.file('audio.m4a')]);
  for (const f of ['g1.mp4', 'g25.mp4', 'wide.mp4', 'audio.m4a']) {
    const { source, meta, sink } = await MemoryMediaSource.fromFile(tmp.file(f));
    media[f] = { source, meta, frames: sink.frames() };
  }
});

const segmenter = (m: Loaded, opts: { cacheBytes?: number; index?: boolean } = {}) =>
  new Segmenter(m.source, { cacheBytes: opts.cacheBytes, frameTimes: opts.index === false ? undefined : indexFrameTimes(m.source.index) });

describe('cut points', () => {
  const keys = (seconds: number[], ts = 1000) => seconds.map((s) => s * ts);
  it('cuts at the key frame nearest to start + target, at least half a target on', () => {
    expect(chooseCuts(keys([0, 2, 4, 6]), 1000, 2)).toEqual([0, 1, 2, 3]);
    expect(chooseCuts(keys([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]), 1000, 2)).toEqual([0, 4, 8]);
    expect(chooseCuts(keys([0, 5.12, 10.24]), 1000, 2)).toEqual([0, 1, 2]);
    expect(chooseCuts(keys([0, 0.1, 5]), 1000, 2)).toEqual([0, 2]); // not a 0.1 s segment
    expect(chooseCuts(keys([0, 1.5, 3, 4.5]), 1000, 2)).toEqual([0, 1, 2, 3]); // 1.5 is nearer 2 than 3 is
    expect(chooseCuts(keys([0, 1, 3]), 1000, 2)).toEqual([0, 2]); // a tie goes to the later key frame
    expect(chooseCuts([], 1000, 2)).toEqual([]);
    expect(chooseCuts(keys([0, 1, 2, 3]), 1000, 2, 4000)).toEqual([0, 2]); // the end at 4 s beats a cut at 3 s
    expect(chooseCuts(keys([0, 1, 2, 3]), 1000, 2, 6000)).toEqual([0, 2, 3]);
  });
});

describe('segment plans', () => {
  it('video: cut at key frames near 2 s; every video sample in exactly one segment; durations add up', async () => {
    for (const [f, expected] of [
      ['g1.mp4', [0, 2, 4, 6, 7]],
      ['g25.mp4', [0, 2.5, 5, 6]],
    ] as const) {
      const m = media[f];
      const plan = await segmenter(m).plan(m.meta.id);
      expect(Array.from(plan.starts).map((s) => +s.toFixed(3))).toEqual(expected);
      expect(plan.duration).toBe(m.meta.duration);
      const video = m.frames.get(0)!;
      for (let i = 0; i < plan.count; i++) {
        const first = video[plan.samples![i]];
        expect(first.key).toBe(true);
        expect(first.pts).toBe(plan.cuts[i]);
      }
      expect(plan.samples![plan.count]).toBe(video.length);
      expect(plan.codecs).toEqual(m.meta.tracks.map((t) => t.codec));
    }
  });

  it('every frame of every track lands in exactly one built segment', async () => {
    for (const f of ['g1.mp4', 'g25.mp4', 'audio.m4a']) {
      const m = media[f];
      const seg = segmenter(m);
      const plan = await seg.plan(m.meta.id);
      const parts = [await seg.init(m.meta.id)];
      for (let i = 0; i < plan.count; i++) parts.push((await seg.segment(m.meta.id, i)).bytes);
      const parsed = parseMp4(Buffer.concat(parts));
      for (const pt of plan.tracks) expect(parsed.samples.get(pt.id)!.length, `${f} stream ${pt.stream}`).toBe(m.frames.get(pt.stream)!.length);
    }
  });

  it('audio-only media is cut every target seconds', async () => {
    const m = media['audio.m4a'];
    const plan = await segmenter(m).plan(m.meta.id);
    expect(plan.tracks.map((t) => t.track.kind)).toEqual(['audio']);
    expect(Array.from(plan.starts).map((s) => +s.toFixed(3))).toEqual([0, 2, 4, +m.meta.duration.toFixed(3)]);
  });

  it('plans the same without a time index, reading frames a window at a time', async () => {
    const m = media['g1.mp4'];
    const withIndex = await segmenter(m).plan(m.meta.id);
    const before = m.source.calls;
    const scanned = await new Segmenter(m.source, { scanWindow: 2.5 }).plan(m.meta.id);
    expect(m.source.calls - before).toBe(3);
    const strip = (p: SegmentPlan) => ({ ...p, bytes: undefined });
    expect(strip(scanned)).toEqual(strip(withIndex));
  });

  it('shifts decode times so none is negative and every track is led by the same span (ffmpeg keeps them in sync)', async () => {
    const m = media['g1.mp4'];
    const plan = await segmenter(m).plan(m.meta.id);
    const [v, a] = plan.tracks;
    expect(v.shift).toBe(-m.frames.get(0)![0].dts); // two frames of B-frame delay
    const leadV = (v.shift - Math.min(...m.frames.get(0)!.map((f) => f.pts - f.dts))) / v.track.timescale;
    const leadA = a.shift / a.track.timescale;
    expect(Math.abs(leadV - leadA)).toBeLessThan(1 / a.track.timescale + 1e-9);
    expect(a.shift).toBeGreaterThanOrEqual(-a.track.start);
  });
});

describe('the segment cache', () => {
  it('stays within its byte bound, counts hits, and builds a segment once for concurrent requests', async () => {
    const m = media['g1.mp4'];
    const probe = segmenter(m);
    const one = (await probe.segment(m.meta.id, 0)).bytes.length;
    const seg = segmenter(m, { cacheBytes: Math.floor(one * 2.5) });
    const id = m.meta.id;
    await seg.plan(id);
    const before = m.source.calls;
    const [a, b] = await Promise.all([seg.segment(id, 1), seg.segment(id, 1)]);
    expect(a).toBe(b);
    expect(m.source.calls - before).toBe(2); // one frames() call per track
    for (let i = 0; i < 4; i++) await seg.segment(id, i);
    expect(seg.cacheStats.bytes).toBeLessThanOrEqual(seg.cacheStats.maxBytes);
    expect(seg.cacheStats.segments).toBe(2);
    const hits = seg.cacheStats.hits;
    await seg.segment(id, 3);
    expect(seg.cacheStats.hits).toBe(hits + 1);
    await expect(seg.segment(id, 4)).rejects.toThrow(RangeError);
    await expect(seg.segment(id, -1)).rejects.toThrow(RangeError);
    await expect(seg.plan('00000000-0000-4000-8000-000000000000')).rejects.toThrow(RangeError);

    const lru = new ByteLru<string, number>(10, (n) => n);
    lru.set('a', 4);
    lru.set('b', 4);
    lru.get('a');
    lru.set('c', 4); // evicts b, the least recently used
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.bytes]).toEqual([4, undefined, 4, 8]);
    lru.set('huge', 11);
    expect(lru.get('huge')).toBeUndefined();
  });
});

describe('playlists', () => {
  it('a VOD media playlist and a master playlist', async () => {
    const m = media['g1.mp4'];
    const plan = await segmenter(m).plan(m.meta.id);
    const text = mediaPlaylist(plan);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MAP:URI="init.mp4"',
        ...[0, 1, 2].flatMap((i) => ['#EXTINF:2.000,', `seg-${i}.m4s`]),
        '#EXTINF:1.000,',
        'seg-3.m4s',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
    const master = masterPlaylist(plan);
    expect(master).toMatch(/#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",RESOLUTION=160x90,FRAME-RATE=30\.000\nindex\.m3u8\n/);
    expect([fmtDuration(2), fmtDuration(0.0333333), fmtDuration(7.007)]).toEqual(['2.000', '0.033333', '7.007']);
  });
});

describe('channels', () => {
  const schedule = (live: boolean, startedAt = 1_000_000): ChannelSchedule => ({
    name: 'tv',
    live,
    startedAt,
    clips: [
      { media: media['g1.mp4'].meta.id, startMs: 1000, endMs: 3000 }, // snaps to segment 0 (0-2 s) and 1 (2-4 s)
      { media: media['wide.mp4'].meta.id, startMs: 0, endMs: 4000 }, // another init: a discontinuity
      { media: media['g1.mp4'].meta.id, startMs: 4000, endMs: 7000 }, // back again: another one
      { media: '00000000-0000-4000-8000-000000000000', startMs: 0, endMs: 1000 }, // unknown: skipped
    ],
  });
  const multi = {
    metadata: (id: string) => Object.values(media).find((m) => m.meta.id === id)?.meta,
    frames: (id: string, stream: number, from: number, to: number) => Object.values(media).find((m) => m.meta.id === id)!.source.frames(id, stream, from, to),
  };
  const seg = new Segmenter(multi);

  it('lays clips end to end on segment boundaries, with a discontinuity and a new map where the init changes', async () => {
    const tl = await channelTimeline(schedule(false), seg);
    expect(tl.skipped.map((s) => s.clip)).toEqual([3]);
    expect(tl.entries.map((e) => [e.clip, e.index, +e.start.toFixed(3), +e.duration.toFixed(3), e.discontinuity])).toEqual([
      [0, 0, 0, 2, false], // entry 0: against the last clip's init (g1 -> g1), for a live channel's wrap
      [0, 1, 2, 2, false],
      [1, 0, 4, 2, true],
      [1, 1, 6, 2, false], // 2-4 s: the end beats a cut at the key frame at 3 s
      [2, 2, 8, 2, true],
      [2, 3, 10, 1, false],
    ]);
    expect(tl.length).toBeCloseTo(11, 6);
    const text = channelPlaylist(tl, { now: 0 })!;
    const g1 = media['g1.mp4'].meta.id;
    const wide = media['wide.mp4'].meta.id;
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text).toContain('#EXT-X-ENDLIST');
    expect(text).not.toContain('PROGRAM-DATE-TIME');
    expect(text.match(/#EXT-X-MAP:URI="[^"]+"/g)).toEqual([`#EXT-X-MAP:URI="init-${g1}.mp4"`, `#EXT-X-MAP:URI="init-${wide}.mp4"`, `#EXT-X-MAP:URI="init-${g1}.mp4"`]);
    expect(text.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY')).toHaveLength(2);
    expect(channelSegment(tl, 6)).toBeUndefined(); // on demand: one pass
  });

  it('live: a sliding window at (now - start) mod length, sequence and discontinuity numbers across passes', async () => {
    const start = 1_000_000;
    const tl = await channelTimeline(schedule(true, start), seg);
    expect(liveSequence(tl, start - 1)).toBeUndefined();
    expect(channelPlaylist(tl, { now: start - 1 })).toBeUndefined();
    expect(liveSequence(tl, start)).toBe(0);
    expect(liveSequence(tl, start + 4_500)).toBe(2);
    expect(liveSequence(tl, start + 11_000 + 10_999)).toBe(6 + 5); // second pass, last segment
    // Discontinuities: at entries 2 and 4 in each pass, and at the wrap (g1 -> g1: none).
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12].map((g) => discontinuitySequence(tl, g))).toEqual([0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4]);
    const now = start + 3 * 11_000 + 8_500; // pass 3, entry 4 (channel time 41.5 s)
    const text = channelPlaylist(tl, { now, window: 4 })!;
    const lines = text.split('\n');
    expect(lines).toContain('#EXT-X-MEDIA-SEQUENCE:19'); // 3 * 6 + 4 - 3
    expect(lines).toContain(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence(tl, 19)}`);
    expect(lines).not.toContain('#EXT-X-ENDLIST');
    expect(lines.filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))[0]).toBe(`#EXT-X-PROGRAM-DATE-TIME:${new Date(start + (3 * 11 + 2) * 1000).toISOString()}`);
    expect(lines.filter((l) => l.startsWith('seg-'))).toEqual(['seg-19.m4s', 'seg-20.m4s', 'seg-21.m4s', 'seg-22.m4s']);
    // The same moment for everyone: two viewers asking at the same instant get the same playlist.
    expect(channelPlaylist(tl, { now, window: 4 })).toBe(text);
  });

  it('retimes a segment into channel time: tfdt and the first presentation time follow the pass', async () => {
    const tl = await channelTimeline(schedule(true), seg);
    for (const g of [0, 2, 4, 6 + 4, 3 * 6 + 1]) {
      const r = channelSegment(tl, g)!;
      const s = await seg.segment(r.entry.media, r.entry.index, { inband: true });
      const moof = retimeMoof(
        s,
        s.timescales.map((ts) => Math.round(r.delta * ts)),
        g + 1,
      );
      const plan = await seg.plan(r.entry.media);
      const [init] = [await seg.init(r.entry.media)];
      const parsed = parseMp4(Buffer.concat([init, moof, s.bytes.subarray(s.moofSize)]));
      const v = parsed.samples.get(1)!;
      const ts = plan.tracks[0].track.timescale;
      const channelStart = r.pass * tl.length + r.entry.start;
      expect(Math.min(...v.map((x) => x.cts)) / ts).toBeCloseTo(channelStart, 4);
      const tfdt = findBox(walkBoxes(moof), 'moof/traf/tfdt')[0];
      expect(Number(new DataView(tfdt.body.buffer, tfdt.body.byteOffset).getBigUint64(4))).toBe(v[0].dts);
    }
  });
});
