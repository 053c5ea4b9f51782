// Plays a program to a session's RTP streams in real time. Frames are read a window at a time (a few seconds,
// ahead of need) from the MediaSource, queued per stream in decode order, and sent when the media clock
// reaches their decode time. The media clock M(now) = S + (now - W0) runs while playing and stops while
// paused; frame timestamps and sender reports both derive from it, so SR (wall clock -> RTP clock *now*) and
// RTP timestamps agree across streams. Program time ("npt") is media time for a media object, the channel's
// timeline for a channel; a segment's frames are placed on it from their presentation times.
import type { Logger } from '../../../shared/log.ts';
import { rtpTicks, wrap32 } from '../../../shared/media/rtp/clock.ts';
import { DEFAULT_MAX_PAYLOAD } from '../../../shared/media/rtp/types.ts';
import type { Frame, MediaSource } from '../../media/frames.ts';
import type { Gate } from './gate.ts';
import type { Program, Segment, StreamSpec } from './program.ts';
import type { RtpSender, Sink } from './rtp-out.ts';

export interface PlayStream {
  spec: StreamSpec;
  sender: RtpSender;
  sink: Sink;
}

/** A frame waiting to be sent: `due` is its decode time in program seconds. */
interface Item {
  due: number;
  ts: number;
  data: Uint8Array;
  key: boolean;
}

/** The segment being read. */
interface Open {
  seg: Segment;
  /** The actual start in media seconds: the video key frame at or before seg.from. */
  k: number;
  /** Program time of k. */
  base: number;
  /** Start of the next window to read, media seconds. */
  next: number;
  /** Last sample number queued, per stream. */
  last: number[];
}

export interface PlayStart {
  /** npt the play starts at (the key frame at or before the requested start). */
  start: number;
  end?: number;
  live: boolean;
  rtpInfo: { id: number; seq: number; rtptime: number }[];
}

export interface PlayerOptions {
  log: Logger;
  /** Seconds of media read at once. Default 4. */
  windowSec?: number;
  /** The first read of a play, from its start: short, so PLAY answers soon. Default 1. */
  firstWindowSec?: number;
  /** Frames leave this long before their time, a cushion against a busy event loop. Default 100. */
  leadMs?: number;
  /** Keep at least this many seconds read ahead of the media clock. Default 2. */
  lookaheadSec?: number;
  srIntervalMs?: number;
  /** A frame sent more than this after its time counts as late. Default 50. */
  lateMs?: number;
  /** Stop sending while a TCP client has more than this many bytes unread. Default 4 MiB. */
  maxBacklog?: number;
  maxPayload?: number;
  /** Reads go through this gate (one per server), so that many plays reading at once take turns. */
  gate?: Gate;
  /** The play reached its end (or failed): BYE has been sent. */
  onEnd?: (reason: string) => void;
}

/** The requested range holds nothing to play (RTSP 457). */
export class EmptyRangeError extends RangeError {
  override name = 'EmptyRangeError';
}

export type PlayerState = 'idle' | 'ready' | 'playing' | 'paused' | 'ended';

export class Player {
  state: PlayerState = 'idle';
  readonly stats = { frames: 0, packets: 0, bytes: 0, late: 0, maxLateMs: 0 };
  /** npt of the first play's start. */
  firstStart?: number;
  /** Program seconds played (the media clock's advance while playing, up to the end). */
  playedSec = 0;

  private queues: Item[][] = [];
  private lastEnd: number[] = [];
  private segs?: Iterator<Segment>;
  private cur?: Open;
  private nextBase?: number;
  /** Program time of this play's first segment's start. */
  private firstBase?: number;
  private exhausted = false;
  private loadedUntil = -Infinity;
  private endAt = Infinity;
  private S = 0;
  private W0 = 0;
  private frozenAt = 0;
  private intervalStart = 0;
  private gen = 0;
  private abort?: AbortController;
  private timer?: NodeJS.Timeout;
  private srTimer?: NodeJS.Timeout;
  private loading = false;
  /** Why the play ends early (frames that could not be read): said in the BYE once what was read has gone out. */
  private endReason?: string;
  private waitingDrain = false;
  private readonly o: Required<Omit<PlayerOptions, 'onEnd' | 'gate'>>;

