// A Channel (shared/stx/transport.ts) over one WebSocket, so the State API's SignalingConnection runs on it
// unchanged: one STX batch per binary message. The endpoint (a Node socket with our frame codec, or a
// browser's WebSocket) sends messages and reports what it received, drained or ended. Isomorphic.
import { Emitter } from '../../util/emitter.ts';
import { closedError, err } from '../errors.ts';
import type { Channel, ChannelState, Unsubscribe } from '../transport.ts';

/** Largest message on a State API WebSocket, each way. */
export const WS_MAX_MESSAGE = 1024 * 1024;
/** The subprotocol a client asks for and a server requires. */
export const WS_SUBPROTOCOL = 'stx.1';
/** Bytes queued beyond which send() refuses (QUEUE_FULL): wait for onBufferedAmountLow. */
const MAX_QUEUED = 16 * 1024 * 1024;

export interface WsEndpoint {
  /** Sends one binary message. */
  send(bytes: Uint8Array): void;
  /** Bytes accepted and not yet handed to the network. */
  readonly buffered: number;
  /** Starts the close handshake (or ends at once when it cannot). */
  close(code: number, reason: string): void;
}

export class WsChannel implements Channel {
  readonly label = 'stx';
  readonly maxMessageSize = WS_MAX_MESSAGE;
  state: ChannelState = 'open';
  bufferedAmountLowThreshold = 0;
  private endpoint: WsEndpoint | undefined;
  private readonly messages = new Emitter<Uint8Array>();
  private readonly low = new Emitter<void>();
  private readonly closed = new Emitter<string>();

  /** The endpoint is attached once made (it needs the channel to report to). */
  attach(endpoint: WsEndpoint): this {
    this.endpoint = endpoint;
    return this;
  }

  get bufferedAmount(): number {
    return this.state === 'closed' ? 0 : (this.endpoint?.buffered ?? 0);
  }

  send(bytes: Uint8Array): void {
    if (this.state !== 'open' || !this.endpoint) throw closedError(`the WebSocket is ${this.state}`);
    if (bytes.length > this.maxMessageSize) throw err('TOO_LARGE', `message of ${bytes.length} bytes exceeds the WebSocket limit of ${this.maxMessageSize}`);
    if (this.bufferedAmount + bytes.length > MAX_QUEUED) throw err('QUEUE_FULL', `the WebSocket holds ${this.bufferedAmount} bytes already; wait for bufferedAmountLow`);
    this.endpoint.send(bytes);
  }

  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.endpoint?.close(1000, 'closed');
  }

  onMessage = (fn: (bytes: Uint8Array) => void): Unsubscribe => this.messages.on(fn);
  onBufferedAmountLow = (fn: () => void): Unsubscribe => this.low.on(fn);
  onClose = (fn: (reason: string) => void): Unsubscribe => this.closed.on(fn);

  /** For the endpoint: a message arrived. */
  deliver(bytes: Uint8Array): void {
    if (this.state === 'open') this.messages.emit(bytes);
  }

  /** For the endpoint: queued bytes went out. */
  drained(): void {
    if (this.state !== 'closed' && this.bufferedAmount <= this.bufferedAmountLowThreshold) this.low.emit();
  }

  /** For the endpoint: the socket is gone. Fires onClose once. */
  ended(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closed.emit(reason);
  }
}
