// The timestamp rules on synthetic frames (no I/O): rebase, derived decode times, durations, numbering.
import { describe, expect, it } from 'vitest';
import type { DemuxTrack, RawFrame } from '../../../shared/media/demux/types.ts';
import { MediaError } from '../../../shared/media/errors.ts';
import { rescale, reorderDelay, type TimedFrame, Timeline } from '../../../shared/media/timeline.ts';

const track = (index: number, kind: 'video' | 'audio', timescale: number, hasDts: boolean): DemuxTrack => ({
  index,
  kind,
  codec: kind === 'video' ? 'avc1.640028' : 'opus',
  timescale,
  hasDts,
  sourceId: index + 1,
});
const data = new Uint8Array(4);

function run(tracks: DemuxTrack[], frames: RawFrame[], startPts?: Map<number, number>): TimedFrame[] {
  const t = new Timeline(tracks, startPts);
  const out: TimedFrame[] = [];
  for (const f of frames) out.push(...t.push(f));
  out.push(...t.finish());
  return out;
}
const of = (out: TimedFrame[], stream: number) => out.filter((f) => f.stream === stream);

describe('Timeline', () => {
  it('derives decode times from presentation times (I P B B, ms ticks) and rebases video to 0', () => {
    // Matroska-like: pts only, first video pts 7 ms (codec delay shift), audio from 0 with -7 ms delay applied.
    const pts = [7, 107, 40, 74, 207, 140, 174, 307, 240, 274];
    const v: RawFrame[] = pts.map((p, i) => ({ track: 0, pts: p, key: i === 0, data }));
    const a: RawFrame[] = Array.from({ length: 10 }, (_, i) => ({ track: 1, pts: -7 + 20 * i, duration: 20, key: true, data }));
    const out = run([track(0, 'video', 1000, false), track(1, 'audio', 1000, false)], [...v, ...a]);
    const video = of(out, 0);
    expect(video.map((f) => f.pts)).toEqual(pts.map((p) => p - 7));
    expect(Math.min(...video.map((f) => f.pts))).toBe(0);
    const dts = video.map((f) => f.dts);
    expect(dts).toEqual([...dts].sort((x, y) => x - y));
    for (const f of video) expect(f.dts).toBeLessThanOrEqual(f.pts);
    expect(video[0].dts).toBe(-34); // one frame of reorder delay (34 ms: the largest step of the 33/34 ms cadence)
    for (let i = 0; i + 1 < video.length; i++) expect(video[i].duration).toBe(video[i + 1].dts - video[i].dts);
    expect(video.map((f) => f.sample)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const audio = of(out, 1);
    expect(audio[0].pts).toBe(-14);
    expect(audio.at(-1)!.duration).toBe(20); // the last keeps its container duration
  });

  it('rebases tracks of other timescales by the same instant, exactly', () => {
    const v: RawFrame[] = [0, 1, 2].map((i) => ({ track: 0, dts: 1024 + 512 * i, pts: 1024 + 512 * i, duration: 512, key: i === 0, data }));
    const a: RawFrame[] = [0, 1, 2].map((i) => ({ track: 1, dts: 1024 * i, pts: 1024 * i, duration: 1024, key: true, data }));
    const out = run([track(0, 'video', 15360, true), track(1, 'audio', 48000, true)], [...a, ...v], new Map([[0, 1024]]));
    expect(of(out, 0).map((f) => f.pts)).toEqual([0, 512, 1024]);
    expect(of(out, 1).map((f) => f.pts)).toEqual([-3200, -2176, -1152]);
    expect(rescale(1024, 15360, 48000)).toBe(3200);
    expect(rescale(2 ** 52, 90000, 90000)).toBe(2 ** 52);
    expect(rescale(-3, 2, 1)).toBe(Math.round(-1.5));
  });

  it('without video, audio starting late is moved to 0 but priming before 0 is kept', () => {
    const late = run([track(0, 'audio', 48000, true)], [0, 1].map((i) => ({ track: 0, dts: 96000 + 1024 * i, pts: 96000 + 1024 * i, duration: 1024, key: true, data })));
    expect(late.map((f) => f.pts)).toEqual([0, 1024]);
    const primed = run([track(0, 'audio', 48000, true)], [0, 1].map((i) => ({ track: 0, dts: -1024 + 1024 * i, pts: -1024 + 1024 * i, duration: 1024, key: true, data })));
    expect(primed.map((f) => f.pts)).toEqual([-1024, 0]);
  });

  it('refuses decode times going backwards', () => {
    const frames: RawFrame[] = [
      { track: 0, dts: 100, pts: 100, key: true, data },
      { track: 0, dts: 50, pts: 50, key: false, data },
    ];
    expect(() => run([track(0, 'video', 1000, true)], frames, new Map([[0, 0]]))).toThrow(MediaError);
  });

  it('reorderDelay is the smallest delay keeping dts <= pts', () => {
    expect(reorderDelay([{ pts: 0 }, { pts: 3 }, { pts: 1 }, { pts: 2 }])).toBe(1);
    expect(reorderDelay([{ pts: 0 }, { pts: 4 }, { pts: 2 }, { pts: 1 }, { pts: 3 }])).toBe(2);
    expect(reorderDelay([{ pts: 0 }, { pts: 1 }, { pts: 2 }])).toBe(0);
  });

  it('copies frame bytes it has to hold (views into read buffers are not pinned)', () => {
    const big = new Uint8Array(1 << 20);
    const view = big.subarray(0, 8);
    const t = new Timeline([track(0, 'video', 1000, false)]);
    t.push({ track: 0, pts: 0, key: true, data: view });
    const out = t.finish();
    expect(out[0].data.buffer).not.toBe(big.buffer);
    expect(out[0].data.length).toBe(8);
  });
});
