// RFC 6381 codec strings built from codec configurations (for containers that do not give one: Matroska).

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** avc1.PPCCLL from an avcC payload. */
export function avcCodecString(avcC: Uint8Array): string | undefined {
  if (avcC.length < 4 || avcC[0] !== 1) return undefined;
  return `avc1.${hex2(avcC[1])}${hex2(avcC[2])}${hex2(avcC[3])}`;
}

/** hev1.P.C.TL.CC... from an hvcC payload (ISO/IEC 14496-15 Annex E.3). */
export function hevcCodecString(hvcC: Uint8Array, sampleEntry = 'hev1'): string | undefined {
  if (hvcC.length < 13 || hvcC[0] !== 1) return undefined;
  const space = hvcC[1] >> 6;
  const tier = (hvcC[1] >> 5) & 1;
  const profile = hvcC[1] & 0x1f;
  let compat = ((hvcC[2] << 24) | (hvcC[3] << 16) | (hvcC[4] << 8) | hvcC[5]) >>> 0;
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    reversed = ((reversed << 1) | (compat & 1)) >>> 0;
    compat >>>= 1;
  }
  const constraints = Array.from(hvcC.subarray(6, 12));
  while (constraints.length && constraints[constraints.length - 1] === 0) constraints.pop();
  const level = hvcC[12];
  let s = `${sampleEntry}.${['', 'A', 'B', 'C'][space]}${profile}.${reversed.toString(16)}.${tier ? 'H' : 'L'}${level}`;
  for (const c of constraints) s += `.${c.toString(16)}`;
  return s;
}

/** av01.P.LLT.DD from an av1C payload. */
export function av1CodecString(av1C: Uint8Array): string | undefined {
  if (av1C.length < 4 || (av1C[0] & 0x80) === 0) return undefined;
  const profile = av1C[1] >> 5;
  const level = av1C[1] & 0x1f;
  const tier = av1C[2] >> 7;
  const high = (av1C[2] >> 6) & 1;
  const twelve = (av1C[2] >> 5) & 1;
  const depth = high ? (twelve ? 12 : 10) : 8;
  return `av01.${profile}.${String(level).padStart(2, '0')}${tier ? 'H' : 'M'}.${String(depth).padStart(2, '0')}`;
}

/** Smallest VP9 level whose maximum picture size holds w x h (VP9 levels, luma samples). */
export function vp9LevelFor(width: number, height: number): number {
  const levels: Array<[number, number]> = [
    [10, 36864],
    [11, 73728],
    [20, 122880],
    [21, 245760],
    [30, 552960],
    [31, 983040],
    [40, 2228224],
    [50, 8912896],
    [60, 35651584],
  ];
  const px = width * height;
  for (const [lvl, max] of levels) if (px <= max) return lvl;
  return 62;
}

export interface Vp9Info {
  profile: number;
  bitDepth: number;
  level?: number;
}

/** Profile, level and bit depth from a Matroska VP9 CodecPrivate (a list of id, length, value features). */
export function vp9FromCodecPrivate(cp: Uint8Array): Partial<Vp9Info> {
  const out: Partial<Vp9Info> = {};
  for (let i = 0; i + 2 <= cp.length; ) {
    const id = cp[i];
    const len = cp[i + 1];
    if (i + 2 + len > cp.length) break;
    const v = len >= 1 ? cp[i + 2] : 0;
    if (id === 1) out.profile = v;
    else if (id === 2) out.level = v;
    else if (id === 3) out.bitDepth = v;
    i += 2 + len;
  }
  return out;
}

/** Profile and bit depth from the uncompressed header of a VP9 key frame (VP9 bitstream spec §6.2). */
export function vp9FromKeyFrame(frame: Uint8Array): Vp9Info | undefined {
  if (frame.length < 4) return undefined;
  let bit = 0;
  const read = (n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) v = (v << 1) | ((frame[bit >> 3] >> (7 - (bit & 7))) & 1);
    return v;
  };
  if (read(2) !== 2) return undefined; // frame_marker
  const low = read(1);
  const high = read(1);
  const profile = (high << 1) | low;
  if (profile === 3) read(1);
  if (read(1)) return undefined; // show_existing_frame
  if (read(1) !== 0) return undefined; // frame_type: 0 = key frame
  read(2); // show_frame, error_resilient_mode
  if ((bit >> 3) + 4 > frame.length) return undefined;
  if (read(8) !== 0x49 || read(8) !== 0x83 || read(8) !== 0x42) return undefined;
  const bitDepth = profile >= 2 ? (read(1) ? 12 : 10) : 8;
  return { profile, bitDepth };
}

export const vp9CodecString = (i: Vp9Info, width = 0, height = 0): string =>
  `vp09.${String(i.profile).padStart(2, '0')}.${String(i.level ?? vp9LevelFor(width, height)).padStart(2, '0')}.${String(i.bitDepth).padStart(2, '0')}`;

/** mp4a.40.N from an AudioSpecificConfig (N = audio object type). */
export function aacCodecString(asc: Uint8Array | undefined, fallbackObjectType = 2): string {
  if (!asc || asc.length < 1) return `mp4a.40.${fallbackObjectType}`;
  let aot = asc[0] >> 3;
  if (aot === 31 && asc.length >= 2) aot = 32 + (((asc[0] & 7) << 3) | (asc[1] >> 5));
  return `mp4a.40.${aot}`;
}
