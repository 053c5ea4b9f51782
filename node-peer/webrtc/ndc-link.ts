// PeerLink over node-datachannel 0.33.4 (libdatachannel: usrsctp and libjuice in native code). Its
// callbacks arrive on the JS thread in order per channel; a channel closed locally still delivers what was
// queued before its stream reset. What the contract hides:
// - automatic negotiation is off: one offer and one answer are made explicitly, after gathering completes;
// - one callback per event (a setter, not a listener list): each is set once here, and callbacks that
//   arrive after a channel is closed are ignored;
// - bufferedAmount is libdatachannel's own (bytes not yet taken by SCTP), capped here at maxQueuedBytes;
// - the peer's certificate is checked against the SDP fingerprint by libdatachannel; the link checks the
//   fingerprint it reports again once connected.
import { type DataChannel, type IceServer as NdcIceServer, PeerConnection, type RtcConfig } from 'node-datachannel';
import { closedError } from '../../shared/stx/errors.ts';
import { BaseChannel, type ChannelHost } from '../../shared/stx/link/channel.ts';
import { CONTROL_ID, CONTROL_LABEL } from '../../shared/stx/link/control.ts';
import { LinkCore } from '../../shared/stx/link/link.ts';
import type { NodeLinkOptions } from './options.ts';
import { type IceServer, parseFingerprint, parseIceUrl } from '../../shared/stx/link/sdp.ts';

export const NDC_DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;
export const NDC_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

const encoder = new TextEncoder();

class NdcChannel extends BaseChannel {
  private threshold = 0;

  constructor(
    label: string,
    host: ChannelHost,
    private readonly dc: DataChannel,
    state: 'connecting' | 'open',
  ) {
    super(label, host, state);
    dc.onOpen(() => this.opened());
    dc.onClosed(() => this.ended());
    dc.onError((e) => {
      if (this.state !== 'closed') this.end(`channel error: ${e}`);
    });
    dc.onBufferedAmountLow(() => {
      // The event is queued from libdatachannel's thread: by the time it runs, more may have been sent. A
      // stale one is dropped; libdatachannel fires again when the amount next falls to the threshold.
      if ((this.state === 'open' || this.state === 'closing') && this.bufferedAmount <= this.threshold) this.low.emit();
    });
    dc.onMessage((m) => {
      if (this.state === 'closed') return;
      if (typeof m === 'string') this.deliver(encoder.encode(m));
      else if (m instanceof ArrayBuffer) this.deliver(new Uint8Array(m));
      else this.deliver(new Uint8Array(m.buffer, m.byteOffset, m.byteLength));
    });
  }

  get bufferedAmount(): number {
    if (this.state === 'closed') return 0;
    try {
      return this.dc.bufferedAmount();
    } catch {
      return 0; // the native channel is gone: nothing is buffered any more
    }
  }

  get bufferedAmountLowThreshold(): number {
    return this.threshold;
  }

  set bufferedAmountLowThreshold(value: number) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`bufferedAmountLowThreshold must be a non-negative integer, not ${value}`);
    this.threshold = value;
    if (this.state !== 'closed') this.dc.setBufferedAmountLowThreshold(value);
  }

  backlog(): number {
    return this.bufferedAmount;
  }

  protected write(bytes: Uint8Array): void {
    try {
      this.dc.sendMessageBinary(bytes); // copied into native memory before it returns
    } catch (e) {
      throw closedError(`channel ${this.label}: ${(e as Error).message}`);
    }
  }

  streamId(): number | undefined {
    try {
      return this.dc.getId();
    } catch {
      return undefined;
    }
  }

  protected closeBackend(): void {
    this.dc.close();
  }

  protected release(): void {
    // node-datachannel has no way to remove a callback: they check the state instead.
  }
}

/** libdatachannel takes servers as {hostname, port, relayType}; URLs as RTCPeerConnection does. */
export function toNdcIceServers(servers: IceServer[]): NdcIceServer[] {
  const out: NdcIceServer[] = [];
  for (const server of servers) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      const u = parseIceUrl(url);
      if (u.scheme === 'stuns') throw new TypeError(`node-datachannel does not support stuns: ${url}`);
      if (u.scheme === 'stun') out.push({ hostname: u.host, port: u.port });
      else {
        const relayType = u.scheme === 'turns' ? 'TurnTls' : u.transport === 'tcp' ? 'TurnTcp' : 'TurnUdp';
        out.push({ hostname: u.host, port: u.port, username: server.username, password: server.credential, relayType });
      }
    }
  }
  return out;
}

