// A server's identity as a writer of STUs: its GUID, its clock, and its per-origin sequence counter.
import { encodeStu, type StuInit } from './header.ts';
import type { Guid } from './guid.ts';
import { HybridClock, type Hlc } from './hlc.ts';

export type NewStu = Omit<StuInit, 'origin' | 'seq' | 'ts'>;

export class Origin {
  readonly clock: HybridClock;
  private seq: number;

  constructor(
    readonly guid: Guid,
    lastSeq = 0,
    clock: HybridClock = new HybridClock(),
  ) {
    this.seq = lastSeq;
    this.clock = clock;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Next sequence number and timestamp, for an STU this server creates. */
  next(): { seq: number; ts: Hlc } {
    return { seq: ++this.seq, ts: this.clock.now() };
  }

  /** Seen on boot or from a peer: keep sequence numbers and timestamps ahead of it. */
  observe(origin: Guid, seq: number, ts: Hlc): void {
    if (origin === this.guid && seq > this.seq) this.seq = seq;
    this.clock.observe(ts);
  }

  create(init: NewStu, body?: Uint8Array): Uint8Array {
    const { seq, ts } = this.next();
    return encodeStu({ ...init, origin: this.guid, seq, ts }, body);
  }
}
