// What every WebRTC link shares (werift and node-datachannel in node-peer/webrtc/, the browser's
// RTCPeerConnection in web/stx/): the negotiation state machine (one offer, one answer, gathering complete
// before either is handed out: no trickle, so an HTTP POST can carry them), the link control channel
// (control.ts: heartbeats, "bye", the channel close handshake), the negotiated max-message-size, the DTLS
// fingerprints, and the bookkeeping of channels (remote channels announced before their first message, every
// channel ended when the link goes). Platform-free: the backends implement the abstract hooks, and options
// only one platform understands live with that platform's backend.
import { silentLogger, type Logger } from '../../log.ts';
import { closedError, err, StxError } from '../errors.ts';
import type { Channel, ChannelOptions, PeerLink, Unsubscribe } from '../transport.ts';
import { Emitter } from '../../util/emitter.ts';
import { type BaseChannel, type ChannelHost, settle, type Waiter } from './channel.ts';
import { CONTROL_LABEL, decodeControl, encodeBye, encodePing, encodePong } from './control.ts';
import { checkRemoteSdp, type Fingerprint, type IceServer, negotiatedMaxMessageSize, parseFingerprint, parseMaxMessageSize, SDP_DEFAULT_MAX_MESSAGE_SIZE } from './sdp.ts';

/** The WebRTC stack under a link: werift or node-datachannel (Node), or the browser's RTCPeerConnection. */
export type LinkBackend = 'werift' | 'datachannel' | 'browser';

/** What every backend takes; a backend may add its own (node-peer/webrtc/options.ts, web/stx/rtc-link.ts). */
export interface LinkOptions {
  /** STUN/TURN servers. None by default: no public server is ever asked unless listed here. */
  iceServers?: IceServer[];
  /** The max-message-size this side advertises. Default 64 KiB (werift, at most 1 MiB), 256 KiB
   *  (node-datachannel, at most 16 MiB), the browser's own (Chrome 256 KiB, never more). Channels use the
   *  smaller of both sides' values. */
  maxMessageSize?: number;
  /** A channel refuses send() with QUEUE_FULL past this many buffered bytes. Default 16 MiB (browser: 8 MiB). */
  maxQueuedBytes?: number;
  /** Candidate gathering is cut short after this long, and the description goes out with what it has. Default 5 s. */
  gatherTimeoutMs?: number;
  /** The link closes unless connected this long after createOffer()/acceptOffer(). Default 20 s. */
  connectTimeoutMs?: number;
  /** A heartbeat goes out on the control channel this often once connected; 0 disables heartbeats. Default 5 s. */
  heartbeatMs?: number;
  /** The link closes when nothing has arrived from the peer for this long (the peer answers each heartbeat,
   *  so this needs to exceed heartbeatMs only). Default 30 s. */
  deadAfterMs?: number;
  /** A closing channel waits at most this long for its queued bytes to leave before it is closed anyway. Default 30 s. */
  closeTimeoutMs?: number;
  log?: Logger;
}

export type LinkPhase = 'new' | 'offering' | 'offered' | 'answering' | 'connecting' | 'connected' | 'closed';

/** A PeerLink over one RTCPeerConnection, negotiated with one offer and one answer. */
export interface WebrtcLink extends PeerLink {
  readonly backend: LinkBackend;
  readonly phase: LinkPhase;
  /** Why the link closed, once it has. */
  readonly closeReason: string | undefined;
  /** This side's DTLS certificate fingerprint, from its own description (known once it is created). */
  readonly localFingerprint: Fingerprint | undefined;
  /** The peer's DTLS certificate fingerprint, from its description; the DTLS handshake checks the
   *  certificate against it, so once connected the peer holds that certificate's key. */
  readonly remoteFingerprint: Fingerprint | undefined;
  /** Offerer: the complete offer (candidates included). */
  createOffer(): Promise<string>;
  /** Answerer: takes the peer's offer, returns the complete answer. Throws StxError BAD_PARAM for a bad offer. */
  acceptOffer(sdp: string): Promise<string>;
  /** Offerer: takes the peer's answer. Throws StxError BAD_PARAM for a bad answer. */
  acceptAnswer(sdp: string): Promise<void>;
  /** Resolves once the link is up; rejects with StxError CLOSED (or TIMEOUT) if it closes first. */
  connected(): Promise<void>;
}