  constructor(
    private readonly source: MediaSource,
    private readonly program: Program,
    private readonly streams: PlayStream[],
    private readonly opts: PlayerOptions,
  ) {
    this.o = { windowSec: 4, firstWindowSec: 1, leadMs: 100, lookaheadSec: 2, srIntervalMs: 2000, lateMs: 50, maxBacklog: 4 << 20, maxPayload: DEFAULT_MAX_PAYLOAD, ...opts };
  }

  /** The media clock, program seconds. */
  position(): number {
    return this.state === 'playing' ? this.S + (performance.now() - this.W0) / 1000 : this.frozenAt;
  }

  /**
   * Prepares a play from npt `start` (the key frame at or before it) to `end`: reads the first window, so a
   * media error surfaces before the PLAY reply. Sends nothing; `start()` does, after the reply.
   * Throws MediaUnavailableError, RangeError (no such media, or nothing to play).
   */
  async seek(start: number, end?: number): Promise<PlayStart> {
    const wasLive = this.program.live && this.state !== 'idle';
    const continueAt = wasLive ? Math.max(this.position(), ...this.lastEnd) : undefined;
    if (this.state === 'playing') this.account(this.position());
    this.halt();
    const gen = this.gen;
    this.queues = this.streams.map(() => []);
    this.lastEnd = this.streams.map(() => -Infinity);
    this.cur = undefined;
    this.exhausted = false;
    this.endReason = undefined;
    this.loadedUntil = -Infinity;
    this.endAt = Infinity;
    this.segs = this.program.segments(start, end);
    this.nextBase = undefined;
    this.firstBase = undefined;
    await this.step(gen, continueAt);
    if (gen !== this.gen) throw new EmptyRangeError('superseded by another request');
    if (this.exhausted && this.queues.every((q) => q.length === 0)) throw new EmptyRangeError('nothing to play in this range');
    const at = this.firstBase ?? 0;
    this.frozenAt = at;
    this.firstStart ??= at;
    this.state = 'ready';
    return this.playStart(at, this.program.live ? undefined : Math.min(end ?? Infinity, this.program.duration ?? Infinity));
  }

  /** A PLAY without a range after PAUSE: carry on from where the clock stopped. */
  resume(): PlayStart {
    if (this.state !== 'paused') throw new Error(`resume in state ${this.state}`);
    this.state = 'ready';
    return this.playStart(this.frozenAt, undefined);
  }

  /** Starts sending: a sender report on every stream, then the frames as they fall due. */
  start(): void {
    if (this.state !== 'ready') return;
    let head = this.frozenAt;
    for (const q of this.queues) if (q.length) head = Math.min(head, q[0].due);
    this.S = head;
    this.W0 = performance.now();
    this.intervalStart = this.frozenAt;
    this.state = 'playing';
    this.report();
    this.srTimer = setInterval(() => this.report(), this.o.srIntervalMs);
    this.tick();
  }

  /** Stops the clock; returns the npt it stopped at. */
  pause(): number {
    if (this.state === 'playing') {
      this.frozenAt = this.position();
      this.account(this.frozenAt);
      this.clearTimers();
      this.state = 'paused';
    }
    return this.frozenAt;
  }

  /** Ends the play now; with `bye`, tells the client (SR + BYE). */
  stop(reason: string, bye = true): void {
    if (this.state === 'idle' || this.state === 'ended') {
      this.halt();
      return;
    }
    if (this.state === 'playing') this.account(this.position());
    if (bye) this.goodbye(reason);
    this.halt();
    this.state = 'ended';
  }

  // ------------------------------------------------------------------------------------------ internals

  private playStart(at: number, end: number | undefined): PlayStart {
    return {
      start: at,
      end,
      live: this.program.live,
      rtpInfo: this.streams.map((s) => ({ id: s.spec.id, seq: s.sender.seq, rtptime: wrap32(s.sender.tsOffset, Math.round(at * s.spec.format.clockRate)) })),
    };
  }

