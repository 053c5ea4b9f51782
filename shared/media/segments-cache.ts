// A least-recently-used cache bounded by bytes, for built segments; and a single-flight map so that many
// clients asking for the same segment at once build it once.

export class ByteLru<K, V> {
  private readonly map = new Map<K, { value: V; bytes: number }>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (v: V) => number,
  ) {
    if (!(maxBytes >= 0)) throw new TypeError(`bad cache size ${maxBytes}`);
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** Stores `value` unless it alone is larger than the cache; evicts the least recently used to fit. */
  set(key: K, value: V): void {
    this.delete(key);
    const bytes = this.sizeOf(value);
    if (bytes > this.maxBytes) return;
    this.map.set(key, { value, bytes });
    this.used += bytes;
    for (const [k, e] of this.map) {
      if (this.used <= this.maxBytes) break;
      this.map.delete(k);
      this.used -= e.bytes;
    }
  }

  delete(key: K): boolean {
    const e = this.map.get(key);
    if (!e) return false;
    this.map.delete(key);
    this.used -= e.bytes;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}

/** Runs `make` once per key while a call for it is in flight; later callers share its promise. */
export class SingleFlight<K, V> {
  private readonly inflight = new Map<K, Promise<V>>();

  run(key: K, make: () => Promise<V>): Promise<V> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = make().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  get size(): number {
    return this.inflight.size;
  }
}
