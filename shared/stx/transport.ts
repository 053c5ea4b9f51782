// The transport STX runs on: a PeerLink (one WebRTC peer connection) that opens Channels (data channels).
// Implemented by the memory pair here (memory-transport.ts), and later by werift and node-datachannel in
// node-peer/ and by RTCPeerConnection in web/. Rules every backend follows (WEBRTC-NOTES.md):
// - reliable channels only: openChannel({reliable: false}) rejects with StxError UNSUPPORTED;
// - send() over maxMessageSize throws StxError TOO_LARGE, send() on a channel that is not open throws
//   StxError CLOSED (werift drops such sends silently, browsers throw InvalidStateError: normalize both);
// - a remote channel is announced through onChannel before its first message is delivered, so a listener
//   subscribed inside onChannel sees every message; delivered bytes belong to the receiver;
// - bufferedAmount counts bytes accepted by send() and not yet handed to the network, and
//   onBufferedAmountLow fires when it falls to or below bufferedAmountLowThreshold from above (werift: use
//   the event, not the property; Chrome: keep bufferedAmount under a few MiB).

export type Unsubscribe = () => void;

export type ChannelState = 'connecting' | 'open' | 'closing' | 'closed';

export interface ChannelOptions {
  ordered: boolean;
  /** Must be true (partial reliability is broken in werift). */
  reliable: boolean;
}

export interface Channel {
  readonly label: string;
  readonly state: ChannelState;
  /** Largest message send() accepts: the smaller of both sides' SCTP max-message-size (64 KiB unless raised). */
  readonly maxMessageSize: number;
  /** Bytes accepted by send() and not yet handed to the network. */
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  /** Queues one message; the caller may reuse `bytes` afterwards. Throws StxError TOO_LARGE or CLOSED. */
  send(bytes: Uint8Array): void;
  /** Closes both ends; messages already sent are still delivered, then the peer sees its close event. */
  close(): void;
  onMessage(fn: (bytes: Uint8Array) => void): Unsubscribe;
  onBufferedAmountLow(fn: () => void): Unsubscribe;
  /** Fires once, when the channel is closed by either side or its link goes down. */
  onClose(fn: (reason: string) => void): Unsubscribe;
}

export interface PeerLink {
  readonly state: 'open' | 'closed';
  /** The peer's SCTP max-message-size: the ceiling of every channel's maxMessageSize. */
  readonly maxMessageSize: number;
  /** Opens a channel; resolves once it is open (the remote side has been given it through onChannel). */
  openChannel(label: string, opts: ChannelOptions): Promise<Channel>;
  /** Channels the remote side opened, delivered open. */
  onChannel(fn: (channel: Channel) => void): Unsubscribe;
  /** Closes every channel and the link. */
  close(reason?: string): void;
  onClose(fn: (reason: string) => void): Unsubscribe;
}

/** The signaling channel: one per pair of peers, long-lived, ordered and reliable. */
export const SIGNALING_LABEL = 'stx';
export const SIGNALING_OPTIONS: ChannelOptions = { ordered: true, reliable: true };
/** The message limit every WebRTC stack accepts without negotiation. */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024;