  private account(upTo: number): void {
    this.playedSec += Math.max(0, Math.min(upTo, this.endAt) - this.intervalStart);
    this.intervalStart = upTo;
  }

  private clearTimers(): void {
    clearTimeout(this.timer);
    clearInterval(this.srTimer);
    this.timer = undefined;
    this.srTimer = undefined;
  }

  /** Stops everything in flight: timers, reads (their results are dropped by generation). */
  private halt(): void {
    this.clearTimers();
    this.abort?.abort();
    this.abort = new AbortController();
    this.gen++;
    this.loading = false;
    this.waitingDrain = false;
  }

  private rtpNow(s: PlayStream, at: number): number {
    return wrap32(s.sender.tsOffset, Math.round(at * s.spec.format.clockRate));
  }

  private report(): void {
    const at = this.position();
    const wall = performance.timeOrigin + performance.now();
    for (const s of this.streams) s.sink.rtcp(s.sender.report(wall, this.rtpNow(s, at)));
  }

  private goodbye(reason: string): void {
    const at = this.position();
    const wall = performance.timeOrigin + performance.now();
    for (const s of this.streams) s.sink.rtcp(s.sender.goodbye(wall, this.rtpNow(s, at), reason.slice(0, 200)));
  }

  private finish(reason: string): void {
    if (this.state !== 'playing') return;
    this.account(this.position());
    this.goodbye(reason);
    this.halt();
    this.state = 'ended';
    this.opts.onEnd?.(reason);
  }

