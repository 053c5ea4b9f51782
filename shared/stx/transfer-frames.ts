// The frames of a transfer channel (docs/PROTOCOL.md, "Data channels (transfers)"). One channel message is
// one frame; its first byte is the type; integers are little-endian. decodeFrame never throws: it checks
// every length before reading and returns views into its input (a DATA frame: one array of at most
// length / 6 records). Encoders refuse (throw StxError) what decodeFrame would refuse.
import { err, fail, ok, type StxResult } from './errors.ts';

export const TRANSFER_VERSION = 1;
export const KEY_BYTES = 16;

export const FRAME = { AUTH: 1, OK: 2, DATA: 3, CREDIT: 4, END: 5, DONE: 6, ABORT: 7 } as const;
export type FrameName = keyof typeof FRAME;
const NAMES: readonly (FrameName | undefined)[] = [undefined, 'AUTH', 'OK', 'DATA', 'CREDIT', 'END', 'DONE', 'ABORT'];

/** Records of a DATA frame: an STU whole, or the first, a middle or the last part of one. */
export const RECORD = { WHOLE: 0, FIRST: 1, MIDDLE: 2, LAST: 3 } as const;
export type RecordKind = (typeof RECORD)[keyof typeof RECORD];

export const AUTH_BYTES = 1 + 1 + 4 + KEY_BYTES;
export const OK_BYTES = 1 + 4 + 4;
export const CREDIT_BYTES = 1 + 4;
export const TOTALS_BYTES = 1 + 8 + 8;
/** kind u8, length u32 */
export const RECORD_HEADER = 5;
/** kind u8, total u32, length u32 */
export const FIRST_HEADER = 9;
/** The smallest window a receiver may grant (OK): room for a frame of one record of a few hundred bytes. */
export const MIN_WINDOW = 1024;
export const MAX_ABORT_CODE = 32;
export const MAX_ABORT_REASON = 512;
const CODE_RE = /^[A-Z][A-Z0-9_]*$/;
const U32 = 0xffff_ffff;

export interface DataRecord {
  kind: RecordKind;
  /** FIRST: the whole STU's size; otherwise 0. */
  total: number;
  bytes: Uint8Array;
}

export interface Totals {
  stus: number;
  bytes: number;
}

export type Frame =
  | { type: 'AUTH'; version: number; stream: number; key: Uint8Array }
  | { type: 'OK'; window: number; maxStu: number }
  | { type: 'DATA'; records: DataRecord[] }
  | { type: 'CREDIT'; bytes: number }
  | ({ type: 'END' | 'DONE' } & Totals)
  | { type: 'ABORT'; code: string; reason: string };

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: false });

export function encodeAuth(stream: number, key: Uint8Array): Uint8Array {
  if (key.length !== KEY_BYTES) throw err('BAD_PARAM', `a transfer key is ${KEY_BYTES} bytes`);
  const out = new Uint8Array(AUTH_BYTES);
  const v = view(out);
  v.setUint8(0, FRAME.AUTH);
  v.setUint8(1, TRANSFER_VERSION);
  v.setUint32(2, stream, true);
  out.set(key, 6);
  return out;
}

export function encodeOk(window: number, maxStu: number): Uint8Array {
  if (!(window >= MIN_WINDOW && window <= U32) || !(maxStu >= 1 && maxStu <= U32)) throw err('BAD_PARAM', `OK: window ${window} or maxStu ${maxStu} out of range`);
  const out = new Uint8Array(OK_BYTES);
  const v = view(out);
  v.setUint8(0, FRAME.OK);
  v.setUint32(1, window, true);
  v.setUint32(5, maxStu, true);
  return out;
}

export function encodeCredit(bytes: number): Uint8Array {
  if (!(bytes >= 1 && bytes <= U32)) throw err('BAD_PARAM', `CREDIT of ${bytes} bytes`);
  const out = new Uint8Array(CREDIT_BYTES);
  const v = view(out);
  v.setUint8(0, FRAME.CREDIT);
  v.setUint32(1, bytes, true);
  return out;
}

export function encodeTotals(type: 'END' | 'DONE', t: Totals): Uint8Array {
  const out = new Uint8Array(TOTALS_BYTES);
  const v = view(out);
  v.setUint8(0, FRAME[type]);
  setU64(v, 1, t.stus);
  setU64(v, 9, t.bytes);
  return out;
}

/** ABORT: the code must be [A-Z][A-Z0-9_]*, at most 32 characters; the reason is cut to 512 bytes. */
export function encodeAbort(code: string, reason: string): Uint8Array {
  if (code.length > MAX_ABORT_CODE || !CODE_RE.test(code)) throw err('BAD_PARAM', `abort code ${JSON.stringify(code)}`);
  let r = utf8.encode(reason);
  if (r.length > MAX_ABORT_REASON) {
    let cut = MAX_ABORT_REASON;
    while (cut > 0 && (r[cut] & 0xc0) === 0x80) cut--; // do not split a character
    r = r.subarray(0, cut);
  }
  const out = new Uint8Array(2 + code.length + r.length);
  out[0] = FRAME.ABORT;
  out[1] = code.length;
  for (let i = 0; i < code.length; i++) out[2 + i] = code.charCodeAt(i);
  out.set(r, 2 + code.length);
  return out;
}

/** DATA frames are built in place: start one with DATA_HEADER bytes, then append records. */
export const DATA_HEADER = 1;
export function startData(out: Uint8Array): number {
  out[0] = FRAME.DATA;
  return DATA_HEADER;
}

