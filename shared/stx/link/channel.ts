// What every backend channel shares: the checks of send() (CLOSED, TOO_LARGE, QUEUE_FULL), onClose once,
// and the close handshake over the link control channel (control.ts): close() announces how many messages
// were sent; the peer delivers that many, ends its side ("closed by the peer") and confirms; only then is the
// stream reset. A closing channel delivers nothing more. A backend supplies write/closeBackend/release,
// bufferedAmount and the stream id.
import { closedError, err, type StxError } from '../errors.ts';
import type { Channel, ChannelState, Unsubscribe } from '../transport.ts';
import { Emitter } from '../../util/emitter.ts';
import { encodeClose, encodeClosed } from './control.ts';

/** What a channel needs from its link. */
export interface ChannelHost {
  readonly maxMessageSize: number;
  readonly maxQueuedBytes: number;
  readonly closeTimeoutMs: number;
  /** A message arrived from the peer: it is alive. */
  heard(): void;
  /** Sends a control message; false when the control channel cannot carry it. */
  sendControl(bytes: Uint8Array): boolean;
  /** The channel is open with a stream id: control messages may name it. */
  register(ch: BaseChannel): void;
  unregister(ch: BaseChannel): void;
}

export interface Waiter {
  resolve: () => void;
  reject: (e: StxError) => void;
}

export function settle(waiters: Waiter[], error?: StxError): void {
  for (const w of waiters.splice(0)) {
    if (error) w.reject(error);
    else w.resolve();
  }
}

export abstract class BaseChannel implements Channel {
  state: ChannelState;
  /** The SCTP stream id, once registered with the link. */
  stream: number | undefined;
  /** Called once when the channel opens (the link watches its control channel through it; the browser link
   *  announces through it a remote channel that was not open yet). */
  whenOpened: (() => void) | undefined;
  protected closeRequested = false;
  protected readonly low = new Emitter<void>();
  private readonly messages = new Emitter<Uint8Array>();
  private readonly closed = new Emitter<string>();
  private readonly openWaiters: Waiter[] = [];
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private sent = 0;
  private received = 0;
  private peerCloseAt: number | undefined;

  constructor(
    readonly label: string,
    protected readonly host: ChannelHost,
    state: 'connecting' | 'open',
  ) {
    this.state = state;
  }

  abstract readonly bufferedAmount: number;
  abstract bufferedAmountLowThreshold: number;

  get maxMessageSize(): number {
    return this.host.maxMessageSize;
  }

  send(bytes: Uint8Array): void {
    if (this.state !== 'open') throw closedError(`channel ${this.label} is ${this.state}`);
    if (bytes.length > this.maxMessageSize) throw err('TOO_LARGE', `message of ${bytes.length} bytes exceeds the channel limit of ${this.maxMessageSize}`);
    const buffered = this.bufferedAmount;
    if (buffered + bytes.length > this.host.maxQueuedBytes) {
      throw err('QUEUE_FULL', `channel ${this.label} holds ${buffered} bytes already (cap ${this.host.maxQueuedBytes}); wait for bufferedAmountLow`);
    }
    this.write(bytes);
    this.sent++;
  }

  close(): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.closeRequested = true;
    if (this.state === 'connecting' || this.stream === undefined || !this.host.sendControl(encodeClose(this.stream, this.sent))) {
      this.closeBackend();
      this.end('closed');
      return;
    }
    this.state = 'closing';
    this.closeTimer = setTimeout(() => {
      this.closeBackend();
      this.end('closed (the peer did not confirm in time)');
    }, this.host.closeTimeoutMs);
    this.closeTimer.unref?.();
  }

  onMessage = (fn: (bytes: Uint8Array) => void): Unsubscribe => this.messages.on(fn);
  onBufferedAmountLow = (fn: () => void): Unsubscribe => this.low.on(fn);
  onClose = (fn: (reason: string) => void): Unsubscribe => this.closed.on(fn);

  /** Resolves once open; rejects with CLOSED if the channel closes first. */
  whenOpen(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state !== 'connecting') return Promise.reject(closedError(`channel ${this.label} is ${this.state}`));
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  /** Ends this side at once and fires onClose (once). Does not wait for queued bytes. */
  end(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.closeTimer);
    this.host.unregister(this);
    this.release();
    settle(this.openWaiters, closedError(reason));
    this.closed.emit(reason);
  }

  /** Control CLOSE: the peer closes this channel after `count` messages. */
  peerClosing(count: number): void {
    this.peerCloseAt = count >>> 0;
    this.checkPeerClose();
  }

  /** Control CLOSED: the peer has every message sent before close(). */
  peerConfirmed(): void {
    if (this.state !== 'closing') return;
    this.closeBackend();
    this.end('closed');
  }

  /** Bytes the backend still holds for the network (for the link's final "bye"). */
  abstract backlog(): number;
  /** The SCTP stream id, when the backend has assigned one. */
  abstract streamId(): number | undefined;

  /** Backend: the channel opened. */
  protected opened(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.host.register(this);
    settle(this.openWaiters);
    this.whenOpened?.();
  }

  /** Backend: the backend channel closed (the peer reset the stream, or our reset finished). */
  protected ended(): void {
    this.end(this.closeRequested ? 'closed' : 'closed by the peer');
  }

  /** Backend: a message arrived. Counted in every state; delivered only while open. */
  protected deliver(bytes: Uint8Array): void {
    this.host.heard();
    this.received++;
    if (this.state === 'open') this.messages.emit(bytes);
    if (this.peerCloseAt !== undefined) this.checkPeerClose();
  }

  /** Queues bytes (already checked): the caller may reuse them afterwards. */
  protected abstract write(bytes: Uint8Array): void;
  /** Closes the backend channel (resets the stream) now. */
  protected abstract closeBackend(): void;
  /** Drops backend listeners and queued bytes (the channel is closed). */
  protected abstract release(): void;

  private checkPeerClose(): void {
    if (this.peerCloseAt === undefined || this.received >>> 0 !== this.peerCloseAt) return;
    this.peerCloseAt = undefined;
    if (this.stream !== undefined) this.host.sendControl(encodeClosed(this.stream));
    // A channel that is closing itself ends when the peer confirms its own CLOSE.
    if (this.state !== 'closing') this.end('closed by the peer');
  }
}
