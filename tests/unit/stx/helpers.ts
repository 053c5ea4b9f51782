// Helpers for the STX unit tests: a scripted channel (the test decides bufferedAmount and when it drains)
// and two signaling connections over a memory pair.
import { Emitter } from '../../../shared/util/emitter.ts';
import { err } from '../../../shared/stx/errors.ts';
import { type ConnectionOptions, SignalingConnection } from '../../../shared/stx/connection.ts';
import { memoryChannelPair, type MemoryOptions } from '../../../shared/stx/memory-transport.ts';
import type { Channel, ChannelState } from '../../../shared/stx/transport.ts';

export class ScriptedChannel implements Channel {
  readonly label = 'scripted';
  state: ChannelState = 'open';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  readonly sent: Uint8Array[] = [];
  readonly low = new Emitter<void>();
  readonly messages = new Emitter<Uint8Array>();
  readonly closed = new Emitter<string>();
  /** When true, sent bytes stay in bufferedAmount until drainAll(). */
  hold = false;

  constructor(readonly maxMessageSize = 64 * 1024) {}

  send(bytes: Uint8Array): void {
    if (this.state !== 'open') throw err('CLOSED', 'scripted channel closed');
    if (bytes.length > this.maxMessageSize) throw err('TOO_LARGE', 'over the limit');
    this.sent.push(bytes.slice());
    if (this.hold) this.bufferedAmount += bytes.length;
  }
  drainAll(): void {
    const was = this.bufferedAmount;
    this.bufferedAmount = 0;
    if (was > this.bufferedAmountLowThreshold) this.low.emit();
  }
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closed.emit('closed');
  }
  onMessage = (fn: (b: Uint8Array) => void) => this.messages.on(fn);
  onBufferedAmountLow = (fn: () => void) => this.low.on(fn);
  onClose = (fn: (r: string) => void) => this.closed.on(fn);
}

export async function connectionPair(
  a: ConnectionOptions = {},
  b: ConnectionOptions = {},
  transport: MemoryOptions = {},
): Promise<{ left: SignalingConnection; right: SignalingConnection; channels: [Channel, Channel] }> {
  const channels = await memoryChannelPair(transport);
  return { left: new SignalingConnection(channels[0], a), right: new SignalingConnection(channels[1], b), channels };
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 1));
  }
};
