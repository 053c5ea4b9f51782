// One end of an interop test, the same in the page and in Node: wraps a WebrtcLink, watches every channel
// (opened here or announced by the peer) from its first message, sends seeded pseudo-random payloads and
// reports SHA-256 digests of what it sent and received, so the two ends compare bytes without shipping
// them through page.evaluate. Platform-free: crypto.subtle exists in both.
import type { Channel } from '../../../shared/stx/transport.ts';
import type { WebrtcLink } from '../../../shared/stx/link/link.ts';
import { prng } from '../../../shared/util/prng.ts';

const ORDERED = { ordered: true, reliable: true };

export interface ChannelReport {
  label: string;
  state: string;
  /** SHA-256 (hex) of each message received, in order. */
  digests: string[];
  sizes: number[];
  /** onClose reasons, in order (one expected). */
  closes: string[];
}

export interface LinkReport {
  backend: string;
  state: string;
  phase: string;
  closeReason: string | undefined;
  closes: string[];
  maxMessageSize: number;
  localFingerprint: string | undefined;
  remoteFingerprint: string | undefined;
  /** Labels announced by the peer, in order. */
  announced: string[];
}

interface Watched {
  channel: Channel;
  messages: Uint8Array[];
  closes: string[];
}

/** `size` bytes from `seed`: what both ends regenerate to know what was meant to arrive. */
export function payload(seed: number, size: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 4) {
    const v = (next() * 0x100000000) >>> 0;
    for (let k = 0; k < 4 && i + k < size; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
  }
  return out;
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

const fp = (f: { algorithm: string; value: string } | undefined) => (f ? `${f.algorithm} ${f.value}` : undefined);

export class LinkProbe {
  private readonly channels = new Map<string, Watched>();
  private readonly announced: string[] = [];
  private readonly closes: string[] = [];

  constructor(readonly link: WebrtcLink) {
    link.onChannel((ch) => {
      this.announced.push(ch.label);
      this.watch(ch);
    });
    link.onClose((r) => this.closes.push(r));
  }

  async open(label: string): Promise<void> {
    this.watch(await this.link.openChannel(label, ORDERED));
  }

  has(label: string): boolean {
    return this.channels.has(label);
  }

  /** Sends payload(seed + i, sizes[i]) for each size; returns the digests of what was sent. */
  async send(label: string, sizes: number[], seed: number): Promise<string[]> {
    const ch = this.get(label).channel;
    const digests: string[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const bytes = payload(seed + i, sizes[i]);
      ch.send(bytes);
      digests.push(await sha256(bytes));
    }
    return digests;
  }

  /** Sends, then closes the channel at once (the close handshake must deliver everything first). */
  async sendAndClose(label: string, sizes: number[], seed: number): Promise<string[]> {
    const ch = this.get(label).channel;
    const bytes = sizes.map((size, i) => payload(seed + i, size));
    for (const b of bytes) ch.send(b);
    ch.close();
    return Promise.all(bytes.map(sha256));
  }

  async report(label: string): Promise<ChannelReport> {
    const w = this.get(label);
    return {
      label,
      state: w.channel.state,
      digests: await Promise.all(w.messages.map(sha256)),
      sizes: w.messages.map((m) => m.length),
      closes: [...w.closes],
    };
  }

  /** Messages received on `label` so far (0 before it is known). */
  count(label: string): number {
    return this.channels.get(label)?.messages.length ?? 0;
  }

  closed(label: string): boolean {
    return (this.channels.get(label)?.closes.length ?? 0) > 0;
  }

  info(): LinkReport {
    const l = this.link;
    return {
      backend: l.backend,
      state: l.state,
      phase: l.phase,
      closeReason: l.closeReason,
      closes: [...this.closes],
      maxMessageSize: l.maxMessageSize,
      localFingerprint: fp(l.localFingerprint),
      remoteFingerprint: fp(l.remoteFingerprint),
      announced: [...this.announced],
    };
  }

  private watch(channel: Channel): void {
    const w: Watched = { channel, messages: [], closes: [] };
    this.channels.set(channel.label, w);
    channel.onMessage((m) => w.messages.push(m.slice()));
    channel.onClose((r) => w.closes.push(r));
  }

  private get(label: string): Watched {
    const w = this.channels.get(label);
    if (!w) throw new Error(`no channel ${label} at this end`);
    return w;
  }
}
