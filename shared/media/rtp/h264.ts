// H.264 over RTP, RFC 6184 packetization-mode=1: single NAL unit packets and FU-A fragments. Stored samples
// are length-prefixed NAL units (avcC form); the parameter sets (SPS, PPS) travel in the SDP
// (sprop-parameter-sets) and in-band before every IDR picture, so a player that joins at a key frame, or a
// channel switching to a clip with other parameter sets, can decode.
import { toBase64 } from '../../util/base64.ts';
import { readU16Units, splitLengthPrefixed } from './nal.ts';
import type { PayloadFormat, RtpPayload } from './types.ts';
import { fragmentNal } from './fu.ts';

export const H264Nal = { IDR: 5, SPS: 7, PPS: 8, STAP_A: 24, FU_A: 28 } as const;

export interface AvcConfig {
  /** Bytes of each NAL length prefix in the samples: 1, 2 or 4. */
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** profile_idc, constraint flags, level_idc as six hex digits (the SDP profile-level-id). */
  profileLevelId: string;
}

/** Parses an avcC payload (ISO/IEC 14496-15 §5.3.3.1); undefined when it is not one. */
export function parseAvcC(b: Uint8Array): AvcConfig | undefined {
  if (b.length < 7 || b[0] !== 1) return undefined;
  const lengthSize = (b[4] & 3) + 1;
  if (lengthSize === 3) return undefined;
  const sps = readU16Units(b, 6, b[5] & 0x1f);
  if (!sps || sps.end >= b.length) return undefined;
  const pps = readU16Units(b, sps.end + 1, b[sps.end]);
  if (!pps) return undefined;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return { lengthSize, sps: sps.units, pps: pps.units, profileLevelId: `${hex(b[1])}${hex(b[2])}${hex(b[3])}` };
}

export const h264NalType = (nal: Uint8Array): number => nal[0] & 0x1f;

/** FU-A fragments of one NAL unit (RFC 6184 §5.8), `maxPayload` bytes each at most. */
export function fragmentFuA(nal: Uint8Array, maxPayload: number): Uint8Array[] {
  return fragmentNal(nal, 1, [(nal[0] & 0xe0) | H264Nal.FU_A], nal[0] & 0x1f, maxPayload);
}

export class H264Format implements PayloadFormat {
  readonly kind = 'video' as const;
  readonly encoding = 'H264';
  readonly clockRate = 90000;
  readonly fmtp: string;

  constructor(readonly config: AvcConfig) {
    const sets = [...config.sps, ...config.pps].map(toBase64).join(',');
    this.fmtp = `packetization-mode=1;profile-level-id=${config.profileLevelId}${sets ? `;sprop-parameter-sets=${sets}` : ''}`;
  }

  packetize(frame: Uint8Array, key: boolean, maxPayload: number): RtpPayload[] {
    if (maxPayload < 3) throw new RangeError(`maxPayload ${maxPayload} is too small for FU-A`);
    const nals = splitLengthPrefixed(frame, this.config.lengthSize);
    if (key || nals.some((n) => h264NalType(n) === H264Nal.IDR)) {
      const has = (t: number) => nals.some((n) => h264NalType(n) === t);
      const sets = [...(has(H264Nal.SPS) ? [] : this.config.sps), ...(has(H264Nal.PPS) ? [] : this.config.pps)];
      nals.unshift(...sets);
    }
    const out: RtpPayload[] = [];
    for (let i = 0; i < nals.length; i++) {
      const nal = nals[i];
      const last = i === nals.length - 1;
      if (nal.length <= maxPayload) {
        out.push({ payload: nal, marker: last });
        continue;
      }
      const parts = fragmentFuA(nal, maxPayload);
      parts.forEach((payload, k) => out.push({ payload, marker: last && k === parts.length - 1 }));
    }
    return out;
  }
}