  private tick(): void {
    if (this.state !== 'playing' || this.waitingDrain) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const lead = this.o.leadMs / 1000;
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.queues.length; i++) {
        const q = this.queues[i];
        if (q.length && (best < 0 || q[0].due < this.queues[best][0].due)) best = i;
      }
      const now = this.position();
      if (best < 0 || this.queues[best][0].due > now + lead + 0.001) break;
      this.send(best, this.queues[best].shift() as Item, now);
      const sink = this.streams[best].sink;
      if (sink.backlog() > this.o.maxBacklog) {
        this.waitingDrain = true;
        const gen = this.gen;
        sink.onDrain(() => {
          if (gen !== this.gen) return;
          this.waitingDrain = false;
          this.tick();
        });
        return;
      }
    }
    const now = this.position();
    this.maybeLoad(now);
    let next = Infinity;
    for (const q of this.queues) if (q.length) next = Math.min(next, q[0].due);
    if (next === Infinity) {
      if (this.exhausted && !this.loading) {
        this.endAt = Math.max(this.frozenAt, ...this.lastEnd);
        this.timer = setTimeout(() => this.finish(this.endReason ?? 'end of stream'), Math.max(0, (this.endAt - now) * 1000));
      }
      return; // a read in flight calls tick() when it lands
    }
    this.timer = setTimeout(() => this.tick(), Math.max(0, (next - lead - now) * 1000));
  }

  private send(i: number, item: Item, now: number): void {
    const s = this.streams[i];
    const lateMs = (now - item.due) * 1000;
    if (lateMs > this.o.lateMs) this.stats.late++;
    if (lateMs > this.stats.maxLateMs) this.stats.maxLateMs = lateMs;
    const packets = s.sender.packetsOf(s.spec.format.packetize(item.data, item.key, this.o.maxPayload), item.ts);
    s.sink.rtp(packets);
    this.stats.frames++;
    this.stats.packets += packets.length;
    for (const p of packets) this.stats.bytes += p.length;
  }

  private maybeLoad(now: number): void {
    if (this.loading || this.exhausted || this.loadedUntil >= now + this.o.lookaheadSec) return;
    const gen = this.gen;
    this.loading = true;
    this.step(gen).then(
      () => {
        if (gen !== this.gen) return;
        this.loading = false;
        this.tick();
      },
      (e: unknown) => {
        if (gen !== this.gen) return;
        this.loading = false;
        // Send what was read, then end the stream there with BYE.
        this.opts.log.warn('RTSP play ends early: frames unavailable', { program: this.program.path, error: (e as Error).message });
        this.exhausted = true;
        this.endReason = `frames unavailable: ${(e as Error).message}`;
        this.tick();
      },
    );
  }

  private frames(seg: Segment, track: number, from: number, to: number): Promise<Frame[]> {
    const signal = this.abort?.signal;
    const read = () => this.source.frames(seg.media, track, from, to, { signal });
    return this.opts.gate ? this.opts.gate.run(read, signal) : read();
  }

  /** One read: opens the next segment (its first window), or reads the next window of the current one. */
  private async step(gen: number, continueAt?: number): Promise<void> {
    const W = this.o.windowSec;
    if (!this.cur) {
      const W1 = this.firstBase === undefined ? Math.min(W, this.o.firstWindowSec) : W;
      const r = this.segs?.next();
      if (!r || r.done) {
        this.exhausted = true;
        this.loadedUntil = Infinity;
        return;
      }
      const seg = r.value;
      // The video stream decides where the segment really starts: its key frame at or before `from`.
      const vi = this.streams.findIndex((s, i) => s.spec.kind === 'video' && seg.tracks[i] !== undefined);
      const first: (Frame[] | undefined)[] = [];
      let k = seg.from;
      if (vi >= 0) {
        const vf = await this.frames(seg, seg.tracks[vi] as number, seg.from, Math.min(seg.from + W1, seg.to));
        if (vf.length) k = Math.min(seg.from, vf[0].pts / vf[0].timescale);
        first[vi] = vf;
      }
      await Promise.all(
        this.streams.map(async (_s, i) => {
          const t = seg.tracks[i];
          if (i !== vi && t !== undefined) first[i] = await this.frames(seg, t, k, Math.min(Math.max(k + W1, seg.from), seg.to));
        }),
      );
      if (gen !== this.gen) return;
      let base = this.nextBase ?? seg.at - (seg.from - k);
      if (continueAt !== undefined) base = Math.max(base, continueAt);
      this.cur = { seg, k, base, next: Math.min(Math.max(k + W1, seg.from), seg.to), last: this.streams.map(() => -1) };
      this.firstBase ??= base;
      first.forEach((f, i) => f && this.append(i, f));
      this.advance();
      return;
    }
    const cur = this.cur;
    const a = cur.next;
    const b = Math.min(a + W, cur.seg.to);
    const got = await Promise.all(this.streams.map((_s, i) => (cur.seg.tracks[i] !== undefined ? this.frames(cur.seg, cur.seg.tracks[i] as number, a, b) : undefined)));
    if (gen !== this.gen) return;
    got.forEach((f, i) => f && this.append(i, f));
    cur.next = b;
    this.advance();
  }

  /** After a read: how far the queues reach; at the segment's end, the next segment continues from there. */
  private advance(): void {
    const cur = this.cur as Open;
    this.loadedUntil = cur.base + (cur.next - cur.k);
    if (cur.next >= cur.seg.to) {
      this.nextBase = cur.base + (cur.seg.to - cur.k);
      this.cur = undefined;
    }
  }

  private append(i: number, frames: Frame[]): void {
    const cur = this.cur as Open;
    const s = this.streams[i];
    const clock = s.spec.format.clockRate;
    const baseTicks = Math.round(cur.base * clock);
    const q = this.queues[i];
    for (const f of frames) {
      if (f.sample <= cur.last[i]) continue; // already queued by the window before
      cur.last[i] = f.sample;
      const ts = f.timescale;
      const pts = cur.base + (f.pts / ts - cur.k);
      const dur = f.duration / ts;
      // A clip's first audio frame may overlap the previous clip's last: keep time moving forward.
      if (s.spec.kind === 'audio' && pts < this.lastEnd[i] - dur / 2) continue;
      q.push({ due: cur.base + (f.dts / ts - cur.k), ts: wrap32(s.sender.tsOffset, rtpTicks(baseTicks, f.pts, cur.k * ts, ts, clock)), data: f.data, key: f.key });
      this.lastEnd[i] = Math.max(this.lastEnd[i], pts + dur);
    }
  }
}
