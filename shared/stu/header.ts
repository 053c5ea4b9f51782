// The STU codec: a fixed 512-byte header and a body. Layout in docs/FORMAT.md (all integers little-endian).
import { crc32c } from './crc32c.ts';
import { fail, ok, type Result, StuError } from './errors.ts';
import { type Guid, guidFromBytes, NIL_GUID, writeGuid } from './guid.ts';
import type { Hlc } from './hlc.ts';

export const HEADER_SIZE = 512;
export const FORMAT_VERSION = 1;
export const MAGIC = 0x31555453; // "STU1" read as a little-endian u32
export const EXT_SIZE = 128;
/** Default refusal size of a body; a deployment may lower or raise it up to BODY_SIZE_CAP. */
export const DEFAULT_MAX_BODY = 64 * 1024 * 1024;
export const BODY_SIZE_CAP = 0xffff_ffff;

export const Off = {
  magic: 0,
  version: 4,
  headerLength: 6,
  flags: 8,
  type: 12,
  object: 16,
  ts: 32,
  prevTs: 40,
  origin: 48,
  seq: 64,
  user: 72,
  bodySize: 88,
  bodyCrc: 96,
  reserved: 100,
  ext: 104,
  reserved2: 232,
  headerCrc: 508,
} as const;

export const Flag = {
  /** A data STU (bulk, e.g. a media frame); otherwise a metadata STU, which every server replicates. */
  DATA: 1,
  /** Replaces every STU of its (object, type) chain before it. */
  SUMMARY: 2,
  /** Reverses (deletes) the business object from this point of its chain. */
  TOMBSTONE: 4,
} as const;
const KNOWN_FLAGS = Flag.DATA | Flag.SUMMARY | Flag.TOMBSTONE;

export interface StuHeader {
  flags: number;
  type: number;
  object: Guid;
  ts: Hlc;
  prevTs: Hlc;
  origin: Guid;
  seq: number;
  user: Guid;
  bodySize: number;
  bodyCrc: number;
  /** The 128-byte type-specific area (a frame's stream, times and key-frame flag; see shared/media/frame.ts). */
  ext: Uint8Array;
}

export interface Stu {
  header: StuHeader;
  body: Uint8Array;
}

export type StuInit = Omit<StuHeader, 'bodySize' | 'bodyCrc' | 'ext' | 'user' | 'prevTs' | 'flags'> &
  Partial<Pick<StuHeader, 'user' | 'prevTs' | 'flags' | 'ext'>>;

export interface DecodeLimits {
  maxBody?: number;
}

export const isData = (h: StuHeader): boolean => (h.flags & Flag.DATA) !== 0;
export const isSummary = (h: StuHeader): boolean => (h.flags & Flag.SUMMARY) !== 0;
export const isTombstone = (h: StuHeader): boolean => (h.flags & Flag.TOMBSTONE) !== 0;
/** An STU's unique id: origin GUID, type (4 hex digits), origin sequence number of that type. */
export const stuId = (h: Pick<StuHeader, 'origin' | 'type' | 'seq'>): string => `${h.origin}/${h.type.toString(16).padStart(4, '0')}/${h.seq}`;

const EMPTY_EXT = new Uint8Array(EXT_SIZE);
const MAX_SAFE_HI = 0x1fffff; // high 32 bits of Number.MAX_SAFE_INTEGER

/** Encodes a whole STU (header and body) into one new buffer. Throws TypeError on caller mistakes. */
export function encodeStu(init: StuInit, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + body.length);
  out.set(body, HEADER_SIZE);
  writeHeader(out, 0, init, body.length, crc32c(body));
  return out;
}

