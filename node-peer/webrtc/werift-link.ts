// PeerLink over werift 0.25.2 (pure TypeScript WebRTC). What werift needs that the contract hides
// (WEBRTC-NOTES.md, "werift pitfalls seen"):
// - its send queue is quadratic in queued messages and its bufferedAmount falls only when that queue drains,
//   so each channel hands werift at most 16 messages / 1 MiB at a time and keeps the rest here (bounded);
// - bufferedamountlow fires through the event, never the property: the link re-arms werift's threshold to
//   hear every halving of its queue and reports its own bufferedAmount (queued here + werift's);
// - close() with data queued loses it: the stream is reset only once the peer confirmed it has every
//   message (the close handshake, channel.ts), and a closing channel keeps sending its queue until then;
// - sends after close are dropped silently: refused here with CLOSED;
// - unreliable channels break reliable ones on the same connection: refused locally, closed when a peer
//   opens one; messages of 2 MiB jam the association: the advertised maximum is capped at 1 MiB;
// - an empty message is never sent (werift drops it but spends its sequence number, which stalls the
//   stream): refused with BAD_LENGTH;
// - host candidates skip lo: 127.0.0.1 is added so loopback works;
// - ordered messages can stay stuck in SCTP reassembly when channels interleave (#706): fixed at run time
//   (werift-fixes.ts);
// - werift gives a new channel the lowest free stream id, freed as soon as its own reset is answered, while
//   the peer's reset of the same stream may still be on its way and then closes the new channel: stream
//   ids are chosen here instead, round robin below 1024 (libdatachannel's stream count), odd for the
//   offerer and even for the answerer (RFC 8832: the DTLS client, the answerer here, takes even ids).
import { type RTCDataChannel, RTCPeerConnection } from 'werift';
import { err } from '../../shared/stx/errors.ts';
import { BaseChannel, type ChannelHost } from '../../shared/stx/link/channel.ts';
import { CONTROL_ID, CONTROL_LABEL } from '../../shared/stx/link/control.ts';
import { LinkCore } from '../../shared/stx/link/link.ts';
import type { NodeLinkOptions } from './options.ts';
import { fixWeriftSctp } from './werift-fixes.ts';

export const WERIFT_DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024;
/** Stream ids used: below libdatachannel's 1024 streams, so a werift peer talks to any backend. */
const STREAM_IDS = 1024;
/** 2 MiB messages jam a werift association for good (WEBRTC-NOTES.md). */
export const WERIFT_MAX_MESSAGE_SIZE = 1024 * 1024;

interface Caps {
  messages: number;
  bytes: number;
}

const encoder = new TextEncoder();

class WeriftChannel extends BaseChannel {
  /** Messages waiting for room in werift, from `head` on. */
  private pending: (Buffer | undefined)[] = [];
  private head = 0;
  private pendingBytes = 0;
  /** Sizes of the messages handed to werift and not yet drained, oldest first. */
  private readonly inWerift: number[] = [];
  private inWeriftBytes = 0;
  private threshold = 0;
  private above = false;
  private readonly subs: (() => void)[];

  constructor(
    label: string,
    host: ChannelHost,
    private readonly dc: RTCDataChannel,
    state: 'connecting' | 'open',
    private readonly caps: Caps,
  ) {
    super(label, host, state);
    this.subs = [
      dc.onMessage.subscribe((m) => {
        if (this.state !== 'closed') this.deliver(typeof m === 'string' ? encoder.encode(m) : new Uint8Array(m.buffer, m.byteOffset, m.byteLength));
      }).unSubscribe,
      dc.bufferedAmountLow.subscribe(() => this.drained()).unSubscribe,
      dc.stateChange.subscribe((s) => {
        if (s === 'open') this.opened();
        else if (s === 'closed') this.ended();
      }).unSubscribe,
    ];
  }

  get bufferedAmount(): number {
    return this.state === 'closed' ? 0 : this.pendingBytes + this.dc.bufferedAmount;
  }

  get bufferedAmountLowThreshold(): number {
    return this.threshold;
  }

  set bufferedAmountLowThreshold(value: number) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`bufferedAmountLowThreshold must be a non-negative integer, not ${value}`);
    this.threshold = value;
    this.above = this.bufferedAmount > value;
    this.arm();
  }

  backlog(): number {
    return this.bufferedAmount;
  }

  protected write(bytes: Uint8Array): void {
    if (bytes.length === 0) throw err('BAD_LENGTH', 'werift cannot send an empty message');
    const buf = Buffer.from(bytes); // werift keeps views of what it is given until it is sent
    this.reconcile();
    if (this.head === this.pending.length && this.hasRoom(buf.length)) this.hand(buf);
    else {
      this.pending.push(buf);
      this.pendingBytes += buf.length;
    }
    if (this.bufferedAmount > this.threshold) this.above = true;
    this.arm();
  }

  streamId(): number | undefined {
    return this.dc.id ?? undefined;
  }

  protected closeBackend(): void {
    this.dropPending();
    this.dc.close();
  }

  protected release(): void {
    for (const off of this.subs) off();
    this.dropPending();
  }

  /** werift's queue shrank past the threshold armed last. */
  private drained(): void {
    if (this.state === 'closed') return;
    this.pump();
    const was = this.above;
    this.above = this.bufferedAmount > this.threshold;
    if (was && !this.above) this.low.emit();
    this.arm();
  }

  private hasRoom(size: number): boolean {
    return this.inWerift.length === 0 || (this.inWerift.length < this.caps.messages && this.inWeriftBytes + size <= this.caps.bytes);
  }

  private hand(buf: Buffer): void {
    this.inWerift.push(buf.length);
    this.inWeriftBytes += buf.length;
    this.dc.send(buf);
  }

  private pump(): void {
    this.reconcile();
    while (this.head < this.pending.length) {
      const next = this.pending[this.head]!;
      if (!this.hasRoom(next.length)) break;
      this.pending[this.head++] = undefined;
      this.pendingBytes -= next.length;
      this.hand(next);
    }
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }

  /** Forgets the messages werift has sent (it sends in order, so they are the oldest). */
  private reconcile(): void {
    const left = this.dc.bufferedAmount;
    while (this.inWerift.length > 0 && this.inWeriftBytes > left) this.inWeriftBytes -= this.inWerift.shift()!;
  }

  /** Sets werift's threshold so that drained() runs when its queue halves, or when our total reaches ours. */
  private arm(): void {
    if (this.state === 'closed') return;
    const inside = this.dc.bufferedAmount;
    if (inside === 0) return;
    let t = Math.floor(inside / 2);
    const target = this.threshold - this.pendingBytes;
    if (target >= t && target < inside) t = target;
    this.dc.bufferedAmountLowThreshold = t;
  }

  private dropPending(): void {
    this.pending = [];
    this.head = 0;
    this.pendingBytes = 0;
  }
}

