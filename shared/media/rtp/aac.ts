// AAC over RTP, RFC 3640 mpeg4-generic in AAC-hbr mode: each packet has a 16-bit AU-headers-length, one
// AU-header (13-bit AU-size, 3-bit AU-Index 0) and the access unit (a raw AAC frame, as stored). One access
// unit per packet; a larger one is fragmented over packets that all carry its full size (§3.2.3), the marker
// bit set on the packet that completes it.
import type { PayloadFormat, RtpPayload } from './types.ts';

const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** Largest AU-size a 13-bit field holds. */
export const MAX_AAC_AU = 8191;

export interface AudioSpecificConfig {
  objectType: number;
  sampleRate: number;
  channels: number;
}

/** The first fields of an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1); undefined when too short. */
export function parseAudioSpecificConfig(b: Uint8Array): AudioSpecificConfig | undefined {
  let bit = 0;
  const read = (n: number): number | undefined => {
    if (bit + n > b.length * 8) return undefined;
    let v = 0;
    for (let i = 0; i < n; i++, bit++) v = v * 2 + ((b[bit >> 3] >> (7 - (bit & 7))) & 1);
    return v;
  };
  let objectType = read(5);
  if (objectType === 31) objectType = 32 + (read(6) ?? NaN);
  const index = read(4);
  const sampleRate = index === 15 ? read(24) : index !== undefined ? RATES[index] : undefined;
  const channels = read(4);
  if (objectType === undefined || Number.isNaN(objectType) || !sampleRate || channels === undefined) return undefined;
  return { objectType, sampleRate, channels };
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export class AacFormat implements PayloadFormat {
  readonly kind = 'audio' as const;
  readonly encoding = 'MPEG4-GENERIC';
  readonly fmtp: string;

  /** `clockRate`: the track's sample rate; `channels`: for the rtpmap. */
  constructor(
    readonly config: Uint8Array,
    readonly clockRate: number,
    readonly channels: number,
  ) {
    this.fmtp = `streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${hex(config)}`;
  }

  packetize(frame: Uint8Array, _key: boolean, maxPayload: number): RtpPayload[] {
    if (maxPayload < 5) throw new RangeError(`maxPayload ${maxPayload} is too small for an AU-header`);
    const size = frame.length;
    if (size === 0 || size > MAX_AAC_AU) return [];
    const out: RtpPayload[] = [];
    const chunk = maxPayload - 4;
    for (let off = 0; off < size; off += chunk) {
      const end = Math.min(size, off + chunk);
      const p = new Uint8Array(4 + end - off);
      p[0] = 0;
      p[1] = 16; // AU-headers-length: one 16-bit AU-header, in bits
      p[2] = size >> 5;
      p[3] = (size & 0x1f) << 3; // AU-Index 0
      p.set(frame.subarray(off, end), 4);
      out.push({ payload: p, marker: end === size });
    }
    return out;
  }
}
