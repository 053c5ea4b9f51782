import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32c,
  decodeHeader,
  decodeStu,
  encodeStu,
  EXT_SIZE,
  Flag,
  HEADER_SIZE,
  hlcFrom,
  newGuid,
  reencodeStu,
  StuError,
  type StuInit,
} from '../../../shared/stu/index.ts';
import { valid } from '../../fixtures/stu/make-fixtures.ts';

const dir = join(import.meta.dirname, '../../fixtures/stu/v1');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<
  string,
  { valid: true; type: number; seq: number; flags: number; ts: string; prevTs: string; bodySize: number } | { valid: false; code: string }
>;
const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, `${name}.bin`)));

describe('CRC32C', () => {
  it('matches the standard check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });
  it('continues across chunks', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    expect(crc32c(data.subarray(300), crc32c(data.subarray(0, 300)))).toBe(crc32c(data));
  });
});

describe('golden STU fixtures (format v1)', () => {
  it('has every fixture the manifest names', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.bin')).map((f) => f.replace('.bin', ''));
    expect(files.sort()).toEqual(Object.keys(manifest).sort());
  });

  for (const [name, want] of Object.entries(manifest)) {
    if (want.valid) {
      it(`decodes ${name} and re-encodes it byte for byte`, () => {
        const bytes = fixture(name);
        const d = decodeStu(bytes);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        const h = d.value.header;
        expect([h.type, h.seq, h.flags, h.ts.toString(), h.prevTs.toString(), h.bodySize]).toEqual([want.type, want.seq, want.flags, want.ts, want.prevTs, want.bodySize]);
        expect(Buffer.from(reencodeStu(d.value)).equals(Buffer.from(bytes))).toBe(true);
        const { init, body } = valid[name];
        expect(Buffer.from(encodeStu(init, body)).equals(Buffer.from(bytes))).toBe(true);
      });
    } else {
      it(`refuses ${name} with ${want.code}`, () => {
        const d = decodeStu(fixture(name));
        expect(d.ok).toBe(false);
        if (!d.ok) {
          expect(d.error).toBeInstanceOf(StuError);
          expect(d.error.code).toBe(want.code);
        }
      });
    }
  }
});

describe('header integrity', () => {
  it('detects every single-bit flip in a header', () => {
    const bytes = fixture('data-frame');
    let detected = 0;
    for (let bit = 0; bit < HEADER_SIZE * 8; bit++) {
      const b = bytes.slice();
      b[bit >> 3] ^= 1 << (bit & 7);
      if (!decodeStu(b).ok) detected++;
    }
    expect(detected).toBe(HEADER_SIZE * 8);
  });

  it('refuses a body size over the configured limit without allocating it', () => {
    const stu = encodeStu({ type: 1, object: newGuid(), ts: hlcFrom(1), origin: newGuid(), seq: 1 }, new Uint8Array(2000));
    const d = decodeHeader(stu, 0, { maxBody: 1000 });
    expect(!d.ok && d.error.code).toBe('TOO_LARGE');
  });

  it('refuses encoding mistakes at the caller', () => {
    const base = { type: 1, object: newGuid(), ts: hlcFrom(5), origin: newGuid(), seq: 1 };
    expect(() => encodeStu({ ...base, seq: 0 })).toThrow(TypeError);
    expect(() => encodeStu({ ...base, prevTs: hlcFrom(6) })).toThrow(TypeError);
    expect(() => encodeStu({ ...base, flags: 64 })).toThrow(TypeError);
    expect(() => encodeStu({ ...base, object: 'nope' })).toThrow(TypeError);
  });
});

const guidArb = fc.uuid({ version: 4 });
const initArb: fc.Arbitrary<StuInit> = fc.record({
  type: fc.integer({ min: 0, max: 0xffff_ffff }),
  object: guidArb,
  origin: guidArb,
  user: guidArb,
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  ts: fc.bigInt({ min: 2n, max: (1n << 64n) - 1n }),
  flags: fc.integer({ min: 0, max: 7 }),
  ext: fc.uint8Array({ minLength: EXT_SIZE, maxLength: EXT_SIZE }),
}).chain((r) => fc.bigInt({ min: 0n, max: r.ts - 1n }).map((prevTs) => ({ ...r, prevTs })));

describe('codec properties', () => {
  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(initArb, fc.uint8Array({ maxLength: 3000 }), (init, body) => {
        const bytes = encodeStu(init, body);
        const d = decodeStu(bytes);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        const h = d.value.header;
        expect({ ...h, ext: [...h.ext], bodyCrc: 0 }).toEqual({ ...init, ext: [...(init.ext ?? [])], bodySize: body.length, bodyCrc: 0 });
        expect([...d.value.body]).toEqual([...body]);
        expect(Buffer.from(reencodeStu(d.value)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes never throw and fail only with a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat(600), (bytes, at) => {
        const d = decodeStu(bytes, at);
        if (!d.ok) expect(d.error).toBeInstanceOf(StuError);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid STUs never throw and are never accepted with different content', () => {
    const bytes = encodeStu({ type: 7, object: newGuid(), ts: hlcFrom(99), origin: newGuid(), seq: 3, flags: Flag.DATA }, new Uint8Array(64).fill(9));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const b = bytes.slice();
        for (const [i, x] of edits) b[i] ^= x;
        const d = decodeStu(b);
        if (d.ok) expect(Buffer.from(b).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
