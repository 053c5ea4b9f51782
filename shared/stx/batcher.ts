// Queues encoded messages for one channel and sends them as batches (batch.ts): a partial batch goes out
// on the next tick (or at uncork), a full one at once. cork()/uncork() nest. Bounded: past the high-water
// mark (bytes held here plus the channel's bufferedAmount) push() returns false and drain() waits; sealed
// batches wait here while the channel is above the mark; bytes held here never exceed maxQueuedBytes
// (push() throws QUEUE_FULL). The batcher owns the channel's bufferedAmountLowThreshold.
import { BATCH_HEADER, DEFAULT_BATCH_LIMITS, encodeBatch, LENGTH_PREFIX } from './batch.ts';
import { closedError, err, StxError } from './errors.ts';
import type { Channel, Unsubscribe } from './transport.ts';

export interface BatcherOptions {
  /** Largest batch in bytes; never more than the channel's maxMessageSize (the default). */
  maxBatchBytes?: number;
  /** Most messages in one batch (the receiver's limit). Default 4096. */
  maxCount?: number;
  /** Backpressure threshold in bytes (held here + channel.bufferedAmount). Default 1 MiB. */
  highWaterBytes?: number;
  /** Hard cap on bytes held here. Default 4 × highWaterBytes. */
  maxQueuedBytes?: number;
  /** Runs the flush of a partial batch later; default queueMicrotask (works in browsers and Node). */
  schedule?: (flush: () => void) => void;
  /** Called when the channel refuses a batch (it closed): the batcher is closed with that error. */
  onError?: (error: StxError) => void;
}

export interface BatcherStats {
  messages: number;
  batches: number;
  bytes: number;
}

export class Batcher {
  readonly maxBatchBytes: number;
  readonly highWaterBytes: number;
  readonly maxQueuedBytes: number;
  readonly stats: BatcherStats = { messages: 0, batches: 0, bytes: 0 };
  private readonly maxCount: number;
  private readonly schedule: (flush: () => void) => void;
  private open: Uint8Array[] = [];
  private openBytes = BATCH_HEADER;
  private readonly ready: Uint8Array[] = [];
  private readyBytes = 0;
  private corks = 0;
  private scheduled = false;
  private closed: StxError | undefined;
  private waiters: { resolve: () => void; reject: (e: StxError) => void }[] = [];
  private readonly off: Unsubscribe;

  constructor(
    private readonly channel: Channel,
    private readonly opts: BatcherOptions = {},
  ) {
    this.maxBatchBytes = Math.min(opts.maxBatchBytes ?? channel.maxMessageSize, channel.maxMessageSize);
    if (this.maxBatchBytes < BATCH_HEADER + LENGTH_PREFIX + 1) throw new RangeError(`batch cap of ${this.maxBatchBytes} bytes is too small`);
    this.maxCount = opts.maxCount ?? DEFAULT_BATCH_LIMITS.maxCount;
    this.highWaterBytes = opts.highWaterBytes ?? 1024 * 1024;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 4 * this.highWaterBytes;
    this.schedule = opts.schedule ?? ((fn) => queueMicrotask(fn)); // unbound queueMicrotask throws in browsers
    channel.bufferedAmountLowThreshold = Math.floor(this.highWaterBytes / 2);
    this.off = channel.onBufferedAmountLow(() => this.pump());
  }

  /** Bytes held here: the open batch and sealed batches not yet given to the channel. */
  get queuedBytes(): number {
    return (this.open.length > 0 ? this.openBytes : 0) + this.readyBytes;
  }

  /** False past the high-water mark: wait for drain() before pushing more. */
  get writable(): boolean {
    return this.queuedBytes + this.channel.bufferedAmount < this.highWaterBytes;
  }

  /** Largest message that fits a batch alone. */
  get maxMessageBytes(): number {
    return this.maxBatchBytes - BATCH_HEADER - LENGTH_PREFIX;
  }

  /**
   * Queues one encoded message; returns `writable`. Throws StxError TOO_LARGE for a message that cannot fit
   * a batch alone (large STUs go over data channels), QUEUE_FULL past maxQueuedBytes, CLOSED after close.
   */
  push(message: Uint8Array): boolean {
    if (this.closed) throw this.closed;
    if (message.length === 0) throw err('BAD_LENGTH', 'an empty message cannot be batched');
    if (message.length > this.maxMessageBytes) {
      throw err('TOO_LARGE', `message of ${message.length} bytes exceeds the batch limit of ${this.maxMessageBytes}; send large STUs over a data channel`);
    }
    const need = LENGTH_PREFIX + message.length;
    if (this.queuedBytes + need + BATCH_HEADER > this.maxQueuedBytes) throw err('QUEUE_FULL', `${this.queuedBytes} bytes already queued (cap ${this.maxQueuedBytes})`);
    if (this.open.length > 0 && (this.openBytes + need > this.maxBatchBytes || this.open.length === this.maxCount)) this.seal();
    this.open.push(message);
    this.openBytes += need;
    this.stats.messages++;
    if (this.ready.length > 0) this.pump();
    if (this.corks === 0 && !this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.tick());
    }
    return this.writable;
  }

  /** Holds partial batches until the matching uncork(); full batches still go out. Nests. */
  cork(): void {
    this.corks++;
  }

  uncork(): void {
    if (this.corks === 0) throw new RangeError('uncork() without cork()');
    if (--this.corks === 0) this.flush();
  }

  /** Seals the open batch and hands what the channel can take to it, now. */
  flush(): void {
    if (this.closed) return;
    this.seal();
    this.pump();
  }

  /** Resolves once `writable`; rejects if the batcher closes first. */
  drain(): Promise<void> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.writable) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Drops what is queued and rejects drain() waiters. Does not close the channel. */
  close(error: StxError = closedError('batcher closed')): void {
    if (this.closed) return;
    this.closed = error;
    this.off();
    this.open = [];
    this.ready.length = 0;
    this.readyBytes = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }

  private tick(): void {
    this.scheduled = false;
    if (this.corks === 0) this.flush();
  }

  private seal(): void {
    if (this.open.length === 0) return;
    const payload = encodeBatch(this.open);
    this.open = [];
    this.openBytes = BATCH_HEADER;
    this.ready.push(payload);
    this.readyBytes += payload.length;
  }

  private pump(): void {
    if (this.closed) return;
    while (this.ready.length > 0 && this.channel.bufferedAmount < this.highWaterBytes) {
      const payload = this.ready.shift()!;
      this.readyBytes -= payload.length;
      try {
        this.channel.send(payload);
      } catch (e) {
        const error = e instanceof StxError ? e : closedError(e instanceof Error ? e.message : String(e));
        this.close(error);
        this.opts.onError?.(error);
        return;
      }
      this.stats.batches++;
      this.stats.bytes += payload.length;
    }
    if (this.writable && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.resolve();
    }
  }
}
