// ISO BMFF box headers: read from bytes in memory or from a ChunkReader. Every size is checked against
// what is there before anything is allocated.
import type { ChunkReader } from '../byte-source.ts';
import { corrupt, truncated } from '../errors.ts';

export interface BoxHeader {
  type: string;
  /** Offset of the box's first byte. */
  start: number;
  /** Header length (8, or 16 with a 64-bit size). */
  hdr: number;
  /** Whole box size, header included. */
  size: number;
}

const isFourCC = (b: Uint8Array, at: number): boolean => {
  for (let i = at; i < at + 4; i++) if (b[i] < 0x20 || b[i] > 0x7e) return b[i] === 0xa9 && i === at; // '©xyz' QuickTime
  return true;
};

export const fourcc = (b: Uint8Array, at: number): string => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

/**
 * Parses a box header at `b[at]`, for a box that may extend to `limit` (end of its parent or of the file).
 * Returns undefined when fewer than 8 bytes are left. Throws CORRUPT/TRUNCATED on impossible sizes.
 */
export function boxHeaderAt(b: Uint8Array, at: number, base: number, limit: number, limitIsEof = false): BoxHeader | undefined {
  if (b.length - at < 8) return undefined;
  const v = new DataView(b.buffer, b.byteOffset + at, b.length - at);
  const size32 = v.getUint32(0);
  const start = base + at;
  if (!isFourCC(b, at + 4)) throw corrupt(`invalid box type at offset ${start}`);
  const type = fourcc(b, at + 4);
  let size: number;
  let hdr = 8;
  if (size32 === 1) {
    if (b.length - at < 16) throw truncated(`box '${type}' at ${start}: 64-bit size cut`);
    const big = v.getBigUint64(8);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`box '${type}' at ${start} claims ${big} bytes`);
    size = Number(big);
    hdr = 16;
  } else if (size32 === 0) {
    size = limit - start;
  } else {
    size = size32;
  }
  if (size < hdr) throw corrupt(`box '${type}' at ${start} has size ${size}`);
  if (start + size > limit) {
    const msg = `box '${type}' at ${start} claims ${size} bytes, only ${limit - start} are there`;
    throw limitIsEof ? truncated(msg) : corrupt(`${msg} in its parent`);
  }
  return { type, start, hdr, size };
}

/** Child boxes of a box whose payload is `b[from, to)`; `base` is the file offset of `b[0]`. */
export function* childBoxes(b: Uint8Array, from: number, to: number, base = 0): Generator<BoxHeader> {
  let at = from;
  while (to - at >= 8) {
    const h = boxHeaderAt(b.subarray(0, to), at, base, base + to);
    if (!h) return;
    yield h;
    at += h.size;
  }
}

/** Reads the top-level box header at `pos` of the file. Undefined at the end of the file. */
export async function readTopBox(reader: ChunkReader, pos: number): Promise<BoxHeader | undefined> {
  const left = reader.size - pos;
  if (left <= 0) return undefined;
  if (left < 8) throw truncated(`${left} stray bytes at the end (offset ${pos})`);
  const head = await reader.bytes(pos, Math.min(16, left), 'box header');
  const h = boxHeaderAt(head, 0, pos, reader.size, true);
  if (!h) throw truncated(`box header at ${pos}`);
  return h;
}
