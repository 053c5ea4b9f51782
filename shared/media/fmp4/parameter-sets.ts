// In-band parameter sets: SPS/PPS (H.264) or VPS/SPS/PPS (H.265) from the avcC/hvcC, as length-prefixed NAL
// units to write before a key frame's own NAL units. Players that keep the first init segment's
// configuration across a discontinuity (ffmpeg) then still decode clips whose parameters differ.
import type { CodecConfig } from '../demux/types.ts';

export interface ParameterSets {
  /** Length-prefixed NAL units, ready to put in front of a sample. */
  prefix: Uint8Array;
  /** Bytes of each NAL unit's length field (1, 2 or 4). */
  lengthSize: number;
}

/** The parameter sets of an avcC or hvcC configuration; undefined for other codecs or a malformed box. */
export function parameterSets(config: CodecConfig | undefined): ParameterSets | undefined {
  if (!config) return undefined;
  const nals = config.format === 'avcC' ? avcNals(config.data) : config.format === 'hvcC' ? hevcNals(config.data) : undefined;
  if (!nals || nals.nals.length === 0 || nals.lengthSize === 3) return undefined;
  const size = nals.nals.reduce((n, u) => n + nals.lengthSize + u.length, 0);
  const prefix = new Uint8Array(size);
  let p = 0;
  for (const u of nals.nals) {
    for (let i = nals.lengthSize - 1; i >= 0; i--) prefix[p++] = (u.length >>> (8 * i)) & 0xff;
    prefix.set(u, p);
    p += u.length;
  }
  return { prefix, lengthSize: nals.lengthSize };
}

function avcNals(b: Uint8Array): { lengthSize: number; nals: Uint8Array[] } | undefined {
  if (b.length < 7 || b[0] !== 1) return undefined;
  const nals: Uint8Array[] = [];
  let p = 5;
  const take = (count: number): boolean => {
    for (let i = 0; i < count; i++) {
      if (p + 2 > b.length) return false;
      const len = (b[p] << 8) | b[p + 1];
      if (p + 2 + len > b.length) return false;
      nals.push(b.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    }
    return true;
  };
  if (!take(b[p++] & 0x1f)) return undefined;
  if (p >= b.length || !take(b[p++])) return undefined;
  return { lengthSize: (b[4] & 3) + 1, nals };
}

function hevcNals(b: Uint8Array): { lengthSize: number; nals: Uint8Array[] } | undefined {
  if (b.length < 23 || b[0] !== 1) return undefined;
  const nals: Uint8Array[] = [];
  let p = 23;
  for (let a = 0, arrays = b[22]; a < arrays; a++) {
    if (p + 3 > b.length) return undefined;
    const count = (b[p + 1] << 8) | b[p + 2];
    p += 3;
    for (let i = 0; i < count; i++) {
      if (p + 2 > b.length) return undefined;
      const len = (b[p] << 8) | b[p + 1];
      if (p + 2 + len > b.length) return undefined;
      nals.push(b.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    }
  }
  return { lengthSize: (b[21] & 3) + 1, nals };
}

/** True when the sample's first NAL unit is already a parameter set (nothing to add). */
export function startsWithParameterSet(sample: Uint8Array, lengthSize: number, hevc: boolean): boolean {
  if (sample.length <= lengthSize) return false;
  const h = sample[lengthSize];
  return hevc ? ((h >> 1) & 0x3f) >= 32 && ((h >> 1) & 0x3f) <= 34 : (h & 0x1f) === 7;
}
