// The Node backends and the options only they understand (shared/stx/link/link.ts has the common ones).
import type { LinkOptions } from '../../shared/stx/link/link.ts';

export type Backend = 'werift' | 'datachannel';
export const BACKENDS: readonly Backend[] = ['werift', 'datachannel'];

export interface NodeLinkOptions extends LinkOptions {
  /** werift: also gather a host candidate on 127.0.0.1 (werift skips lo). Default true. */
  loopback?: boolean;
  /** node-datachannel: gather candidates on this address only (for example 127.0.0.1). */
  bindAddress?: string;
  /** werift: messages and bytes handed to werift at once per channel; the rest waits in the link (werift's
   *  queue is quadratic in queued messages). Defaults 16 and 1 MiB. */
  weriftInFlight?: { messages?: number; bytes?: number };
}
