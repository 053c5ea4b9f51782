// A batch: many messages in one channel message. Layout (docs/PROTOCOL.md, all integers little-endian):
//   u8 version (1) | u32 total length of the batch, these 5 bytes included | { u32 length (>= 1) | bytes }+
// Codec as a triple: batchSize / encodeBatchInto / decodeBatch. The decoder distrusts every length and
// returns views into its input: it allocates one array of at most maxCount entries.
import { err, fail, ok, type StxResult } from './errors.ts';

export const BATCH_VERSION = 1;
export const BATCH_HEADER = 5;
export const LENGTH_PREFIX = 4;

export interface BatchLimits {
  /** Largest batch in bytes (the channel's message limit). */
  maxBytes: number;
  /** Most messages in one batch. */
  maxCount: number;
}
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBytes: 64 * 1024, maxCount: 4096 };

/** Encoded size of a batch holding these messages. */
export const batchSize = (parts: readonly Uint8Array[]): number => parts.reduce((n, p) => n + LENGTH_PREFIX + p.length, BATCH_HEADER);

/** Writes the batch at out[at, at + batchSize(parts)); returns the offset after it. Throws on empty parts. */
export function encodeBatchInto(out: Uint8Array, at: number, parts: readonly Uint8Array[]): number {
  if (parts.length === 0) throw err('BAD_LENGTH', 'a batch holds at least one message');
  const total = batchSize(parts);
  if (total > 0xffff_ffff) throw err('TOO_LARGE', 'batch longer than 4 GiB');
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint8(at, BATCH_VERSION);
  v.setUint32(at + 1, total, true);
  let p = at + BATCH_HEADER;
  for (const part of parts) {
    if (part.length === 0) throw err('BAD_LENGTH', 'an empty message cannot be batched');
    v.setUint32(p, part.length, true);
    out.set(part, p + LENGTH_PREFIX);
    p += LENGTH_PREFIX + part.length;
  }
  return p;
}

/** One new buffer holding the batch. */
export function encodeBatch(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(batchSize(parts));
  encodeBatchInto(out, 0, parts);
  return out;
}

/** Splits a batch (the whole buffer) into message views. Never throws. */
export function decodeBatch(buf: Uint8Array, limits: Partial<BatchLimits> = {}): StxResult<Uint8Array[]> {
  const l = { maxBytes: limits.maxBytes ?? DEFAULT_BATCH_LIMITS.maxBytes, maxCount: limits.maxCount ?? DEFAULT_BATCH_LIMITS.maxCount };
  if (!(buf instanceof Uint8Array) || buf.length < BATCH_HEADER) return fail('TRUNCATED', `a batch needs ${BATCH_HEADER} header bytes`, 0);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = v.getUint8(0);
  if (version !== BATCH_VERSION) return fail('BAD_VERSION', `batch version ${version}, this build reads ${BATCH_VERSION}`, 0);
  const total = v.getUint32(1, true);
  if (total > l.maxBytes) return fail('TOO_LARGE', `batch of ${total} bytes exceeds ${l.maxBytes}`, 1);
  if (total > buf.length) return fail('TRUNCATED', `batch says ${total} bytes, has ${buf.length}`, 1);
  if (total < buf.length) return fail('BAD_LENGTH', `batch says ${total} bytes, has ${buf.length}`, 1);
  if (total === BATCH_HEADER) return fail('BAD_LENGTH', 'empty batch', 1);
  const parts: Uint8Array[] = [];
  let p = BATCH_HEADER;
  while (p < total) {
    if (total - p < LENGTH_PREFIX) return fail('TRUNCATED', 'batch ends inside a length', p);
    const len = v.getUint32(p, true);
    if (len === 0) return fail('BAD_LENGTH', 'zero-length message', p);
    if (len > total - p - LENGTH_PREFIX) return fail('TRUNCATED', `message of ${len} bytes, ${total - p - LENGTH_PREFIX} left`, p);
    if (parts.length === l.maxCount) return fail('TOO_MANY', `more than ${l.maxCount} messages in a batch`, p);
    parts.push(buf.subarray(p + LENGTH_PREFIX, p + LENGTH_PREFIX + len));
    p += LENGTH_PREFIX + len;
  }
  return ok(parts);
}
