// HLS over STX: a viewer asks a state server for a media playlist and for segments on the signaling
// channel, and each segment comes over a data channel (shared/stx/transfer.ts). Isomorphic: Node servers
// and the in-tab demo's servers run the same service; browsers (and Node tests) use the client below.
//   GetPlaylist  media                         → Reply, body: the VOD media playlist (URIs init.mp4, seg-N.m4s)
//   GetSegment   media, seg (init | N), position, ticket
//                                              → Reply bytes=…, delayMs=…; the bytes follow on the ticket
// The data funnel: a segment is released when the viewer's play position (the `position` each request
// carries, extrapolated at 1x since it was reported) plus the lead reaches the segment's start, so delivery
// follows the media's own timeline with a bounded lead instead of running as fast as the link allows.
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { Guid } from '../stu/index.ts';
import { isGuid } from '../stu/index.ts';
import { err } from '../stx/errors.ts';
import type { ReplyInit } from '../stx/connection.ts';
import type { Message } from '../stx/message.ts';
import type { SyncHub } from '../sync/hub.ts';
import type { PeerSession } from '../sync/session.ts';
import { intParam, ticketAttrs, ticketParam } from '../sync/wire.ts';
import { mediaPlaylist } from './segments-hls.ts';
import type { Segmenter } from './segments.ts';
import { concatBytes } from '../util/bytes.ts';

export interface FunnelOptions {
  /** Seconds of media a viewer may hold ahead of its play position. Default 10. */
  leadSeconds?: number;
  /** Longest a segment is held back, ms (a viewer that stopped reporting is not starved for ever). Default 20 s. */
  maxDelayMs?: number;
}

/** Where one viewer is in one media, from its feedback. */
export class Funnel {
  private position = 0;
  private at = 0;
  readonly lead: number;
  private readonly maxDelayMs: number;

  constructor(opts: FunnelOptions = {}) {
    this.lead = opts.leadSeconds ?? 10;
    this.maxDelayMs = opts.maxDelayMs ?? 20_000;
  }

  /** The viewer says it is at `position` seconds now. */
  feedback(position: number, now: number): void {
    if (Number.isFinite(position) && position >= 0) {
      this.position = position;
      this.at = now;
    }
  }

  /** How long to hold a segment that starts at `start` seconds, at time `now` (ms). */
  delayMs(start: number, now: number): number {
    const playing = this.at ? this.position + (now - this.at) / 1000 : this.position;
    return Math.min(this.maxDelayMs, Math.max(0, (start - this.lead - playing) * 1000));
  }
}

export interface SegmentServiceOptions extends FunnelOptions {
  log?: Logger;
  /** A viewer started a media (its first playlist request). */
  onPlay?: (media: Guid, viewer: Guid | undefined) => void;
  /** May this peer play this media (access control, docs/API.md)? Refused as NOT_FOUND. Default: yes. */
  mayPlay?: (from: PeerSession, media: Guid) => boolean;
}

/** Serves GetPlaylist and GetSegment to viewers (and servers) of a hub from a Segmenter. */
export function serveSegments(hub: SyncHub, segmenter: Segmenter, opts: SegmentServiceOptions = {}): { stats: { playlists: number; segments: number; bytes: number; heldMs: number } } {
  const log = opts.log ?? silentLogger;
  const stats = { playlists: 0, segments: 0, bytes: 0, heldMs: 0 };
  const funnels = new WeakMap<PeerSession, Map<Guid, Funnel>>();
  const funnel = (s: PeerSession, media: Guid): Funnel => {
    let m = funnels.get(s);
    if (!m) funnels.set(s, (m = new Map()));
    let f = m.get(media);
    if (!f) {
      if (m.size >= 16) m.delete(m.keys().next().value as Guid);
      m.set(media, (f = new Funnel(opts)));
    }
    return f;
  };
  const mediaParam = (from: PeerSession, m: Message): Guid => {
    const id = m.attrs.media;
    if (!isGuid(id)) throw err('BAD_PARAM', 'media: a GUID');
    if (opts.mayPlay && !opts.mayPlay(from, id)) throw err('NOT_FOUND', `no media ${id}`);
    return id;
  };
  const known = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof RangeError) throw err('NOT_FOUND', e.message);
      throw e;
    }
  };

  hub.handle(
    'GetPlaylist',
    async (from, m): Promise<ReplyInit> => {
      const media = mediaParam(from, m);
      const plan = await known(() => segmenter.plan(media));
      stats.playlists++;
      opts.onPlay?.(media, from.peer);
      return { attrs: { segments: String(plan.count), duration: plan.duration.toFixed(3) }, body: new TextEncoder().encode(mediaPlaylist(plan)) };
    },
    { viewers: true },
  );

  hub.handle(
    'GetSegment',
    async (from, m): Promise<ReplyInit> => {
      const media = mediaParam(from, m);
      const seg = m.attrs.seg;
      const ticket = ticketParam(m.attrs);
      const f = funnel(from, media);
      if (m.attrs.position !== undefined) f.feedback(Number(m.attrs.position), Date.now());
      let bytes: Uint8Array;
      let delay = 0;
      if (seg === 'init') bytes = await known(() => segmenter.init(media));
      else {
        const n = intParam(m.attrs, 'seg', 1 << 30);
        const plan = await known(() => segmenter.plan(media));
        if (n >= plan.count) throw err('NOT_FOUND', `media ${media} has segments 0-${plan.count - 1}`);
        delay = f.delayMs(plan.starts[n], Date.now());
        bytes = (await known(() => segmenter.segment(media, n))).bytes;
      }
      stats.segments++;
      stats.bytes += bytes.length;
      stats.heldMs += delay;
      void (async () => {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        await from.sendItems(ticket, [bytes]);
      })().catch((e: unknown) => log.info('segment not delivered', { media, seg, error: (e as Error).message }));
      return { attrs: { bytes: String(bytes.length), delayMs: String(Math.round(delay)) } };
    },
    { viewers: true },
  );
  return { stats };
}

/** The viewer's side: a playlist and segments from one server session. */
export class SegmentClient {
  constructor(readonly session: PeerSession) {}

  async playlist(media: Guid): Promise<string> {
    const r = await this.session.conn.request('GetPlaylist', { attrs: { media } });
    return new TextDecoder().decode(r.body);
  }

  /** Segment `seg` ('init' or its number); `position` is where the player is (the funnel's feedback). */
  async segment(media: Guid, seg: 'init' | number, position?: number, signal?: AbortSignal): Promise<{ bytes: Uint8Array; delayMs: number; ms: number }> {
    const t0 = performance.now();
    const parts: Uint8Array[] = [];
    const exp = this.session.expect((b) => void parts.push(b));
    try {
      const attrs: Record<string, string> = { media, seg: String(seg), ...ticketAttrs(exp.ticket) };
      if (position !== undefined) attrs.position = position.toFixed(3);
      const reply = await this.session.conn.request('GetSegment', { attrs }, undefined, { signal });
      const onAbort = () => exp.cancel('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
      await exp.done;
      signal?.removeEventListener('abort', onAbort);
      const bytes = parts.length === 1 ? parts[0] : concatBytes(parts);
      if (bytes.length !== intParam(reply.attrs, 'bytes')) throw err('BAD_PARAM', `segment of ${bytes.length} bytes, announced ${reply.attrs.bytes}`);
      return { bytes, delayMs: intParam(reply.attrs, 'delayMs', 1 << 30, 0), ms: performance.now() - t0 };
    } catch (e) {
      exp.cancel('request failed');
      throw e;
    }
  }
}
