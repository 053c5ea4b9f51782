// An RTSP session: one program, the streams set up for it (each with its RTP sender and where its packets
// go), the player, and when the client was last heard from. It ends on TEARDOWN, on timeout, or when the
// connection its interleaved streams ride on closes; then the play is recorded for usage reporting.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../shared/log.ts';
import type { MediaSource } from '../../media/frames.ts';
import type { Player } from './player.ts';
import type { Program, StreamSpec } from './program.ts';
import type { RtpSender, Sink, UdpSink } from './rtp-out.ts';

export interface SessionStream {
  spec: StreamSpec;
  sender: RtpSender;
  sink: Sink;
  /** The URL the client set the stream up with: RTP-Info names it exactly so. */
  uri: string;
}

/** What a session needs from the connection that made it. */
export interface SessionOwner {
  readonly remote: string;
  /** Interleaved channels in use on the connection. */
  readonly channels: Set<number>;
}

export class RtspSession {
  readonly id = randomBytes(8).toString('hex').toUpperCase();
  readonly streams = new Map<number, SessionStream>();
  player?: Player;
  lastSeen = performance.now();
  ended = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly program: Program,
    readonly owner: SessionOwner,
    private readonly source: MediaSource,
    private readonly log: Logger,
  ) {}

  touch(): void {
    this.lastSeen = performance.now();
  }

  /** Runs `fn` after the session's previous request has been handled (requests may come on two connections). */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** True when any stream rides interleaved on the owner's connection. */
  get interleaved(): boolean {
    for (const s of this.streams.values()) if (s.sink.kind === 'tcp') return true;
    return false;
  }

  /** Ends the session: stops the player (with BYE when the client should hear it), records the play. */
  end(reason: string, bye: boolean): void {
    if (this.ended) return;
    this.ended = true;
    const p = this.player;
    p?.stop(reason, bye);
    for (const s of this.streams.values()) {
      if (s.sink.kind === 'udp') (s.sink as UdpSink).close();
      else if ('channels' in s.sink) for (const c of (s.sink as { channels: [number, number] }).channels) this.owner.channels.delete(c);
    }
    const played = p?.firstStart !== undefined;
    this.log.info('RTSP session ended', {
      session: this.id,
      program: this.program.path,
      client: this.owner.remote,
      reason,
      ...(p ? { startSec: p.firstStart, playedSec: Math.round(p.playedSec * 1000) / 1000, ...p.stats, maxLateMs: Math.round(p.stats.maxLateMs * 10) / 10 } : {}),
    });
    if (played && p) {
      this.source.recordPlay({
        gateway: 'rtsp',
        ...(this.program.media ? { media: this.program.media } : {}),
        ...(this.program.channel !== undefined ? { channel: this.program.channel } : {}),
        startMs: Math.round(((p.firstStart ?? 0) % (this.program.cycle ?? Infinity)) * 1000),
        durationMs: Math.round(p.playedSec * 1000),
        client: this.owner.remote,
      });
    }
  }
}
