// PeerLink over the browser's own RTCPeerConnection: the same LinkCore as the Node backends
// (shared/stx/link/), so the same negotiation (one complete offer, one complete answer), the same control
// channel ("stx-link", negotiated on stream 0) and close handshake, and a browser link talks to a werift or
// node-datachannel link as to another browser. What the browser needs that the contract hides
// (WEBRTC-NOTES.md, "Browsers"):
// - no trickle: the description goes out once gathering is complete (or gatherTimeoutMs has passed);
// - the browser decides its own max-message-size (Chrome 256 KiB): maxMessageSize can only lower it, by
//   advertising the lower figure in the description handed to the peer;
// - send() throws DOMExceptions: InvalidStateError (not open) becomes CLOSED, TypeError (over the limit)
//   TOO_LARGE, OperationError (Chrome's 16 MiB send queue full) QUEUE_FULL; the queue is capped below that
//   (maxQueuedBytes, default 8 MiB), since Chrome stops firing bufferedamountlow past ~16 MiB;
// - bufferedamountlow is queued as a task: one that arrives after more was sent (the amount above the
//   threshold again) is dropped, and the next crossing fires again;
// - the browser picks stream ids itself (the DTLS client even, the server odd) and frees one only once both
//   directions are reset, so no reuse race as in werift;
// - an error event on a channel is followed by its close event, which ends the channel;
// - the browser checks the peer's DTLS certificate against the description's fingerprint; the link checks
//   the certificate it reports (getRemoteCertificates) once more when connected;
// - a tab that closes sends nothing (its peer would notice only by the heartbeat): the link closes on
//   pagehide, so the peer gets the bye;
// - host candidates: Chromium hides local addresses behind mDNS names and skips loopback unless told
//   otherwise (docs/PROTOCOL.md, "Transports": the flags the tests use).
import { closedError, err } from '../../shared/stx/errors.ts';
import { BaseChannel, type ChannelHost } from '../../shared/stx/link/channel.ts';
import { CONTROL_ID, CONTROL_LABEL } from '../../shared/stx/link/control.ts';
import { LinkCore, type LinkOptions } from '../../shared/stx/link/link.ts';
import { parseFingerprint, parseMaxMessageSize, withMaxMessageSize } from '../../shared/stx/link/sdp.ts';

export interface BrowserLinkOptions extends LinkOptions {
  /** Close the link (telling the peer) when the page is hidden for good or closed: pagehide. Default true. */
  closeOnPageHide?: boolean;
}

/** One end of the ICE candidate pair in use (address is empty when the browser hides it behind mDNS). */
export interface CandidateInfo {
  address: string;
  port: number;
  /** udp or tcp */
  protocol: string;
  /** host, srflx, prflx or relay */
  type: string;
}

/** Chrome's send queue: send() fails past it. */
export const BROWSER_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
export const BROWSER_DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** What is assumed until the browser's own description says (Chrome advertises 256 KiB). */
const PROVISIONAL_MAX_MESSAGE_SIZE = 256 * 1024;

const encoder = new TextEncoder();

/** The browser's send() errors as the contract names them; anything else is passed on as it is. */
function sendError(e: unknown, label: string): unknown {
  const name = (e as { name?: string })?.name;
  const message = (e as Error)?.message ?? String(e);
  switch (name) {
    case 'InvalidStateError':
      return closedError(`channel ${label}: ${message}`);
    case 'TypeError':
      return err('TOO_LARGE', `channel ${label}: ${message}`);
    case 'OperationError':
      return err('QUEUE_FULL', `channel ${label}: ${message}`);
    default:
      return e;
  }
}

class RtcChannel extends BaseChannel {
  /**
   * Messages that came before the open event. Chrome fires `message` on a channel we opened while it is
   * still "connecting" when the peer writes the moment it accepts it (the data overtakes the DCEP ack: a
   * server's Hello on a viewer's signaling channel). They are delivered, in order and ahead of any later
   * one, in a task after `open`, once whoever awaited the open has subscribed.
   */
  private early: Uint8Array[] | undefined;

