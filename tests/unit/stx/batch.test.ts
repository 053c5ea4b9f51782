import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_HEADER, batchSize, decodeBatch, encodeBatch, encodeBatchInto } from '../../../shared/stx/batch.ts';
import { StxError } from '../../../shared/stx/errors.ts';
import { decodeMessage } from '../../../shared/stx/message.ts';
import { hex, toHex } from './helpers.ts';

// The golden batch (format v1): version 1, total 138 bytes, then an Ack for request 42 (31 bytes) and an
// Unregister (94 bytes).
const GOLDEN = hex(`
  01 8a000000
  1f000000 3c737478206d6574686f643d2241636b222069643d223432222f3e001e1f00
  5e000000 3c737478206d6574686f643d22556e726567697374657222207365727665723d22306635
           65326331612d396237642d346533662d386136622d3163326433653466356136622220726561
           736f6e3d2273687574646f776e222f3e001e1f00`);

const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const code = (b: Uint8Array, limits = {}) => {
  const r = decodeBatch(b, limits);
  return r.ok ? 'ok' : r.error.code;
};

describe('batch: golden bytes', () => {
  it('decodes the golden batch, its messages, and re-encodes it byte for byte', () => {
    const r = decodeBatch(GOLDEN);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((p) => p.length)).toEqual([31, 94]);
    const [ack, unreg] = r.value.map((p) => decodeMessage(p));
    expect(ack.ok && [ack.value.method, ack.value.id]).toEqual(['Ack', 42]);
    expect(unreg.ok && [unreg.value.method, unreg.value.attrs]).toEqual(['Unregister', { server: '0f5e2c1a-9b7d-4e3f-8a6b-1c2d3e4f5a6b', reason: 'shutdown' }]);
    expect(r.value.every((p) => p.buffer === GOLDEN.buffer)).toBe(true);
    expect(toHex(encodeBatch(r.value))).toBe(toHex(GOLDEN));
  });
});

describe('batch: codec', () => {
  it('sizes, encodes into a larger buffer at an offset, and decodes', () => {
    const parts = [Uint8Array.of(1), Uint8Array.of(2, 3), new Uint8Array(300).fill(9)];
    expect(batchSize(parts)).toBe(5 + 5 + 6 + 304);
    const out = new Uint8Array(batchSize(parts) + 10);
    expect(encodeBatchInto(out, 7, parts)).toBe(7 + batchSize(parts));
    const r = decodeBatch(out.subarray(7, 7 + batchSize(parts)));
    expect(r.ok && r.value.map(toHex)).toEqual(parts.map(toHex));
  });
  it('refuses to encode an empty batch or an empty message', () => {
    expect(() => encodeBatch([])).toThrow(StxError);
    expect(() => encodeBatch([new Uint8Array(0)])).toThrow(StxError);
  });
  const table: [string, number[], string, object?][] = [
    ['nothing', [], 'TRUNCATED'],
    ['a short header', [1, 5, 0, 0], 'TRUNCATED'],
    ['an unknown version', [2, 10, 0, 0, 0, 1, 0, 0, 0, 0x41], 'BAD_VERSION'],
    ['an empty batch', [1, 5, 0, 0, 0], 'BAD_LENGTH'],
    ['a total past the input', [1, 11, 0, 0, 0, 1, 0, 0, 0, 0x41], 'TRUNCATED'],
    ['bytes past the total', [1, 10, 0, 0, 0, 1, 0, 0, 0, 0x41, 0], 'BAD_LENGTH'],
    ['a total of 4 GiB', [1, ...le32(0xffffffff), 1, 0, 0, 0, 0x41], 'TOO_LARGE'],
    ['a total past maxBytes', [1, 10, 0, 0, 0, 1, 0, 0, 0, 0x41], 'TOO_LARGE', { maxBytes: 9 }],
    ['a zero length', [1, 10, 0, 0, 0, 0, 0, 0, 0, 0x41], 'BAD_LENGTH'],
    ['a length past the end', [1, 10, 0, 0, 0, 2, 0, 0, 0, 0x41], 'TRUNCATED'],
    ['a length of 4 GiB', [1, 10, 0, 0, 0, ...le32(0xffffffff), 0x41], 'TRUNCATED'],
    ['a cut length', [1, 12, 0, 0, 0, 1, 0, 0, 0, 0x41, 1, 0], 'TRUNCATED'],
    ['more messages than maxCount', [1, 15, 0, 0, 0, 1, 0, 0, 0, 0x41, 1, 0, 0, 0, 0x42], 'TOO_MANY', { maxCount: 1 }],
  ];
  for (const [name, bytes, want, limits] of table) it(`refuses ${name} with ${want}`, () => expect(code(Uint8Array.from(bytes), limits)).toBe(want));
  it('keeps the default count cap when a limit is passed as undefined', () => {
    const many = encodeBatch(Array.from({ length: 4097 }, () => Uint8Array.of(1)));
    expect(code(many, { maxCount: undefined })).toBe('TOO_MANY');
    expect(code(many, { maxCount: 4097 })).toBe('ok');
  });
});

describe('batch: fuzz', () => {
  /** Decoding never throws; a success splits the input exactly, into views of it. */
  function check(bytes: Uint8Array): void {
    const r = decodeBatch(bytes);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(StxError);
      return;
    }
    expect(r.value.length).toBeLessThanOrEqual((bytes.length - BATCH_HEADER) / 5);
    expect(r.value.every((p) => p.buffer === bytes.buffer && p.length > 0)).toBe(true);
    expect(batchSize(r.value)).toBe(bytes.length);
  }
  const partsArb = fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 12 });

  it('round-trips any list of messages (1,000 cases)', () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const r = decodeBatch(encodeBatch(parts));
        expect(r.ok && r.value.map(toHex)).toEqual(parts.map(toHex));
      }),
      { numRuns: 1000 },
    );
  });
  it('never throws on random bytes (3,000 cases)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 3000 });
  });
  it('never throws on random bytes behind a plausible header (3,000 cases)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (tail, fix) => {
        const total = fix ? tail.length + 5 : (tail[0] ?? 0) * 1000;
        check(Uint8Array.of(1, ...le32(total), ...tail));
      }),
      { numRuns: 3000 },
    );
  });
  it('never throws on mutated valid batches (4,000 cases)', () => {
    fc.assert(
      fc.property(partsArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 4 }), (parts, edits) => {
        const b = Array.from(encodeBatch(parts));
        for (const [at, v, op] of edits) {
          const i = b.length === 0 ? 0 : at % b.length;
          if (op === 0) b[i] = v;
          else if (op === 1) b.splice(i, 1);
          else b.length = i;
        }
        check(Uint8Array.from(b));
      }),
      { numRuns: 4000 },
    );
  });
});
