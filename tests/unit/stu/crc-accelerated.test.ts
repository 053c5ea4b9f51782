import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { installFastCrc32c } from '../../../node-peer/crc.ts';
import { crc32c, crc32cPortable, setCrc32cImpl } from '../../../shared/stu/crc32c.ts';

describe('hardware CRC32C in node-peer', () => {
  afterAll(() => setCrc32cImpl(undefined));

  it('loads, and agrees with the portable one on every length, offset and continuation', () => {
    expect(installFastCrc32c()).toBe(true);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 0xffff_ffff }), (data, a, b, seed) => {
        const start = data.length ? a % data.length : 0;
        const end = start + (data.length - start ? b % (data.length - start + 1) : 0);
        expect(crc32c(data, seed, start, end)).toBe(crc32cPortable(data, seed, start, end));
      }),
      { numRuns: 1000 },
    );
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff);
    expect(crc32c(big.subarray(40_000), crc32c(big.subarray(0, 40_000)))).toBe(crc32cPortable(big));
  });
});