function capsFrom(opts: NodeLinkOptions): Caps {
  const messages = opts.weriftInFlight?.messages ?? 16;
  const bytes = opts.weriftInFlight?.bytes ?? 1024 * 1024;
  if (!Number.isInteger(messages) || messages < 1) throw new RangeError(`weriftInFlight.messages must be a positive integer, not ${messages}`);
  if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`weriftInFlight.bytes must be a positive integer, not ${bytes}`);
  return { messages, bytes };
}

let fixed = false;

export class WeriftLink extends LinkCore {
  readonly backend = 'werift' as const;
  private readonly pc: RTCPeerConnection;
  private readonly caps: Caps;
  private lastStream = -1;

  constructor(opts: NodeLinkOptions = {}) {
    const max = opts.maxMessageSize ?? WERIFT_DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < 1024 || max > WERIFT_MAX_MESSAGE_SIZE) {
      throw new RangeError(`werift maxMessageSize must be an integer from 1024 to ${WERIFT_MAX_MESSAGE_SIZE}, not ${max}`);
    }
    super(opts, max);
    this.caps = capsFrom(opts);
    this.pc = new RTCPeerConnection({
      iceServers: opts.iceServers ?? [],
      iceAdditionalHostAddresses: opts.loopback === false ? undefined : ['127.0.0.1'],
      maxMessageSize: max,
    });
    this.pc.onDataChannel.subscribe((dc) => this.remoteChannel(dc));
    this.pc.connectionStateChange.subscribe((s) => {
      if (s === 'failed' || s === 'closed') this.lost(`peer connection ${s}`);
    });
    const control = this.pc.createDataChannel(CONTROL_LABEL, { negotiated: true, id: CONTROL_ID, ordered: true });
    this.setControl(new WeriftChannel(CONTROL_LABEL, this, control, 'connecting', this.caps));
    if (!fixed) {
      fixed = fixWeriftSctp(this.pc.sctpTransport?.sctp);
      if (!fixed) this.log.warn('webrtc: could not apply the werift reassembly fix (werift-fixes.ts)');
    }
  }

  protected async makeOffer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.gathered();
  }

  protected async makeAnswer(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.gathered();
  }

  protected async applyAnswer(answer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  protected createChannel(label: string, ordered: boolean): BaseChannel {
    const id = this.nextStreamId();
    return new WeriftChannel(label, this, this.pc.createDataChannel(label, { ordered, ...(id !== undefined ? { id } : {}) }), 'connecting', this.caps);
  }

  /** The next stream id of this side's parity that no channel uses, round robin; undefined before negotiation. */
  private nextStreamId(): number | undefined {
    if (!this.role) return undefined;
    const parity = this.role === 'offerer' ? 1 : 0;
    const used = this.pc.sctpTransport?.dataChannels ?? {};
    for (let tries = 0; tries < STREAM_IDS / 2; tries++) {
      let id = this.lastStream < 0 ? parity : this.lastStream + 2;
      if (id >= STREAM_IDS) id = parity;
      this.lastStream = id;
      if (id !== CONTROL_ID && !(id in used)) return id;
    }
    throw err('TOO_MANY', `all ${STREAM_IDS / 2} stream ids of this side are in use`);
  }

  protected async closePeer(): Promise<void> {
    await this.pc.close();
  }

  private remoteChannel(dc: RTCDataChannel): void {
    if (dc.maxRetransmits !== null || dc.maxPacketLifeTime !== null) {
      // One partially reliable channel makes werift lose every message of the reliable ones for good.
      this.log.warn('webrtc: closing an unreliable channel the peer opened', { label: dc.label });
      dc.close();
      return;
    }
    this.announce(new WeriftChannel(dc.label, this, dc, 'open', this.caps));
  }

  /** Waits for candidate gathering to complete (or the gather timeout), then returns the description. */
  private async gathered(): Promise<string> {
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.gatherMs);
        const sub = this.pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && done());
        function done() {
          clearTimeout(timer);
          sub.unSubscribe();
          resolve();
        }
      });
    }
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new Error('werift produced no local description');
    this.setLocal(sdp);
    return sdp;
  }
}
