// Where segment builders and gateways get media from, on any platform: the metadata, and the frames of a
// time range with their bytes, read from a ring through the media time index. Frames not held here are
// asked for through `fetchMissing` (data discovery across servers, shared/sync/discovery.ts) and waited for
// up to `waitMs`; then the request fails with MediaUnavailableError, which a gateway turns into a clear
// error (HTTP 504, RTSP 504). Node servers (node-peer/media/frames.ts) and the in-tab demo's servers
// (web/demo/) use the same class over their own rings.
import type { Loc, Ring } from '../ring/types.ts';
import type { Guid } from '../stu/index.ts';
import { HEADER_SIZE } from '../stu/index.ts';
import type { MediaMetadata } from './metadata.ts';
import type { Coverage, FrameRef, Gap, TimeIndex } from './time-index.ts';

export interface Frame extends FrameRef {
  /** The sample bytes (the frame STU's body). */
  data: Uint8Array;
}

/** One play of a gateway, for usage reporting. */
export interface Play {
  gateway: 'hls' | 'rtsp';
  media?: Guid;
  channel?: string;
  startMs: number;
  durationMs: number;
  client?: string;
}

export class MediaUnavailableError extends Error {
  readonly code = 'MEDIA_UNAVAILABLE';
  constructor(
    message: string,
    readonly gaps: Gap[] = [],
  ) {
    super(message);
    this.name = 'MediaUnavailableError';
  }
}

export interface MediaSource {
  metadata(id: Guid): MediaMetadata | undefined;
  list(): MediaMetadata[];
  /** Frames of stream `stream` presented in [from, to) seconds, in decode order, from the key frame at or
   *  before `from`, with their bytes. Waits for missing frames; throws MediaUnavailableError when they do
   *  not come in time, RangeError for an unknown media or stream. */
  frames(id: Guid, stream: number, from: number, to: number, opts?: { signal?: AbortSignal }): Promise<Frame[]>;
  /** Records a play (usage reporting); never throws. */
  recordPlay(play: Play): void;
}

export interface RingMediaSourceOptions {
  /**
   * Asks other servers for the frames of these gaps; resolves when they have been stored (or gave up).
   * `want` is the request's window in seconds: where nothing near it is held, a gap is the whole stretch
   * between held frames (the index cannot tell which samples a time holds), which a caller with a small
   * ring may narrow.
   */
  fetchMissing?: (id: Guid, stream: number, gaps: Gap[], signal?: AbortSignal, want?: { from: number; to: number }) => Promise<void>;
  /** How long a request waits for missing frames. Default 10 s. */
  waitMs?: number;
  recordPlay?: (play: Play) => void;
}

/** What a RingMediaSource reads: the media time index and the ring it indexes. */
export interface RingMediaHolder {
  index: Pick<TimeIndex, 'get' | 'list' | 'cover'>;
  ring: Pick<Ring, 'readMany'>;
}

/** A MediaSource over a ring and its time index, fetching missing frames from peers when told how. */
export class RingMediaSource implements MediaSource {
  /** Requests that found frames missing here, and how many of those were then complete. */
  readonly fetches = { asked: 0, completed: 0 };

  constructor(
    private readonly holder: RingMediaHolder,
    private readonly opts: RingMediaSourceOptions = {},
  ) {}

  metadata(id: Guid): MediaMetadata | undefined {
    return this.holder.index.get(id);
  }

  list(): MediaMetadata[] {
    return this.holder.index.list();
  }

  async frames(id: Guid, stream: number, from: number, to: number, opts: { signal?: AbortSignal } = {}): Promise<Frame[]> {
    const m = this.metadata(id);
    if (!m) throw new RangeError(`no media ${id}`);
    if (!m.tracks[stream]) throw new RangeError(`media ${id} has no stream ${stream}`);
    let cover = this.cover(id, stream, from, to);
    if (!cover.complete) {
      const waitMs = this.opts.waitMs ?? 10_000;
      if (!this.opts.fetchMissing) throw new MediaUnavailableError(`frames of ${id} stream ${stream} ${from}-${to} s are not held here`, cover.gaps);
      this.fetches.asked++;
      const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(waitMs)]) : AbortSignal.timeout(waitMs);
      let why = `did not arrive within ${waitMs} ms`;
      await this.opts.fetchMissing(id, stream, cover.gaps, signal, { from, to }).catch((e: unknown) => {
        if ((e as { code?: string }).code === 'NO_MEDIA') why = `are held by no reachable server (${(e as Error).message})`;
      });
      cover = this.cover(id, stream, from, to);
      if (!cover.complete) throw new MediaUnavailableError(`frames of ${id} stream ${stream} ${from}-${to} s ${why}`, cover.gaps);
      this.fetches.completed++;
    }
    const got = await this.holder.ring.readMany(cover.frames.map((f): Loc => f.loc));
    return cover.frames.map((f, i) => {
      const r = got[i];
      if (!r.ok) throw new MediaUnavailableError(`frame ${f.sample} of ${f.media}: ${r.error.message}`);
      return { ...f, data: r.value.bytes.subarray(HEADER_SIZE) };
    });
  }

  recordPlay(play: Play): void {
    try {
      this.opts.recordPlay?.(play);
    } catch {
      // usage reporting never breaks a play
    }
  }

  private cover(id: Guid, stream: number, from: number, to: number): Coverage {
    const c = this.holder.index.cover(id, stream, from, to);
    if (!c) throw new RangeError(`no media ${id} stream ${stream}`);
    return c;
  }
}
