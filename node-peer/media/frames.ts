// Where the gateways (HLS, RTSP) get media from: the metadata, and the frames of a time range with their
// bytes, read from the local ring. Frames not held here are asked for through `fetchMissing` (data
// discovery across servers, node-peer/sync) and waited for up to `waitMs`; then the request fails with
// MediaUnavailableError, which a gateway turns into a clear error (HTTP 504, RTSP 504).
import type { MediaMetadata } from '../../shared/media/metadata.ts';
import type { Coverage, FrameRef, Gap } from '../../shared/media/time-index.ts';
import type { Guid } from '../../shared/stu/index.ts';
import { HEADER_SIZE } from '../../shared/stu/index.ts';
import type { StateNode } from '../node.ts';

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

export interface NodeMediaSourceOptions {
  /** Asks other servers for the frames of these gaps; resolves when they have been stored (or gave up). */
  fetchMissing?: (id: Guid, stream: number, gaps: Gap[], signal?: AbortSignal) => Promise<void>;
  /** How long a request waits for missing frames. Default 10 s. */
  waitMs?: number;
  recordPlay?: (play: Play) => void;
}

export class NodeMediaSource implements MediaSource {
  constructor(
    private readonly node: StateNode,
    private readonly opts: NodeMediaSourceOptions = {},
  ) {}

  metadata(id: Guid): MediaMetadata | undefined {
    return this.node.index.get(id);
  }

  list(): MediaMetadata[] {
    return this.node.index.list();
  }

  async frames(id: Guid, stream: number, from: number, to: number, opts: { signal?: AbortSignal } = {}): Promise<Frame[]> {
    const m = this.metadata(id);
    if (!m) throw new RangeError(`no media ${id}`);
    if (!m.tracks[stream]) throw new RangeError(`media ${id} has no stream ${stream}`);
    let cover = this.cover(id, stream, from, to);
    if (!cover.complete) {
      const waitMs = this.opts.waitMs ?? 10_000;
      if (!this.opts.fetchMissing) throw new MediaUnavailableError(`frames of ${id} stream ${stream} ${from}-${to} s are not held here`, cover.gaps);
      const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(waitMs)]) : AbortSignal.timeout(waitMs);
      let why = `did not arrive within ${waitMs} ms`;
      await this.opts.fetchMissing(id, stream, cover.gaps, signal).catch((e: unknown) => {
        if ((e as { code?: string }).code === 'NO_MEDIA') why = `are held by no reachable server (${(e as Error).message})`;
      });
      cover = this.cover(id, stream, from, to);
      if (!cover.complete) throw new MediaUnavailableError(`frames of ${id} stream ${stream} ${from}-${to} s ${why}`, cover.gaps);
    }
    const got = await this.node.ring.readMany(cover.frames.map((f) => f.loc));
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
    const c = this.node.index.cover(id, stream, from, to);
    if (!c) throw new RangeError(`no media ${id} stream ${stream}`);
    return c;
  }
}
