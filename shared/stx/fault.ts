// A fault shim around a Channel for sync tests: what is sent through it can be dropped, duplicated,
// reordered (held back behind the next message), delayed, or lost wholesale while partitioned. Every
// choice comes from a seeded PRNG, so a failing schedule replays from its seed.
import { prng } from '../util/prng.ts';
import { err } from './errors.ts';
import type { Channel, ChannelState, Unsubscribe } from './transport.ts';

export { prng };

export interface FaultOptions {
  seed: number;
  /** Probability that a message is lost. */
  drop?: number;
  /** Probability that a message is delivered twice. */
  duplicate?: number;
  /** Probability that a message is held back and sent after the next one (or after holdMs). */
  reorder?: number;
  /** Probability that a message is delayed, by delayMs[0]..delayMs[1] milliseconds. */
  delay?: number;
  delayMs?: [number, number];
  /** How long a reordered message waits for a successor before it goes anyway. Default 5 ms. */
  holdMs?: number;
  /** Timer used for delays; default setTimeout. */
  setTimer?: (fn: () => void, ms: number) => void;
}

export interface FaultStats {
  sent: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  delayed: number;
}

export interface FaultyChannel extends Channel {
  /** While partitioned, every message sent is lost. */
  partition(on: boolean): void;
  readonly partitioned: boolean;
  readonly stats: FaultStats;
}

export function withFaults(inner: Channel, opts: FaultOptions): FaultyChannel {
  const rand = prng(opts.seed);
  const setTimer = opts.setTimer ?? ((fn, ms) => void setTimeout(fn, ms));
  const [dmin, dmax] = opts.delayMs ?? [1, 20];
  const stats: FaultStats = { sent: 0, dropped: 0, duplicated: 0, reordered: 0, delayed: 0 };
  let partitioned = false;
  let held: Uint8Array | undefined;
  let inFlight = 0; // bytes held or delayed here

  const forward = (bytes: Uint8Array) => {
    if (partitioned || inner.state !== 'open') {
      stats.dropped++;
      return;
    }
    inner.send(bytes);
  };
  const later = (bytes: Uint8Array, ms: number) => {
    inFlight += bytes.length;
    setTimer(() => {
      inFlight -= bytes.length;
      forward(bytes);
    }, ms);
  };
  const releaseHeld = () => {
    if (!held) return;
    const h = held;
    held = undefined;
    inFlight -= h.length;
    forward(h);
  };

  const ch: FaultyChannel = {
    get label() {
      return inner.label;
    },
    get state(): ChannelState {
      return inner.state;
    },
    get maxMessageSize() {
      return inner.maxMessageSize;
    },
    get bufferedAmount() {
      return inner.bufferedAmount + inFlight;
    },
    get bufferedAmountLowThreshold() {
      return inner.bufferedAmountLowThreshold;
    },
    set bufferedAmountLowThreshold(v: number) {
      inner.bufferedAmountLowThreshold = v;
    },
    get partitioned() {
      return partitioned;
    },
    stats,
    partition(on: boolean) {
      partitioned = on;
    },
    send(bytes: Uint8Array) {
      if (inner.state !== 'open') throw err('CLOSED', `channel ${inner.label} is ${inner.state}`);
      if (bytes.length > inner.maxMessageSize) throw err('TOO_LARGE', `message of ${bytes.length} bytes exceeds ${inner.maxMessageSize}`);
      stats.sent++;
      const copy = bytes.slice();
      // Draw every number for every message, so one option's choice never shifts another's sequence.
      const [rDrop, rDup, rReorder, rDelay, rMs] = [rand(), rand(), rand(), rand(), rand()];
      if (partitioned || rDrop < (opts.drop ?? 0)) {
        stats.dropped++;
        return;
      }
      const copies = rDup < (opts.duplicate ?? 0) ? 2 : 1;
      if (copies === 2) stats.duplicated++;
      for (let i = 0; i < copies; i++) {
        if (rDelay < (opts.delay ?? 0)) {
          stats.delayed++;
          later(copy, dmin + Math.floor(rMs * (dmax - dmin + 1)));
        } else if (!held && rReorder < (opts.reorder ?? 0)) {
          stats.reordered++;
          held = copy;
          inFlight += copy.length;
          setTimer(releaseHeld, opts.holdMs ?? 5);
        } else {
          forward(copy);
          releaseHeld();
        }
      }
    },
    close() {
      inner.close();
    },
    onMessage: (fn: (bytes: Uint8Array) => void): Unsubscribe => inner.onMessage(fn),
    onBufferedAmountLow: (fn: () => void): Unsubscribe => inner.onBufferedAmountLow(fn),
    onClose: (fn: (reason: string) => void): Unsubscribe => inner.onClose(fn),
  };
  return ch;
}
