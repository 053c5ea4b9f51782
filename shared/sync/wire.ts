// Bytes and parameters of the sync methods (docs/PROTOCOL.md, "Sync"). The vector travels as a binary body:
// u32 LE count, then per entry u16 LE type, 16-byte origin GUID, u32 LE high and u32 LE low halves of upTo.
// Everything read from a peer is checked and refused with StxError BAD_PARAM (which counts as invalid).
import { err } from '../stx/errors.ts';
import { type Attrs } from '../stx/message.ts';
import type { TransferTicket } from '../stx/transfer.ts';
import { type Guid, guidFromBytes, isGuid, NIL_GUID, writeGuid } from '../stu/guid.ts';
import type { VectorEntry } from './held.ts';

const ENTRY = 2 + 16 + 8;
/** Entries a vector may carry: (types × origins); far above any real cluster, far below memory trouble. */
export const MAX_VECTOR_ENTRIES = 1 << 16;

export function encodeVector(v: readonly VectorEntry[]): Uint8Array {
  const out = new Uint8Array(4 + v.length * ENTRY);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, v.length, true);
  let at = 4;
  for (const e of v) {
    dv.setUint16(at, e.type, true);
    writeGuid(out, at + 2, e.origin);
    dv.setUint32(at + 18, Math.floor(e.upTo / 2 ** 32), true);
    dv.setUint32(at + 22, e.upTo >>> 0, true);
    at += ENTRY;
  }
  return out;
}

export function decodeVector(b: Uint8Array): VectorEntry[] {
  if (b.length < 4) throw err('BAD_PARAM', 'vector: truncated');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(0, true);
  if (n > MAX_VECTOR_ENTRIES) throw err('BAD_PARAM', `vector: ${n} entries, at most ${MAX_VECTOR_ENTRIES}`);
  if (b.length !== 4 + n * ENTRY) throw err('BAD_PARAM', `vector: ${b.length} bytes for ${n} entries`);
  const out: VectorEntry[] = [];
  for (let i = 0, at = 4; i < n; i++, at += ENTRY) {
    const hi = dv.getUint32(at + 18, true);
    if (hi > 0x1fffff) throw err('BAD_PARAM', 'vector: sequence above 2^53 - 1');
    const origin = guidFromBytes(b, at + 2);
    if (origin === NIL_GUID) throw err('BAD_PARAM', 'vector: nil origin');
    out.push({ type: dv.getUint16(at, true), origin, upTo: hi * 2 ** 32 + dv.getUint32(at + 22, true) });
  }
  return out;
}

/** A required attribute that must be a GUID. */
export function guidParam(attrs: Attrs, name: string): Guid {
  const v = attrs[name];
  if (!isGuid(v)) throw err('BAD_PARAM', `${name}: not a GUID`);
  return v;
}

/** A required (or defaulted) non-negative integer attribute, at most `max`. */
export function intParam(attrs: Attrs, name: string, max = Number.MAX_SAFE_INTEGER, dflt?: number): number {
  const v = attrs[name];
  if (v === undefined && dflt !== undefined) return dflt;
  if (v === undefined || !/^\d{1,16}$/.test(v)) throw err('BAD_PARAM', `${name}: not a non-negative integer`);
  const n = Number(v);
  if (n > max) throw err('BAD_PARAM', `${name}: ${n} is above ${max}`);
  return n;
}

/** An STU type as 4 hex digits (how it is written everywhere: "0100"). */
export function typeParam(attrs: Attrs, name = 'type'): number {
  const v = attrs[name];
  if (v === undefined || !/^[0-9a-f]{4}$/i.test(v)) throw err('BAD_PARAM', `${name}: not 4 hex digits`);
  return parseInt(v, 16);
}

export const typeAttr = (t: number): string => t.toString(16).padStart(4, '0');

export function ticketAttrs(t: TransferTicket): Attrs {
  return { stream: String(t.stream), key: t.key, ...(t.rate ? { rate: String(t.rate) } : {}) };
}

export function ticketParam(attrs: Attrs): TransferTicket {
  const key = attrs.key;
  if (key === undefined || !/^[A-Za-z0-9_-]{16,64}$/.test(key)) throw err('BAD_PARAM', 'key: not a transfer key');
  return { stream: intParam(attrs, 'stream', 2 ** 31 - 1), key, rate: intParam(attrs, 'rate', Number.MAX_SAFE_INTEGER, 0) };
}
