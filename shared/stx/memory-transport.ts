// Two PeerLinks connected in memory, for unit tests and the in-tab demo: honours maxMessageSize, copies
// what is sent, and simulates a link of `bytesPerTick` bytes per scheduled tick so bufferedAmount rises
// and falls (and onBufferedAmountLow fires) as on a real channel. Delivery is ordered.
import { Emitter } from '../util/emitter.ts';
import { closedError, err, StxError } from './errors.ts';
import { type Channel, type ChannelOptions, type ChannelState, DEFAULT_MAX_MESSAGE_SIZE, type PeerLink, type Unsubscribe } from './transport.ts';

export interface MemoryOptions {
  maxMessageSize?: number;
  /** Bytes one channel delivers per tick (at least one message per tick). Default 256 KiB. */
  bytesPerTick?: number;
  /** Runs a delivery tick later; default setTimeout(fn, 0). */
  schedule?: (fn: () => void) => void;
}

interface Shared {
  maxMessageSize: number;
  bytesPerTick: number;
  schedule: (fn: () => void) => void;
}

class MemoryChannel implements Channel {
  state: ChannelState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  peer!: MemoryChannel;
  private readonly queue: Uint8Array[] = [];
  private pumping = false;
  private readonly messages = new Emitter<Uint8Array>();
  private readonly low = new Emitter<void>();
  private readonly closed = new Emitter<string>();

  constructor(
    readonly label: string,
    private readonly shared: Shared,
  ) {}

  get maxMessageSize(): number {
    return this.shared.maxMessageSize;
  }

  send(bytes: Uint8Array): void {
    if (this.state !== 'open') throw closedError(`channel ${this.label} is ${this.state}`);
    if (bytes.length > this.maxMessageSize) throw err('TOO_LARGE', `message of ${bytes.length} bytes exceeds the channel limit of ${this.maxMessageSize}`);
    this.queue.push(bytes.slice());
    this.bufferedAmount += bytes.length;
    this.pump();
  }

  close(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    this.pump();
  }

  onMessage = (fn: (bytes: Uint8Array) => void): Unsubscribe => this.messages.on(fn);
  onBufferedAmountLow = (fn: () => void): Unsubscribe => this.low.on(fn);
  onClose = (fn: (reason: string) => void): Unsubscribe => this.closed.on(fn);

  open(): void {
    if (this.state === 'connecting') this.state = 'open';
  }

  /** Ends this side at once (link down, or the peer's close arrived). Queued bytes are lost. */
  end(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queue.length = 0;
    this.bufferedAmount = 0;
    this.closed.emit(reason);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    this.shared.schedule(() => this.tick());
  }

  private tick(): void {
    this.pumping = false;
    let budget = this.shared.bytesPerTick;
    while (this.queue.length > 0 && budget > 0) {
      const m = this.queue.shift()!;
      budget -= m.length;
      const before = this.bufferedAmount;
      this.bufferedAmount -= m.length;
      if (this.peer.state === 'open') this.peer.messages.emit(m);
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold) this.low.emit();
      if (this.state === 'closed') return;
    }
    if (this.queue.length > 0) this.pump();
    else if (this.state === 'closing') {
      this.end('closed');
      this.peer.end('closed by the peer');
    }
  }
}

class MemoryLink implements PeerLink {
  state: 'open' | 'closed' = 'open';
  peer!: MemoryLink;
  readonly channels = new Set<MemoryChannel>();
  private readonly incoming = new Emitter<Channel>();
  private readonly closed = new Emitter<string>();

  constructor(private readonly shared: Shared) {}

  get maxMessageSize(): number {
    return this.shared.maxMessageSize;
  }

  openChannel(label: string, opts: ChannelOptions): Promise<Channel> {
    if (!opts.reliable) return Promise.reject(new StxError('UNSUPPORTED', 'reliable channels only'));
    if (this.state === 'closed') return Promise.reject(closedError('link closed'));
    const local = new MemoryChannel(label, this.shared);
    const remote = new MemoryChannel(label, this.shared);
    local.peer = remote;
    remote.peer = local;
    this.track(local);
    this.peer.track(remote);
    return new Promise((resolve, reject) => {
      this.shared.schedule(() => {
        if (this.state === 'closed') return reject(closedError('link closed'));
        local.open();
        remote.open();
        this.peer.incoming.emit(remote);
        resolve(local);
      });
    });
  }

  onChannel = (fn: (channel: Channel) => void): Unsubscribe => this.incoming.on(fn);
  onClose = (fn: (reason: string) => void): Unsubscribe => this.closed.on(fn);

  close(reason = 'closed'): void {
    this.down(reason);
    this.peer.down('closed by the peer');
  }

  private track(ch: MemoryChannel): void {
    this.channels.add(ch);
    ch.onClose(() => this.channels.delete(ch));
  }

  private down(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const ch of [...this.channels]) ch.end(reason);
    this.closed.emit(reason);
  }
}

/** Two connected links: what one opens, the other receives through onChannel. */
export function memoryPair(opts: MemoryOptions = {}): [PeerLink, PeerLink] {
  const shared: Shared = {
    maxMessageSize: opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    bytesPerTick: Math.max(1, opts.bytesPerTick ?? 256 * 1024),
    schedule: opts.schedule ?? ((fn) => void setTimeout(fn, 0)),
  };
  const a = new MemoryLink(shared);
  const b = new MemoryLink(shared);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** Both ends of one channel, opened on a fresh memory pair. */
export async function memoryChannelPair(opts: MemoryOptions = {}): Promise<[Channel, Channel]> {
  const [a, b] = memoryPair(opts);
  const remote = new Promise<Channel>((resolve) => b.onChannel(resolve));
  const local = await a.openChannel('stx', { ordered: true, reliable: true });
  return [local, await remote];
}
