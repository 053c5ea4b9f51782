// Outstanding requests of one connection: ids 1, 2, 3, … (unique and monotonic per connection), a cap on
// how many wait at once, a timeout each, cancellation by AbortSignal, and all rejected at close. A reply is
// matched by id: `ok` (it settled a waiting request), `stale` (an id issued here that no longer waits: a
// late or duplicated reply), or `unknown` (never issued here: the peer is wrong, count it as invalid).
import { err, type StxError } from './errors.ts';

export interface RequestTableOptions {
  /** Most requests waiting at once; open() throws TOO_MANY_REQUESTS past it. Default 1024. */
  maxOutstanding?: number;
  /** Default timeout of a request in milliseconds. Default 30 s. */
  timeoutMs?: number;
}

export interface OpenOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type Settled = 'ok' | 'stale' | 'unknown';

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: StxError) => void;
  timer: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

export class RequestTable<T> {
  readonly maxOutstanding: number;
  readonly timeoutMs: number;
  private nextId = 1;
  private readonly pending = new Map<number, Pending<T>>();
  private closed: StxError | undefined;

  constructor(opts: RequestTableOptions = {}) {
    this.maxOutstanding = opts.maxOutstanding ?? 1024;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** The last id issued (0 before the first). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Registers a request. Throws StxError CLOSED or TOO_MANY_REQUESTS (nothing is registered then). */
  open(opts: OpenOptions = {}): { id: number; reply: Promise<T> } {
    if (this.closed) throw this.closed;
    if (this.pending.size >= this.maxOutstanding) throw err('TOO_MANY_REQUESTS', `${this.pending.size} requests outstanding (cap ${this.maxOutstanding})`);
    if (opts.signal?.aborted) throw err('CANCELLED', 'request cancelled before it was sent');
    const id = this.nextId++;
    const ms = opts.timeoutMs ?? this.timeoutMs;
    const reply = new Promise<T>((resolve, reject) => {
      const onAbort = () => this.reject(id, err('CANCELLED', `request ${id} cancelled`));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => this.reject(id, err('TIMEOUT', `no reply to request ${id} within ${ms} ms`)), ms);
      this.pending.set(id, { resolve, reject, timer, cleanup: () => opts.signal?.removeEventListener('abort', onAbort) });
    });
    return { id, reply };
  }

  resolve(id: number, value: T): Settled {
    const p = this.take(id);
    if (!p) return this.classify(id);
    p.resolve(value);
    return 'ok';
  }

  reject(id: number, error: StxError): Settled {
    const p = this.take(id);
    if (!p) return this.classify(id);
    p.reject(error);
    return 'ok';
  }

  /** Rejects every outstanding request with `error`; later open() calls throw it. */
  closeAll(error: StxError): void {
    this.closed ??= error;
    for (const id of [...this.pending.keys()]) this.reject(id, error);
  }

  private take(id: number): Pending<T> | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.cleanup();
    return p;
  }

  private classify(id: number): Settled {
    return Number.isSafeInteger(id) && id >= 1 && id < this.nextId ? 'stale' : 'unknown';
  }
}
