// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8 tables.
// Pure TypeScript so the same checksum runs in Node and in browsers.

const T = new Uint32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  T[i] = c >>> 0;
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 8; t++) T[t * 256 + i] = (T[(t - 1) * 256 + i] >>> 8) ^ T[T[(t - 1) * 256 + i] & 0xff];
}

/** A faster CRC32C a platform may supply (node-peer: hardware CRC32C); same contract as `crc32c(data, crc)`. */
export type Crc32cImpl = (data: Uint8Array, crc: number) => number;
let accelerated: Crc32cImpl | undefined;
/** Below this many bytes the call into an accelerator costs more than it saves. */
const ACCELERATE_FROM = 512;

/** Installs (or, with undefined, removes) a faster implementation. Results never change, only speed. */
export function setCrc32cImpl(impl: Crc32cImpl | undefined): void {
  accelerated = impl;
}

/** Continue a CRC32C over `data[start, end)`. Start a fresh one with `crc = 0`. */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  if (accelerated && end - start >= ACCELERATE_FROM) {
    return accelerated(start === 0 && end === data.length ? data : data.subarray(start, end), crc >>> 0) >>> 0;
  }
  return crc32cPortable(data, crc, start, end);
}

/** The portable implementation, always available. */
export function crc32cPortable(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  let c = ~crc >>> 0;
  let i = start;
  const aligned = end - ((end - i) & 7);
  while (i < aligned) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ c;
    const b = data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24);
    c =
      T[1792 + (a & 0xff)] ^ T[1536 + ((a >>> 8) & 0xff)] ^ T[1280 + ((a >>> 16) & 0xff)] ^ T[1024 + (a >>> 24)] ^
      T[768 + (b & 0xff)] ^ T[512 + ((b >>> 8) & 0xff)] ^ T[256 + ((b >>> 16) & 0xff)] ^ T[b >>> 24];
    i += 8;
  }
  while (i < end) c = T[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
