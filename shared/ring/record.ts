// On-device layout of a ring section (see docs/FORMAT.md):
//   [0, 4096)  superblock copy A   [4096, 8192) superblock copy B   [8192, size) the record region.
// Each record: a 24-byte prefix (magic, length, recSeq, the STU's header checksum, the prefix's own CRC32C),
// the STU bytes, zero padding to a multiple of 8.
import { crc32c } from '../stu/crc32c.ts';

export const SUPERBLOCK_SIZE = 4096;
export const REGION_START = 2 * SUPERBLOCK_SIZE;
export const PREFIX_SIZE = 24;
export const ALIGN = 8;

export const REC_MAGIC = 0x44434552; // "RECD"
export const WRAP_MAGIC = 0x50415257; // "WRAP"
const SB_MAGIC = 0x474e5253; // "SRNG"
const SB_VERSION = 1;
const SB_BYTES = 64;

export const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

export interface Prefix {
  magic: number;
  length: number;
  recSeq: number;
  /**
   * The STU's header checksum (its bytes 508..512), 0 in a wrap marker. It ties the prefix to the STU behind
   * it: a write torn right after a new prefix can leave the previous lap's intact STU there.
   */
  check: number;
}

/** The header checksum of the STU at `buf[at]`, as a record prefix repeats it. */
export const stuCheck = (buf: Uint8Array, at: number): number =>
  (buf[at + 508] | (buf[at + 509] << 8) | (buf[at + 510] << 16) | (buf[at + 511] << 24)) >>> 0;

export function writePrefix(out: Uint8Array, at: number, p: Prefix): void {
  const v = new DataView(out.buffer, out.byteOffset + at, PREFIX_SIZE);
  v.setUint32(0, p.magic, true);
  v.setUint32(4, p.length, true);
  v.setUint32(8, p.recSeq >>> 0, true);
  v.setUint32(12, Math.floor(p.recSeq / 0x1_0000_0000), true);
  v.setUint32(16, p.check, true);
  v.setUint32(20, crc32c(out, 0, at, at + 20), true);
}

/** A prefix whose own checksum holds, or undefined. */
export function readPrefix(buf: Uint8Array, at: number): Prefix | undefined {
  if (buf.length - at < PREFIX_SIZE) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset + at, PREFIX_SIZE);
  const magic = v.getUint32(0, true);
  if (magic !== REC_MAGIC && magic !== WRAP_MAGIC) return undefined;
  if (v.getUint32(20, true) !== crc32c(buf, 0, at, at + 20)) return undefined;
  return { magic, length: v.getUint32(4, true), recSeq: v.getUint32(8, true) + v.getUint32(12, true) * 0x1_0000_0000, check: v.getUint32(16, true) };
}

export interface Superblock {
  generation: number;
  capacity: number;
  tail: number;
  tailRecSeq: number;
  head: number;
  headRecSeq: number;
}

export function encodeSuperblock(sb: Superblock): Uint8Array {
  const out = new Uint8Array(SB_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, SB_MAGIC, true);
  v.setUint16(4, SB_VERSION, true);
  const nums = [sb.generation, sb.capacity, sb.tail, sb.tailRecSeq, sb.head, sb.headRecSeq];
  nums.forEach((n, i) => v.setFloat64(8 + i * 8, n, true));
  v.setUint32(56, crc32c(out, 0, 0, 56), true);
  return out;
}

export function decodeSuperblock(buf: Uint8Array): Superblock | undefined {
  if (buf.length < SB_BYTES) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, SB_BYTES);
  if (v.getUint32(0, true) !== SB_MAGIC || v.getUint16(4, true) !== SB_VERSION) return undefined;
  if (v.getUint32(56, true) !== crc32c(buf, 0, 0, 56)) return undefined;
  const n = (i: number) => v.getFloat64(8 + i * 8, true);
  const sb = { generation: n(0), capacity: n(1), tail: n(2), tailRecSeq: n(3), head: n(4), headRecSeq: n(5) };
  return Object.values(sb).every((x) => Number.isSafeInteger(x) && x >= 0) ? sb : undefined;
}