/** Writes a header for a body of `bodySize` bytes with checksum `bodyCrc` at `out[at, at + 512)`. */
export function writeHeader(out: Uint8Array, at: number, init: StuInit, bodySize: number, bodyCrc: number): void {
  const flags = init.flags ?? 0;
  const prevTs = init.prevTs ?? 0n;
  const ext = init.ext ?? EMPTY_EXT;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new TypeError(`unknown STU flags ${flags}`);
  if (!Number.isSafeInteger(init.seq) || init.seq < 1) throw new TypeError(`bad STU sequence ${init.seq}`);
  if (init.ts <= 0n || init.ts >= 1n << 64n) throw new TypeError('bad STU timestamp');
  if (prevTs < 0n || prevTs >= init.ts) throw new TypeError('preceding timestamp must be before the timestamp');
  if (!Number.isInteger(init.type) || init.type < 0 || init.type > 0xffff_ffff) throw new TypeError(`bad STU type ${init.type}`);
  if (ext.length > EXT_SIZE) throw new TypeError('type-specific area is 128 bytes at most');
  if (bodySize > BODY_SIZE_CAP) throw new TypeError('body too large');
  out.fill(0, at, at + HEADER_SIZE);
  const v = new DataView(out.buffer, out.byteOffset + at, HEADER_SIZE);
  v.setUint32(Off.magic, MAGIC, true);
  v.setUint16(Off.version, FORMAT_VERSION, true);
  v.setUint16(Off.headerLength, HEADER_SIZE, true);
  v.setUint32(Off.flags, flags, true);
  v.setUint32(Off.type, init.type, true);
  writeGuid(out, at + Off.object, init.object);
  v.setBigUint64(Off.ts, init.ts, true);
  v.setBigUint64(Off.prevTs, prevTs, true);
  writeGuid(out, at + Off.origin, init.origin);
  v.setUint32(Off.seq, init.seq >>> 0, true);
  v.setUint32(Off.seq + 4, Math.floor(init.seq / 0x1_0000_0000), true);
  writeGuid(out, at + Off.user, init.user ?? NIL_GUID);
  v.setUint32(Off.bodySize, bodySize >>> 0, true);
  v.setUint32(Off.bodySize + 4, Math.floor(bodySize / 0x1_0000_0000), true);
  v.setUint32(Off.bodyCrc, bodyCrc >>> 0, true);
  out.set(ext, at + Off.ext);
  v.setUint32(Off.headerCrc, crc32c(out, 0, at, at + Off.headerCrc), true);
}

/** Re-encodes a decoded STU: the exact bytes it was decoded from. */
export function reencodeStu(stu: Stu): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + stu.body.length);
  out.set(stu.body, HEADER_SIZE);
  writeHeader(out, 0, stu.header, stu.body.length, stu.header.bodyCrc);
  return out;
}

export interface HeaderFacts {
  flags: number;
  bodySize: number;
  seq: number;
  ts: Hlc;
  prevTs: Hlc;
  view: DataView;
}

