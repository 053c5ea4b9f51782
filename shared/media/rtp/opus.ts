// Opus over RTP, RFC 7587: one Opus packet per RTP packet, 48 kHz clock whatever the input rate, "opus/48000/2"
// in the rtpmap for mono and stereo alike (sprop-stereo says which). An Opus packet is never fragmented;
// RFC 7587 has no way to, and Opus packets are well under the MTU (at most 1275 bytes a frame).
import type { PayloadFormat, RtpPayload } from './types.ts';

export interface OpusHeadInfo {
  channels: number;
  mappingFamily: number;
}

/** Channel count and mapping family of an OpusHead (RFC 7845 §5.1); undefined when it is not one. */
export function parseOpusHead(b: Uint8Array): OpusHeadInfo | undefined {
  if (b.length < 19 || String.fromCharCode(...b.subarray(0, 8)) !== 'OpusHead') return undefined;
  return { channels: b[9], mappingFamily: b[18] };
}

export class OpusFormat implements PayloadFormat {
  readonly kind = 'audio' as const;
  readonly encoding = 'opus';
  readonly clockRate = 48000;
  readonly channels = 2;
  readonly fmtp: string | undefined;

  constructor(stereo: boolean) {
    this.fmtp = stereo ? 'sprop-stereo=1' : undefined;
  }

  packetize(frame: Uint8Array): RtpPayload[] {
    return frame.length ? [{ payload: frame, marker: false }] : [];
  }
}
