// Hybrid logical clock: 48 bits of wall-clock milliseconds and a 16-bit counter in one 64-bit value.
// Monotonic per server, and advanced past every timestamp received, so a skewed clock cannot reorder a chain.

export type Hlc = bigint;

export const HLC_NONE: Hlc = 0n;
const COUNTER_BITS = 16n;
const COUNTER_MAX = 0xffffn;

export const hlcFrom = (ms: number, counter = 0): Hlc => (BigInt(ms) << COUNTER_BITS) | BigInt(counter);
export const hlcMs = (t: Hlc): number => Number(t >> COUNTER_BITS);
export const hlcCounter = (t: Hlc): number => Number(t & COUNTER_MAX);
export const hlcToString = (t: Hlc): string => `${new Date(hlcMs(t)).toISOString()}+${hlcCounter(t)}`;

export class HybridClock {
  private last: Hlc;
  constructor(
    private readonly wallMs: () => number = () => Date.now(),
    start: Hlc = HLC_NONE,
  ) {
    this.last = start;
  }

  /** A timestamp greater than every one this clock has issued or observed. */
  now(): Hlc {
    const wall = hlcFrom(Math.max(0, Math.floor(this.wallMs())));
    this.last = wall > this.last ? wall : this.bump(this.last);
    return this.last;
  }

  /** Advance past a timestamp seen on a received STU. */
  observe(t: Hlc): void {
    if (t > this.last) this.last = t;
  }

  get current(): Hlc {
    return this.last;
  }

  private bump(t: Hlc): Hlc {
    // The counter overflowing moves into the millisecond field: still monotonic.
    return t + 1n;
  }
}
