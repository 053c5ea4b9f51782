// H.265 over RTP, RFC 7798 (non-interleaved, no DONL): single NAL unit packets and fragmentation units (FU,
// type 49). VPS, SPS and PPS travel in the SDP (sprop-vps/sps/pps) and in-band before every IRAP picture.
import { toBase64 } from '../../util/base64.ts';
import { splitLengthPrefixed } from './nal.ts';
import type { PayloadFormat, RtpPayload } from './types.ts';
import { fragmentNal } from './fu.ts';

export const H265Nal = { IRAP_FIRST: 16, IRAP_LAST: 23, VPS: 32, SPS: 33, PPS: 34, FU: 49 } as const;

export interface HevcConfig {
  lengthSize: number;
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/** Parses an hvcC payload (ISO/IEC 14496-15 §8.3.3.1); undefined when it is not one. */
export function parseHvcC(b: Uint8Array): HevcConfig | undefined {
  if (b.length < 23 || b[0] !== 1) return undefined;
  const lengthSize = (b[21] & 3) + 1;
  if (lengthSize === 3) return undefined;
  const cfg: HevcConfig = { lengthSize, vps: [], sps: [], pps: [] };
  let pos = 23;
  for (let a = 0; a < b[22]; a++) {
    if (pos + 3 > b.length) return undefined;
    const type = b[pos] & 0x3f;
    const n = (b[pos + 1] << 8) | b[pos + 2];
    pos += 3;
    for (let k = 0; k < n; k++) {
      if (pos + 2 > b.length) return undefined;
      const len = (b[pos] << 8) | b[pos + 1];
      pos += 2;
      if (pos + len > b.length) return undefined;
      const nal = b.subarray(pos, pos + len);
      pos += len;
      if (type === H265Nal.VPS) cfg.vps.push(nal);
      else if (type === H265Nal.SPS) cfg.sps.push(nal);
      else if (type === H265Nal.PPS) cfg.pps.push(nal);
    }
  }
  return cfg;
}

export const h265NalType = (nal: Uint8Array): number => (nal[0] >> 1) & 0x3f;

/** FU fragments of one NAL unit (RFC 7798 §4.4.3), `maxPayload` bytes each at most. */
export function fragmentFu(nal: Uint8Array, maxPayload: number): Uint8Array[] {
  return fragmentNal(nal, 2, [(nal[0] & 0x81) | (H265Nal.FU << 1), nal[1]], h265NalType(nal), maxPayload);
}

export class H265Format implements PayloadFormat {
  readonly kind = 'video' as const;
  readonly encoding = 'H265';
  readonly clockRate = 90000;
  readonly fmtp: string | undefined;

  constructor(readonly config: HevcConfig) {
    const p: string[] = [];
    if (config.vps.length) p.push(`sprop-vps=${config.vps.map(toBase64).join(',')}`);
    if (config.sps.length) p.push(`sprop-sps=${config.sps.map(toBase64).join(',')}`);
    if (config.pps.length) p.push(`sprop-pps=${config.pps.map(toBase64).join(',')}`);
    this.fmtp = p.length ? p.join(';') : undefined;
  }

  packetize(frame: Uint8Array, key: boolean, maxPayload: number): RtpPayload[] {
    if (maxPayload < 4) throw new RangeError(`maxPayload ${maxPayload} is too small for FU`);
    const nals = splitLengthPrefixed(frame, this.config.lengthSize).filter((n) => n.length >= 2);
    const irap = nals.some((n) => h265NalType(n) >= H265Nal.IRAP_FIRST && h265NalType(n) <= H265Nal.IRAP_LAST);
    if (key || irap) {
      const has = (t: number) => nals.some((n) => h265NalType(n) === t);
      const { vps, sps, pps } = this.config;
      nals.unshift(...(has(H265Nal.VPS) ? [] : vps), ...(has(H265Nal.SPS) ? [] : sps), ...(has(H265Nal.PPS) ? [] : pps));
    }
    const out: RtpPayload[] = [];
    for (let i = 0; i < nals.length; i++) {
      const nal = nals[i];
      const last = i === nals.length - 1;
      if (nal.length <= maxPayload) {
        out.push({ payload: nal, marker: last });
        continue;
      }
      const parts = fragmentFu(nal, maxPayload);
      parts.forEach((payload, k) => out.push({ payload, marker: last && k === parts.length - 1 }));
    }
    return out;
  }
}
