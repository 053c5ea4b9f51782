// Hostile inputs: arbitrary bytes, and structure-aware mutations of valid encodings (flip, set, insert,
// delete, truncate, duplicate, and size fields set to extremes), optionally repaired afterwards (checksums
// recomputed, so the mutation reaches the checks behind them). Text formats get a token soup too.
import fc from 'fast-check';

/** A field of a format: offset and width in bytes, little- or big-endian. */
export interface Field {
  at: number;
  width: 1 | 2 | 4 | 8;
  le?: boolean;
}

type Extreme = 'zero' | 'one' | 'max' | 'maxSigned' | 'minSigned' | 'len' | 'lenPlus' | 'lenMinus' | 'random';

export type Mutation =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; v: number }
  | { k: 'insert'; at: number; bytes: Uint8Array }
  | { k: 'delete'; at: number; n: number }
  | { k: 'truncate'; at: number }
  | { k: 'dup'; at: number; n: number; to: number }
  | { k: 'int'; at: number; width: 1 | 2 | 4 | 8; le: boolean; v: Extreme; r: number }
  | { k: 'field'; i: number; v: Extreme; r: number };

const extremes: Extreme[] = ['zero', 'one', 'max', 'maxSigned', 'minSigned', 'len', 'lenPlus', 'lenMinus', 'random'];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('set' as const), at: fc.nat(), v: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x00, 0x3c, 0x26, 0x0a), fc.nat(255)) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('dup' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 256 }), to: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('int' as const), at: fc.nat(), width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), le: fc.boolean(), v: fc.constantFrom(...extremes), r: fc.nat() }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('field' as const), i: fc.nat(), v: fc.constantFrom(...extremes), r: fc.nat() }) },
);

function writeInt(b: Uint8Array, at: number, width: number, le: boolean, v: Extreme, r: number): void {
  if (at + width > b.length) return;
  const bits = BigInt(width * 8);
  const max = (1n << bits) - 1n;
  const n: bigint = {
    zero: 0n,
    one: 1n,
    max,
    maxSigned: max >> 1n,
    minSigned: (max >> 1n) + 1n,
    len: BigInt(b.length),
    lenPlus: BigInt(b.length + 1),
    lenMinus: BigInt(Math.max(0, b.length - at - width)),
    random: BigInt(r),
  }[v] & max;
  for (let i = 0; i < width; i++) {
    const byte = Number((n >> BigInt(8 * i)) & 0xffn);
    b[le ? at + i : at + width - 1 - i] = byte;
  }
}

/** Applies mutations to a copy of `seed`. Positions wrap around the current length. */
export function applyMutations(seed: Uint8Array, ms: readonly Mutation[], fields: readonly Field[] = []): Uint8Array {
  let b = seed.slice();
  const pos = (at: number, extra = 0) => (b.length + extra === 0 ? 0 : at % (b.length + extra));
  for (const m of ms) {
    switch (m.k) {
      case 'flip':
        if (b.length) b[pos(m.at)] ^= 1 << m.bit;
        break;
      case 'set':
        if (b.length) b[pos(m.at)] = m.v;
        break;
      case 'insert': {
        const at = pos(m.at, 1);
        const out = new Uint8Array(b.length + m.bytes.length);
        out.set(b.subarray(0, at));
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        if (!b.length) break;
        const at = pos(m.at);
        const out = new Uint8Array(b.length - Math.min(m.n, b.length - at));
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + m.n), at);
        b = out;
        break;
      }
      case 'truncate':
        b = b.slice(0, pos(m.at, 1));
        break;
      case 'dup': {
        if (!b.length) break;
        const from = pos(m.at);
        const part = b.slice(from, from + m.n);
        const at = pos(m.to, 1);
        const out = new Uint8Array(b.length + part.length);
        out.set(b.subarray(0, at));
        out.set(part, at);
        out.set(b.subarray(at), at + part.length);
        b = out;
        break;
      }
      case 'int':
        if (b.length) writeInt(b, pos(m.at), m.width, m.le, m.v, m.r);
        break;
      case 'field': {
        if (!fields.length) break;
        const f = fields[m.i % fields.length];
        writeInt(b, f.at, f.width, f.le ?? true, m.v, m.r);
        break;
      }
    }
  }
  return b;
}

export interface MutateOptions {
  /** Size fields and the like, for the `field` mutation. */
  fields?: readonly Field[];
  /** Repairs a mutated input (checksums), applied to about half of the cases. */
  fix?: (b: Uint8Array) => Uint8Array;
  maxMutations?: number;
}

/** Valid seeds, mutated. */
export function mutated(seeds: readonly Uint8Array[], o: MutateOptions = {}): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new TypeError('mutated: no seeds');
  return fc
    .tuple(fc.nat(seeds.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: o.maxMutations ?? 6 }), fc.boolean())
    .map(([i, ms, fix]) => {
      const b = applyMutations(seeds[i], ms, o.fields);
      return fix && o.fix ? o.fix(b) : b;
    });
}

/** Random bytes, mutated seeds, and the seeds themselves. */
export function hostileBytes(seeds: readonly Uint8Array[], o: MutateOptions & { maxLength?: number } = {}): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: o.maxLength ?? 1024 }) },
    { weight: 6, arbitrary: mutated(seeds, o) },
    { weight: 1, arbitrary: fc.constantFrom(...seeds) },
  );
}

const utf8 = new TextEncoder();

/** Text made of a format's tokens, odd characters and random strings (any code point, lone surrogates too). */
export function tokenSoup(tokens: readonly string[], maxTokens = 24): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...tokens) },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
        { weight: 1, arbitrary: fc.constantFrom(' ', '\t', '\r\n', '\n', '\r', '\0', '"', "'", '<', '>', '&', '=', '/', '\u00a0', '\ufeff', '\uffff', '\ud800') },
      ),
      { maxLength: maxTokens },
    )
    .map((parts) => parts.join(''));
}

export const bytesOf = (s: string): Uint8Array => utf8.encode(s);
