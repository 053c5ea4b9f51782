// A server's identity as a writer of STUs: its GUID, its clock, and one sequence counter per STU type.
// An STU's id is (origin, type, seq): each origin numbers each type's STUs 1, 2, 3, … so a peer can say
// "I hold every metadata STU of type T from origin O up to N" (the sync vector, shared/sync/vector.ts).
import { encodeStu, type StuInit } from './header.ts';
import type { Guid } from './guid.ts';
import { HybridClock, type Hlc } from './hlc.ts';

export type NewStu = Omit<StuInit, 'origin' | 'seq' | 'ts'>;

export class Origin {
  readonly clock: HybridClock;
  private readonly seqs = new Map<number, number>();

  constructor(
    readonly guid: Guid,
    clock: HybridClock = new HybridClock(),
  ) {
    this.clock = clock;
  }

  /** The last sequence number issued (or observed at boot) for STUs of this type; 0 if none. */
  lastSeq(type: number): number {
    return this.seqs.get(type) ?? 0;
  }

  /** Next sequence number of this type and a timestamp, for an STU this server creates. */
  next(type: number): { seq: number; ts: Hlc } {
    const seq = this.lastSeq(type) + 1;
    this.seqs.set(type, seq);
    return { seq, ts: this.clock.now() };
  }

  /** Seen on boot or from a peer: keep sequence numbers and timestamps ahead of it. */
  observe(origin: Guid, type: number, seq: number, ts: Hlc): void {
    if (origin === this.guid && seq > this.lastSeq(type)) this.seqs.set(type, seq);
    this.clock.observe(ts);
  }

  create(init: NewStu, body?: Uint8Array): Uint8Array {
    const { seq, ts } = this.next(init.type);
    return encodeStu({ ...init, origin: this.guid, seq, ts }, body);
  }
}