/** Every check of decodeHeader, without building the header: what a ring needs to file an STU. */
export function checkHeader(buf: Uint8Array, at = 0, limits: DecodeLimits = {}): Result<HeaderFacts> {
  if (!(buf instanceof Uint8Array) || at < 0 || buf.length - at < HEADER_SIZE) {
    return fail('TRUNCATED', `need ${HEADER_SIZE} header bytes, have ${Math.max(0, (buf?.length ?? 0) - at)}`, at);
  }
  const v = new DataView(buf.buffer, buf.byteOffset + at, HEADER_SIZE);
  if (v.getUint32(Off.magic, true) !== MAGIC) return fail('BAD_MAGIC', 'not an STU header', at);
  const version = v.getUint16(Off.version, true);
  if (version !== FORMAT_VERSION) return fail('BAD_VERSION', `format version ${version}, this build reads ${FORMAT_VERSION}`, at);
  const headerLength = v.getUint16(Off.headerLength, true);
  if (headerLength !== HEADER_SIZE) return fail('BAD_HEADER_LENGTH', `header length ${headerLength}`, at);
  const stored = v.getUint32(Off.headerCrc, true);
  if (crc32c(buf, 0, at, at + Off.headerCrc) !== stored) return fail('BAD_HEADER_CHECKSUM', 'header checksum mismatch', at);

  const maxBody = Math.min(limits.maxBody ?? DEFAULT_MAX_BODY, BODY_SIZE_CAP);
  const sizeHi = v.getUint32(Off.bodySize + 4, true);
  const bodySize = v.getUint32(Off.bodySize, true) + sizeHi * 0x1_0000_0000;
  if (sizeHi !== 0 || bodySize > maxBody) return fail('TOO_LARGE', `body of ${bodySize} bytes exceeds the limit of ${maxBody}`, at);
  const flags = v.getUint32(Off.flags, true);
  if ((flags & ~KNOWN_FLAGS) !== 0) return fail('BAD_FIELD', `unknown flags 0x${flags.toString(16)}`, at + Off.flags);
  const seqHi = v.getUint32(Off.seq + 4, true);
  const seq = v.getUint32(Off.seq, true) + seqHi * 0x1_0000_0000;
  if (seqHi > MAX_SAFE_HI || seq < 1) return fail('BAD_FIELD', `sequence number ${seq} out of range`, at + Off.seq);
  const ts = v.getBigUint64(Off.ts, true);
  const prevTs = v.getBigUint64(Off.prevTs, true);
  if (ts === 0n || prevTs >= ts) return fail('BAD_FIELD', 'timestamp must be after the preceding timestamp', at + Off.ts);
  if (v.getUint32(Off.reserved, true) !== 0) return fail('BAD_FIELD', 'reserved field is not zero', at + Off.reserved);
  for (let i = at + Off.reserved2; i < at + Off.headerCrc; i++) {
    if (buf[i] !== 0) return fail('BAD_FIELD', 'reserved bytes are not zero', i);
  }
  return ok({ flags, bodySize, seq, ts, prevTs, view: v });
}

/** Decodes the 512-byte header at `buf[at]`. Untrusted bytes: every failure is a typed error. */
export function decodeHeader(buf: Uint8Array, at = 0, limits: DecodeLimits = {}): Result<StuHeader> {
  const c = checkHeader(buf, at, limits);
  if (!c.ok) return c;
  const { flags, bodySize, seq, ts, prevTs, view: v } = c.value;
  return ok({
    flags,
    type: v.getUint32(Off.type, true),
    object: guidFromBytes(buf, at + Off.object),
    ts,
    prevTs,
    origin: guidFromBytes(buf, at + Off.origin),
    seq,
    user: guidFromBytes(buf, at + Off.user),
    bodySize,
    bodyCrc: v.getUint32(Off.bodyCrc, true),
    ext: buf.slice(at + Off.ext, at + Off.ext + EXT_SIZE),
  });
}

/** Checks a body against its header's size and checksum. */
export function checkBody(h: StuHeader, body: Uint8Array, at = 0): StuError | undefined {
  if (body.length < h.bodySize) return new StuError('TRUNCATED', `body has ${body.length} of ${h.bodySize} bytes`, at);
  if (crc32c(body, 0, 0, h.bodySize) !== h.bodyCrc) return new StuError('BAD_BODY_CHECKSUM', 'body checksum mismatch', at);
  return undefined;
}

/** Decodes a whole STU at `buf[at]`; the body is a view into `buf`. */
export function decodeStu(buf: Uint8Array, at = 0, limits: DecodeLimits = {}): Result<Stu> {
  const h = decodeHeader(buf, at, limits);
  if (!h.ok) return h;
  const start = at + HEADER_SIZE;
  const have = buf.length - start;
  if (have < h.value.bodySize) return fail('TRUNCATED', `body has ${have} of ${h.value.bodySize} bytes`, start);
  const body = buf.subarray(start, start + h.value.bodySize);
  const bad = checkBody(h.value, body, start);
  if (bad) return { ok: false, error: bad };
  return ok({ header: h.value, body });
}

/** Total encoded size of an STU with this header. */
export const stuSize = (h: Pick<StuHeader, 'bodySize'>): number => HEADER_SIZE + h.bodySize;