export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** CLOSE messages kept for channels not open here yet (a CLOSE can overtake the channel's open), and how long. */
const MAX_EARLY_CLOSES = 256;
const EARLY_CLOSE_MS = 10_000;

/** The negotiation, control channel and bookkeeping every backend shares. */
export abstract class LinkCore implements WebrtcLink, ChannelHost {
  abstract readonly backend: LinkBackend;
  state: 'open' | 'closed' = 'open';
  phase: LinkPhase = 'new';
  closeReason: string | undefined;
  /** Which side of the negotiation this link took (it decides the parity of its stream ids). */
  protected role: 'offerer' | 'answerer' | undefined;
  readonly maxQueuedBytes: number;
  readonly closeTimeoutMs: number;
  protected readonly log: Logger;
  protected control: BaseChannel | undefined;
  private readonly channels = new Set<BaseChannel>();
  private readonly byStream = new Map<number, BaseChannel>();
  private readonly earlyCloses = new Map<number, { count: number; at: number }>();
  private readonly incoming = new Emitter<Channel>();
  private readonly closed = new Emitter<string>();
  private readonly connectWaiters: Waiter[] = [];
  private closeError: StxError | undefined;
  private localFp: Fingerprint | undefined;
  private remoteFp: Fingerprint | undefined;
  private localMax: number;
  private remoteMax = SDP_DEFAULT_MAX_MESSAGE_SIZE;
  private negotiatedMax: number;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastHeard = 0;
  private heardSince = false;
  private readonly gatherTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;

  constructor(
    protected readonly opts: LinkOptions,
    localMaxMessageSize: number,
  ) {
    this.localMax = localMaxMessageSize;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 30_000;
    this.gatherTimeoutMs = opts.gatherTimeoutMs ?? 5_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 20_000;
    this.heartbeatMs = opts.heartbeatMs ?? 5_000;
    this.deadAfterMs = opts.deadAfterMs ?? 30_000;
    this.log = opts.log ?? silentLogger;
    this.negotiatedMax = negotiatedMaxMessageSize(localMaxMessageSize, this.remoteMax);
  }

  /** The max-message-size this side advertises. */
  get localMaxMessageSize(): number {
    return this.localMax;
  }

  get maxMessageSize(): number {
    return this.negotiatedMax;
  }

  get localFingerprint(): Fingerprint | undefined {
    return this.localFp;
  }

  get remoteFingerprint(): Fingerprint | undefined {
    return this.remoteFp;
  }

  // ------------------------------------------------------------------------------------ negotiation

  async createOffer(): Promise<string> {
    this.expectPhase('new', 'createOffer');
    this.phase = 'offering';
    this.role = 'offerer';
    this.startConnectTimer();
    const sdp = await this.negotiate('offer', () => this.makeOffer());
    this.phase = 'offered';
    return sdp;
  }

  async acceptOffer(sdp: string): Promise<string> {
    this.expectPhase('new', 'acceptOffer');
    this.phase = 'answering';
    this.role = 'answerer';
    this.startConnectTimer();
    const answer = await this.negotiate('answer', () => {
      checkRemoteSdp(sdp, 'offer');
      this.setRemote(sdp);
      return this.makeAnswer(sdp);
    });
    if (this.phase === 'answering') this.phase = 'connecting';
    return answer;
  }

  async acceptAnswer(sdp: string): Promise<void> {
    this.expectPhase('offered', 'acceptAnswer');
    this.phase = 'connecting';
    await this.negotiate('apply the answer', async () => {
      checkRemoteSdp(sdp, 'answer');
      this.setRemote(sdp);
      await this.applyAnswer(sdp);
      return '';
    });
  }

  connected(): Promise<void> {
    if (this.phase === 'connected') return Promise.resolve();
    if (this.closeError) return Promise.reject(this.closeError);
    return new Promise((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
  }

  // ------------------------------------------------------------------------------------ channels

  async openChannel(label: string, opts: ChannelOptions): Promise<Channel> {
    if (!opts.reliable) throw new StxError('UNSUPPORTED', 'reliable channels only (partial reliability is broken in werift)');
    if (this.closeError) throw this.closeError;
    if (label === CONTROL_LABEL) throw err('BAD_PARAM', `the label ${CONTROL_LABEL} is the link's own`);
    const ch = this.createChannel(label, opts.ordered);
    this.track(ch);
    await ch.whenOpen();
    return ch;
  }

  onChannel = (fn: (channel: Channel) => void): Unsubscribe => this.incoming.on(fn);
  onClose = (fn: (reason: string) => void): Unsubscribe => this.closed.on(fn);

  /** Closes every channel and the link; the peer is told ("bye") and closes its side at once. */
  close(reason = 'closed'): void {
    if (this.state === 'closed') return;
    const control = this.control;
    if (control?.state === 'open') {
      if (!this.sendControl(encodeBye(reason))) this.log.debug('webrtc bye not sent', { reason });
    }
    this.down(reason, closedError(reason), true);
  }

  // ------------------------------------------------------------------------------------ ChannelHost

  heard(): void {
    this.heardSince = true;
  }

  sendControl(bytes: Uint8Array): boolean {
    const control = this.control;
    if (control?.state !== 'open') return false;
    try {
      control.send(bytes);
      return true;
    } catch (e) {
      this.log.debug('webrtc control message not sent', { error: (e as Error).message });
      return false;
    }
  }

  register(ch: BaseChannel): void {
    if (ch === this.control) return;
    const stream = ch.streamId();
    if (stream === undefined) return;
    ch.stream = stream;
    this.byStream.set(stream, ch);
    const early = this.earlyCloses.get(stream);
    if (early !== undefined) {
      this.earlyCloses.delete(stream);
      if (Date.now() - early.at < EARLY_CLOSE_MS) ch.peerClosing(early.count);
    }
  }

  unregister(ch: BaseChannel): void {
    if (ch.stream !== undefined && this.byStream.get(ch.stream) === ch) this.byStream.delete(ch.stream);
  }

  // ------------------------------------------------------------------------------------ for backends

  /** Backend: the peer opened a channel. It is announced before any of its messages is delivered. */
  protected announce(ch: BaseChannel): void {
    if (this.state === 'closed') {
      ch.end(this.closeReason ?? 'closed');
      return;
    }
    this.track(ch);
    this.register(ch);
    this.incoming.emit(ch);
  }

  /** Backend: the link control channel, created before the offer or answer (negotiated, id CONTROL_ID). */
  protected setControl(ch: BaseChannel): void {
    this.control = ch;
    ch.whenOpened = () => this.controlOpened();
    ch.onMessage((bytes) => this.controlMessage(bytes));
    ch.onClose((reason) => this.lost(`link control channel closed (${reason})`));
  }

  private controlOpened(): void {
    if (this.state === 'closed' || this.phase === 'connected') return;
    this.phase = 'connected';
    clearTimeout(this.connectTimer);
    this.lastHeard = Date.now();
    if (this.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
      this.heartbeat.unref?.();
    }
    this.log.debug('webrtc link connected', { backend: this.backend });
    settle(this.connectWaiters);
  }

  private controlMessage(bytes: Uint8Array): void {
    this.heard();
    const m = decodeControl(bytes);
    switch (m?.type) {
      case 'bye':
        this.lost(`closed by the peer${m.reason ? `: ${m.reason}` : ''}`);
        return;
      case 'close': {
        const ch = this.byStream.get(m.stream);
        if (ch) ch.peerClosing(m.count);
        else {
          if (this.earlyCloses.size >= MAX_EARLY_CLOSES) this.earlyCloses.delete(this.earlyCloses.keys().next().value!);
          this.earlyCloses.set(m.stream, { count: m.count, at: Date.now() });
        }
        return;
      }
      case 'closed':
        this.byStream.get(m.stream)?.peerConfirmed();
        return;
      case 'ping':
        this.sendControl(encodePong());
        return;
      case 'pong':
      case undefined:
        return; // liveness only; unknown types are ignored
    }
  }

  /** Backend: the peer connection failed or closed under us (no "bye" goes out). */
  protected lost(reason: string): void {
    this.down(reason, closedError(reason), false);
  }

  /** The description this side produced. */
  protected setLocal(sdp: string): void {
    this.localFp = parseFingerprint(sdp);
  }

  /** Backend: what this side advertises, when only its own description tells (a browser's). */
  protected setLocalMaxMessageSize(max: number): void {
    this.localMax = max;
    this.negotiatedMax = negotiatedMaxMessageSize(max, this.remoteMax);
  }

  protected abstract makeOffer(): Promise<string>;
  protected abstract makeAnswer(offer: string): Promise<string>;
  protected abstract applyAnswer(answer: string): Promise<void>;
  /** A local channel, connecting. */
  protected abstract createChannel(label: string, ordered: boolean): BaseChannel;
  /** Closes the peer connection (every channel is ended already). */
  protected abstract closePeer(): Promise<void>;

  protected get gatherMs(): number {
    return this.gatherTimeoutMs;
  }

  // ------------------------------------------------------------------------------------ internals

  private expectPhase(phase: LinkPhase, what: string): void {
    if (this.closeError) throw this.closeError;
    if (this.phase !== phase) throw err('BAD_PARAM', `${what}() while the link is ${this.phase}`);
  }

  private async negotiate(what: string, step: () => Promise<string>): Promise<string> {
    try {
      const sdp = await step();
      if (this.closeError) throw this.closeError;
      return sdp;
    } catch (e) {
      const error = e instanceof StxError ? e : err('BAD_PARAM', `could not ${what}: ${e instanceof Error ? e.message : String(e)}`);
      this.close(`negotiation failed: ${error.message}`);
      throw error;
    }
  }

  private setRemote(sdp: string): void {
    this.remoteFp = parseFingerprint(sdp);
    this.remoteMax = parseMaxMessageSize(sdp);
    this.negotiatedMax = negotiatedMaxMessageSize(this.localMax, this.remoteMax);
  }

  private startConnectTimer(): void {
    this.connectTimer = setTimeout(() => {
      const reason = `not connected after ${this.connectTimeoutMs} ms`;
      this.down(reason, new StxError('TIMEOUT', reason), false);
    }, this.connectTimeoutMs);
    this.connectTimer.unref?.();
  }

  private beat(): void {
    const now = Date.now();
    if (this.heardSince) {
      this.heardSince = false;
      this.lastHeard = now;
    } else if (now - this.lastHeard > this.deadAfterMs) {
      this.close(`nothing heard from the peer for ${now - this.lastHeard} ms`);
      return;
    }
    const control = this.control;
    if (control && control.bufferedAmount < 4096) this.sendControl(encodePing());
  }

  private track(ch: BaseChannel): void {
    this.channels.add(ch);
    ch.onClose(() => this.channels.delete(ch));
  }

  private down(reason: string, error: StxError, sayBye: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.phase = 'closed';
    this.closeReason = reason;
    this.closeError = error;
    clearTimeout(this.connectTimer);
    clearInterval(this.heartbeat);
    this.log.debug('webrtc link closed', { backend: this.backend, reason });
    for (const ch of [...this.channels]) ch.end(reason);
    settle(this.connectWaiters, error);
    this.closed.emit(reason);
    void this.teardown(sayBye);
  }

  private async teardown(sayBye: boolean): Promise<void> {
    const control = this.control;
    // Let the "bye" leave before the peer connection goes (werift drops what is queued on close).
    if (sayBye && control) {
      const until = Date.now() + 250;
      while (control.backlog() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
      // An empty send queue is not delivery (node-datachannel hands the bye to SCTP and reports 0): the peer
      // closes its side when the bye arrives, so wait a moment for that before tearing the connection down.
      const heard = Date.now() + 500;
      while (control.state !== 'closed' && Date.now() < heard) await new Promise((r) => setTimeout(r, 5));
    }
    control?.end(this.closeReason ?? 'closed');
    try {
      await this.closePeer();
    } catch (e) {
      this.log.warn('webrtc peer connection close failed', { backend: this.backend, error: (e as Error).message });
    }
  }
}
