// NAL units of length-prefixed (avcC/hvcC form) samples, as MP4 and Matroska store H.264 and H.265.

/**
 * Splits a sample of `lengthSize`-byte big-endian lengths, each followed by a NAL unit, into views of the NAL
 * units. A length running past the end stops the walk (the whole units before it are returned); empty units
 * are skipped.
 */
export function splitLengthPrefixed(sample: Uint8Array, lengthSize: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i + lengthSize <= sample.length) {
    let len = 0;
    for (let k = 0; k < lengthSize; k++) len = len * 256 + sample[i + k];
    i += lengthSize;
    if (len > sample.length - i) break;
    if (len > 0) out.push(sample.subarray(i, i + len));
    i += len;
  }
  return out;
}

/** Reads `count` 16-bit-length-prefixed units at `pos`; undefined when they run past the end. */
export function readU16Units(b: Uint8Array, pos: number, count: number): { units: Uint8Array[]; end: number } | undefined {
  const units: Uint8Array[] = [];
  for (let n = 0; n < count; n++) {
    if (pos + 2 > b.length) return undefined;
    const len = (b[pos] << 8) | b[pos + 1];
    pos += 2;
    if (pos + len > b.length) return undefined;
    units.push(b.subarray(pos, pos + len));
    pos += len;
  }
  return { units, end: pos };
}