  constructor(
    label: string,
    host: ChannelHost,
    private readonly dc: RTCDataChannel,
    state: 'connecting' | 'open',
  ) {
    super(label, host, state);
    dc.binaryType = 'arraybuffer';
    dc.onopen = () => {
      this.opened();
      if (this.early) setTimeout(() => this.flushEarly(), 0);
    };
    dc.onclose = () => this.ended();
    // No error listener: an error event (an SCTP failure, a reset by the peer) is followed by close.
    dc.onbufferedamountlow = () => {
      if ((this.state === 'open' || this.state === 'closing') && dc.bufferedAmount <= dc.bufferedAmountLowThreshold) this.low.emit();
    };
    dc.onmessage = (ev: MessageEvent<unknown>) => {
      if (this.state === 'closed') return;
      const data = ev.data;
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : typeof data === 'string' ? encoder.encode(data) : undefined;
      if (!bytes) return;
      if (this.state === 'connecting' || this.early) (this.early ??= []).push(bytes);
      else this.deliver(bytes);
    };
  }

  private flushEarly(): void {
    const early = this.early ?? [];
    this.early = undefined;
    if (this.state === 'closed') return;
    for (const b of early) this.deliver(b);
  }

  get bufferedAmount(): number {
    return this.state === 'closed' ? 0 : this.dc.bufferedAmount;
  }

  get bufferedAmountLowThreshold(): number {
    return this.dc.bufferedAmountLowThreshold;
  }

  set bufferedAmountLowThreshold(value: number) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`bufferedAmountLowThreshold must be a non-negative integer, not ${value}`);
    this.dc.bufferedAmountLowThreshold = value;
  }

  backlog(): number {
    return this.bufferedAmount;
  }

  streamId(): number | undefined {
    return this.dc.id ?? undefined;
  }

  protected write(bytes: Uint8Array): void {
    // The browser copies before send() returns; a view of a SharedArrayBuffer it refuses, so copy that first.
    const own = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
    try {
      this.dc.send(own);
    } catch (e) {
      throw sendError(e, this.label);
    }
  }

  protected closeBackend(): void {
    this.dc.close();
  }

  protected release(): void {
    this.early = undefined;
    this.dc.onopen = null;
    this.dc.onclose = null;
    this.dc.onbufferedamountlow = null;
    this.dc.onmessage = null;
  }
}

export class RtcLink extends LinkCore {
  readonly backend = 'browser' as const;
  private readonly pc: RTCPeerConnection;

  constructor(opts: BrowserLinkOptions = {}) {
    const max = opts.maxMessageSize;
    if (max !== undefined && (!Number.isInteger(max) || max < 1024)) {
      throw new RangeError(`maxMessageSize must be an integer of at least 1024 (the browser's own figure is the most), not ${max}`);
    }
    const queued = opts.maxQueuedBytes ?? BROWSER_DEFAULT_MAX_QUEUED_BYTES;
    if (!Number.isInteger(queued) || queued < 1 || queued > BROWSER_MAX_QUEUED_BYTES) {
      throw new RangeError(`maxQueuedBytes must be an integer from 1 to ${BROWSER_MAX_QUEUED_BYTES} (Chrome's send queue), not ${queued}`);
    }
    super({ ...opts, maxQueuedBytes: queued }, max ?? PROVISIONAL_MAX_MESSAGE_SIZE);
    this.pc = new RTCPeerConnection({ iceServers: opts.iceServers ?? [] });
    if (opts.closeOnPageHide !== false && typeof globalThis.addEventListener === 'function') {
      // A closing tab sends nothing on its own: without the bye the peer would wait for its heartbeat.
      const onHide = () => this.close('page closed');
      globalThis.addEventListener('pagehide', onHide);
      this.onClose(() => globalThis.removeEventListener('pagehide', onHide));
    }
    this.pc.ondatachannel = (ev) => this.remoteChannel(ev.channel);
    this.pc.onconnectionstatechange = () => {
      const s = this.pc.connectionState;
      if (s === 'failed' || s === 'closed') this.lost(`peer connection ${s}`);
      else if (s === 'connected') void this.checkFingerprint();
    };
    const control = this.pc.createDataChannel(CONTROL_LABEL, { negotiated: true, id: CONTROL_ID, ordered: true });
    this.setControl(new RtcChannel(CONTROL_LABEL, this, control, 'connecting'));
  }

