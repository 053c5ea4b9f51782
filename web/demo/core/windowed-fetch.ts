// Missing frames asked for a window at a time. The time index knows which samples a time holds only from
// frames it holds: where none are near, a gap is the whole stretch between held frames, up to the whole
// stream. A Node server with a 4 GiB ring fetches that and is done; a demo server with a 256 KiB data
// section would evict the first of those frames before the last arrive. So the samples asked for are cut
// to the request's window, estimated from the track's average frame duration with a margin, and the
// cover is checked again after each download: with frames near the window now held, the next gaps are
// exact (the key frame before the window, if the first guess missed it). The margin grows each round; the
// last round asks for the gaps as they are.
import type { Gap, TimeIndex } from '../../../shared/media/time-index.ts';
import type { Guid } from '../../../shared/stu/index.ts';

type Range = { from: number; to: number };

export interface WindowedFetchDeps {
  index: Pick<TimeIndex, 'get' | 'cover'>;
  download(media: Guid, stream: number, ranges: Range[], signal?: AbortSignal): Promise<void>;
}

export function windowedFetch(deps: WindowedFetchDeps, rounds = 4) {
  return async (id: Guid, stream: number, gaps: Gap[], signal?: AbortSignal, want?: { from: number; to: number }): Promise<void> => {
    const whole = (g: readonly Gap[]): Range[] => g.map((x) => ({ from: x.fromSample, to: x.toSample }));
    const track = deps.index.get(id)?.tracks[stream];
    if (!want || !track || track.frames === 0) return deps.download(id, stream, whole(gaps), signal);
    const start = track.start / track.timescale;
    const perFrame = track.duration / track.timescale / track.frames;
    const sampleAt = (t: number) => (t - start) / perFrame;
    for (let round = 0; round < rounds; round++) {
      const c = deps.index.cover(id, stream, want.from, want.to);
      if (!c || c.complete) return;
      if (round === rounds - 1) return deps.download(id, stream, whole(c.gaps), signal);
      const margin = 0.25 * 4 ** round; // seconds: 0.25, 1, 4
      const lo = Math.max(0, Math.floor(sampleAt(want.from - margin)));
      const hi = Math.min(track.frames, Math.ceil(sampleAt(want.to + margin)));
      const ranges = c.gaps.map((g) => ({ from: Math.max(g.fromSample, lo), to: Math.min(g.toSample, hi) })).filter((r) => r.to > r.from);
      if (ranges.length > 0) await deps.download(id, stream, ranges, signal);
    }
  };
}