/** Appends one record at out[at]; returns the offset after it. The caller checks the room. */
export function writeRecord(out: Uint8Array, at: number, kind: RecordKind, total: number, part: Uint8Array): number {
  const v = view(out);
  v.setUint8(at, kind);
  let p = at + 1;
  if (kind === RECORD.FIRST) {
    v.setUint32(p, total, true);
    p += 4;
  }
  v.setUint32(p, part.length, true);
  out.set(part, p + 4);
  return p + 4 + part.length;
}

/** Decodes one frame (the whole buffer). Never throws. */
export function decodeFrame(buf: Uint8Array): StxResult<Frame> {
  if (!(buf instanceof Uint8Array) || buf.length === 0) return fail('TRUNCATED', 'an empty frame', 0);
  const type = NAMES[buf[0]];
  if (type === undefined) return fail('BAD_FRAME', `unknown frame type ${buf[0]}`, 0);
  const v = view(buf);
  const exactly = (n: number): StxResult<never> | undefined =>
    buf.length < n ? fail('TRUNCATED', `${type} needs ${n} bytes, has ${buf.length}`, 0) : buf.length > n ? fail('BAD_LENGTH', `${type} is ${n} bytes, has ${buf.length}`, n) : undefined;
  switch (type) {
    case 'AUTH':
      return (
        exactly(AUTH_BYTES) ??
        ok({ type, version: v.getUint8(1), stream: v.getUint32(2, true), key: buf.subarray(6, 6 + KEY_BYTES) })
      );
    case 'OK': {
      const bad = exactly(OK_BYTES);
      if (bad) return bad;
      const window = v.getUint32(1, true);
      const maxStu = v.getUint32(5, true);
      if (window < MIN_WINDOW) return fail('BAD_FRAME', `OK: a window of ${window} bytes (at least ${MIN_WINDOW})`, 1);
      if (maxStu === 0) return fail('BAD_FRAME', 'OK: an STU limit of 0', 5);
      return ok({ type, window, maxStu });
    }
    case 'DATA':
      return decodeData(buf, v);
    case 'CREDIT': {
      const bad = exactly(CREDIT_BYTES);
      if (bad) return bad;
      const bytes = v.getUint32(1, true);
      return bytes === 0 ? fail('BAD_FRAME', 'CREDIT of 0 bytes', 1) : ok({ type, bytes });
    }
    case 'END':
    case 'DONE': {
      const bad = exactly(TOTALS_BYTES);
      if (bad) return bad;
      const stus = getU64(v, 1);
      const bytes = getU64(v, 9);
      if (stus === undefined || bytes === undefined) return fail('BAD_FRAME', `${type}: a total above 2^53`, 1);
      return ok({ type, stus, bytes });
    }
    case 'ABORT': {
      if (buf.length < 3) return fail('TRUNCATED', 'ABORT needs a code', 0);
      const n = buf[1];
      if (n === 0 || n > MAX_ABORT_CODE) return fail('BAD_FRAME', `ABORT: a code of ${n} characters`, 1);
      if (buf.length < 2 + n) return fail('TRUNCATED', `ABORT: the code needs ${n} bytes`, 1);
      if (buf.length > 2 + n + MAX_ABORT_REASON) return fail('BAD_LENGTH', `ABORT: a reason over ${MAX_ABORT_REASON} bytes`, 2 + n);
      const code = String.fromCharCode(...buf.subarray(2, 2 + n));
      if (!CODE_RE.test(code)) return fail('BAD_FRAME', 'ABORT: the code is not [A-Z][A-Z0-9_]*', 2);
      return ok({ type, code, reason: fromUtf8.decode(buf.subarray(2 + n)) });
    }
    default:
      throw new TypeError(`unhandled frame type ${String(type satisfies never)}`);
  }
}

function decodeData(buf: Uint8Array, v: DataView): StxResult<Frame> {
  const records: DataRecord[] = [];
  let p = DATA_HEADER;
  if (buf.length === p) return fail('BAD_LENGTH', 'a DATA frame without records', p);
  while (p < buf.length) {
    const kind = buf[p];
    if (kind > RECORD.LAST) return fail('BAD_FRAME', `unknown record kind ${kind}`, p);
    const header = kind === RECORD.FIRST ? FIRST_HEADER : RECORD_HEADER;
    if (buf.length - p < header) return fail('TRUNCATED', `a record header needs ${header} bytes`, p);
    const total = kind === RECORD.FIRST ? v.getUint32(p + 1, true) : 0;
    const len = v.getUint32(p + header - 4, true);
    if (len === 0) return fail('BAD_LENGTH', 'an empty record', p);
    if (len > buf.length - p - header) return fail('TRUNCATED', `a record of ${len} bytes, ${buf.length - p - header} left`, p);
    if (kind === RECORD.FIRST && len >= total) return fail('BAD_LENGTH', `a first part of ${len} bytes of an STU of ${total}`, p);
    records.push({ kind: kind as RecordKind, total, bytes: buf.subarray(p + header, p + header + len) });
    p += header + len;
  }
  return ok({ type: 'DATA', records });
}

function setU64(v: DataView, at: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw err('BAD_PARAM', `${n} is not a u64 this code can count`);
  v.setUint32(at, n % 2 ** 32, true);
  v.setUint32(at + 4, Math.floor(n / 2 ** 32), true);
}

function getU64(v: DataView, at: number): number | undefined {
  const hi = v.getUint32(at + 4, true);
  return hi >= 2 ** 21 ? undefined : hi * 2 ** 32 + v.getUint32(at, true);
}
