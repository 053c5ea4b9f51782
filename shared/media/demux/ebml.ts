// EBML (the binary XML under Matroska and WebM): variable-length integers and element headers.
// RFC 8794. Every read checks the bytes remaining.
import { corrupt } from '../errors.ts';

export const UNKNOWN_SIZE = -1;

export interface ElementHeader {
  id: number;
  /** Payload size, or UNKNOWN_SIZE (all value bits set: "until the parent ends"). */
  size: number;
  /** Bytes of id and size. */
  hdr: number;
}

/** Length in bytes of the vint starting with byte `b` (1..8), or 0 for an invalid first byte. */
const vintLength = (b: number): number => (b === 0 ? 0 : Math.clz32(b) - 23);

/** An element id (marker bits kept, as ids are written in specs). Undefined if `b` has too few bytes. */
export function readId(b: Uint8Array, at: number): { id: number; len: number } | undefined {
  if (at >= b.length) return undefined;
  const len = vintLength(b[at]);
  if (len === 0 || len > 4) throw corrupt(`invalid EBML id at ${at}`);
  if (at + len > b.length) return undefined;
  let id = 0;
  for (let i = 0; i < len; i++) id = id * 256 + b[at + i];
  return { id, len };
}

/** A size vint (marker removed). Undefined if `b` has too few bytes. */
export function readSize(b: Uint8Array, at: number): { value: number; len: number } | undefined {
  if (at >= b.length) return undefined;
  const len = vintLength(b[at]);
  if (len === 0) throw corrupt(`invalid EBML size at ${at}`);
  if (at + len > b.length) return undefined;
  let value = b[at] & (0xff >> len);
  let allOnes = value === 0xff >> len;
  for (let i = 1; i < len; i++) {
    value = value * 256 + b[at + i];
    if (b[at + i] !== 0xff) allOnes = false;
  }
  if (allOnes) return { value: UNKNOWN_SIZE, len };
  if (value > Number.MAX_SAFE_INTEGER) throw corrupt(`EBML size too large at ${at}`);
  return { value, len };
}

/** An element header at `b[at]`; undefined when `b` ends inside it. */
export function readElementHeader(b: Uint8Array, at: number): ElementHeader | undefined {
  const id = readId(b, at);
  if (!id) return undefined;
  const size = readSize(b, at + id.len);
  if (!size) return undefined;
  return { id: id.id, size: size.value, hdr: id.len + size.len };
}

export function readUint(b: Uint8Array, at: number, len: number): number {
  if (len > 8) throw corrupt('EBML unsigned integer longer than 8 bytes');
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[at + i];
  return v;
}

export function readFloat(b: Uint8Array, at: number, len: number): number {
  const v = new DataView(b.buffer, b.byteOffset + at, len);
  if (len === 4) return v.getFloat32(0);
  if (len === 8) return v.getFloat64(0);
  if (len === 0) return 0;
  throw corrupt('EBML float of odd length');
}

export function readString(b: Uint8Array, at: number, len: number): string {
  let end = at + len;
  while (end > at && b[end - 1] === 0) end--;
  return new TextDecoder().decode(b.subarray(at, end));
}

/** Children of a master element whose payload is `b[from, to)`, with known sizes only. */
export function* children(b: Uint8Array, from: number, to: number): Generator<{ id: number; start: number; end: number }> {
  let at = from;
  while (at < to) {
    const h = readElementHeader(b.subarray(0, to), at);
    if (!h) throw corrupt(`EBML element cut at ${at}`);
    if (h.size === UNKNOWN_SIZE) throw corrupt(`EBML element 0x${h.id.toString(16)} of unknown size inside a sized parent`);
    const start = at + h.hdr;
    const end = start + h.size;
    if (end > to) throw corrupt(`EBML element 0x${h.id.toString(16)} overruns its parent`);
    yield { id: h.id, start, end };
    at = end;
  }
}