let linkCount = 0;

export class NdcLink extends LinkCore {
  readonly backend = 'datachannel' as const;
  private readonly pc: PeerConnection;

  constructor(opts: NodeLinkOptions = {}) {
    const max = opts.maxMessageSize ?? NDC_DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < 1024 || max > NDC_MAX_MESSAGE_SIZE) {
      throw new RangeError(`node-datachannel maxMessageSize must be an integer from 1024 to ${NDC_MAX_MESSAGE_SIZE}, not ${max}`);
    }
    super(opts, max);
    const config: RtcConfig = {
      iceServers: toNdcIceServers(opts.iceServers ?? []),
      disableAutoNegotiation: true,
      maxMessageSize: max,
      ...(opts.bindAddress ? { bindAddress: opts.bindAddress } : {}),
    };
    this.pc = new PeerConnection(`stx-${++linkCount}`, config);
    this.pc.onStateChange((s) => {
      if (s === 'failed' || s === 'closed') this.lost(`peer connection ${s}`);
      else if (s === 'connected') this.checkFingerprint();
    });
    this.pc.onDataChannel((dc) => {
      if (this.state === 'closed') dc.close();
      else this.announce(new NdcChannel(dc.getLabel(), this, dc, 'open'));
    });
    const control = this.pc.createDataChannel(CONTROL_LABEL, { negotiated: true, id: CONTROL_ID });
    this.setControl(new NdcChannel(CONTROL_LABEL, this, control, 'connecting'));
  }

  protected makeOffer(): Promise<string> {
    this.pc.setLocalDescription('offer');
    return this.gathered();
  }

  protected makeAnswer(offer: string): Promise<string> {
    this.pc.setRemoteDescription(offer, 'offer');
    this.pc.setLocalDescription('answer');
    return this.gathered();
  }

  protected async applyAnswer(answer: string): Promise<void> {
    // libdatachannel refuses an answer whose candidates arrive while its ICE transport is still being set up
    // on its own thread ("Got a remote candidate without ICE transport", a loaded 2-core machine, about once
    // in 500 links), and the peer connection does not survive that. So the description goes in without its
    // candidates, and each candidate follows on its own, again a moment later if the transport is not ready.
    const lines = answer.split(/\r?\n/);
    const candidates = lines.filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
    const mid = lines.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? '0';
    this.pc.setRemoteDescription(lines.filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n'), 'answer');
    for (const c of candidates) {
      for (let attempt = 0; ; attempt++) {
        try {
          this.pc.addRemoteCandidate(c, mid);
          break;
        } catch (e) {
          if (attempt >= 40 || !/without ICE transport/.test(String(e))) throw e;
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    }
  }

  protected createChannel(label: string, ordered: boolean): BaseChannel {
    return new NdcChannel(label, this, this.pc.createDataChannel(label, { unordered: !ordered }), 'connecting');
  }

  protected async closePeer(): Promise<void> {
    this.pc.close();
  }

  private checkFingerprint(): void {
    const expected = this.remoteFingerprint;
    let actual: string | undefined;
    try {
      actual = this.pc.remoteFingerprint()?.value?.toUpperCase();
    } catch {
      actual = undefined;
    }
    if (expected && actual && actual !== expected.value) this.close('the peer certificate does not match the fingerprint in its description');
  }

  private async gathered(): Promise<string> {
    if (this.pc.gatheringState() !== 'complete') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.gatherMs);
        this.pc.onGatheringStateChange((s) => {
          if (s === 'complete') {
            clearTimeout(timer);
            resolve();
          }
        });
        // The state may have changed between the check and the callback being set.
        if (this.pc.gatheringState() === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    const sdp = this.pc.localDescription()?.sdp;
    if (!sdp || !parseFingerprint(sdp)) throw new Error('node-datachannel produced no local description');
    this.setLocal(sdp);
    return sdp;
  }
}