  /** The candidates ICE selected (their addresses, for example 127.0.0.1 on loopback), once connected. */
  async candidatePair(): Promise<{ local: CandidateInfo; remote: CandidateInfo } | undefined> {
    const stats = await this.pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s: { type: string; selectedCandidatePairId?: string }) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? (stats.get(pairId) as { localCandidateId: string; remoteCandidateId: string } | undefined) : undefined;
    if (!pair) return undefined;
    const candidate = (id: string): CandidateInfo => {
      const c = stats.get(id) as { address?: string; port?: number; protocol?: string; candidateType?: string } | undefined;
      return { address: c?.address ?? '', port: c?.port ?? 0, protocol: c?.protocol ?? '', type: c?.candidateType ?? '' };
    };
    return { local: candidate(pair.localCandidateId), remote: candidate(pair.remoteCandidateId) };
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
    return new RtcChannel(label, this, this.pc.createDataChannel(label, { ordered }), 'connecting');
  }

  protected async closePeer(): Promise<void> {
    this.pc.close();
  }

  private remoteChannel(dc: RTCDataChannel): void {
    if (this.state === 'closed') {
      dc.close();
      return;
    }
    if (dc.maxRetransmits !== null || dc.maxPacketLifeTime !== null) {
      // Reliable channels only, as on every backend (a werift peer breaks on partial reliability).
      this.log.warn('webrtc: closing an unreliable channel the peer opened', { label: dc.label });
      dc.close();
      return;
    }
    // The specification has the channel open when it is announced; should it not be yet, announce it on open.
    if (dc.readyState === 'open') this.announce(new RtcChannel(dc.label, this, dc, 'open'));
    else {
      const ch = new RtcChannel(dc.label, this, dc, 'connecting');
      ch.whenOpened = () => this.announce(ch);
    }
  }

  /** Waits for candidate gathering to complete (or the gather timeout), then returns the description. */
  private async gathered(): Promise<string> {
    const pc = this.pc;
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const check = () => pc.iceGatheringState === 'complete' && done();
        const timer = setTimeout(done, this.gatherMs);
        const off = this.onClose(done);
        pc.addEventListener('icegatheringstatechange', check);
        function done() {
          clearTimeout(timer);
          off();
          pc.removeEventListener('icegatheringstatechange', check);
          resolve();
        }
      });
    }
    const sdp = pc.localDescription?.sdp;
    if (!sdp || !parseFingerprint(sdp)) throw new Error('the browser produced no local description');
    // What the browser advertised (0: no limit) is the most this side can take; the option may lower it.
    const own = parseMaxMessageSize(sdp);
    const want = this.opts.maxMessageSize;
    const max = want === undefined ? own || PROVISIONAL_MAX_MESSAGE_SIZE : own === 0 ? want : Math.min(want, own);
    const out = max === own ? sdp : withMaxMessageSize(sdp, max);
    this.setLocalMaxMessageSize(max);
    this.setLocal(out);
    return out;
  }

  /** Closes the link unless the certificate the browser reports has the fingerprint of the peer's description. */
  private async checkFingerprint(): Promise<void> {
    const expected = this.remoteFingerprint;
    const certs = this.pc.sctp?.transport.getRemoteCertificates?.() ?? [];
    if (!expected || expected.algorithm !== 'sha-256' || certs.length === 0 || !globalThis.crypto?.subtle) return;
    try {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', certs[0]));
      const actual = Array.from(digest, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
      if (actual !== expected.value) this.close('the peer certificate does not match the fingerprint in its description');
    } catch (e) {
      this.log.debug('webrtc: could not hash the peer certificate', { error: e instanceof Error ? e.message : String(e) });
    }
  }
}
