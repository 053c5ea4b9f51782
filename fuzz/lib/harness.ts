// The fuzz harness: a target is a fast-check arbitrary of hostile inputs and an oracle that says which
// outcomes a decoder may have (a typed error or a value, never anything else). runTarget runs a target in
// chunks of cases (each chunk one fc.check with its own seed, so a failure is reproduced by that seed and
// path alone), times every case, and returns what it saw. Used by fuzz/run.ts (the long run) and by
// tests/unit/fuzz/ (the short run in CI).
import fc from 'fast-check';

/** A case that takes longer than this is a failure (a hang, or close to one). */
export const HANG_MS = 1000;
/** Memory this process may hold after a chunk (array buffers): more means some size field was trusted. */
export const MAX_ARRAY_BUFFERS = 512 * 1024 * 1024;
/** Growth of array-buffer memory during one case that counts as an absurd allocation (memoryProbe targets). */
export const MAX_CASE_GROWTH = 64 * 1024 * 1024;

/** One target, ready: the inputs, the oracle, and how to show an input. */
export interface Prepared<T> {
  arb: fc.Arbitrary<T>;
  /** Runs one case; throws when the outcome is not one the decoder may have. */
  check(input: T): void | Promise<void>;
  /** The input as hex (or text), for the report. */
  show(input: T): string;
  close?(): Promise<void>;
}

export interface Target {
  name: string;
  /** The decoders it reaches, with their files. */
  what: string;
  /** Cases of the long run (npm run fuzz). */
  cases: number;
  /** Cases of the short run in CI. */
  ci: number;
  /** Each case is a socket round trip to a running server. */
  network?: boolean;
  /** The oracle returns a promise (run with fc.asyncProperty). */
  async?: boolean;
  /** Cases per fc.check call (default 1000). */
  chunk?: number;
  /** Measure array-buffer memory around every case (a size field trusted shows as a jump). */
  memoryProbe?: boolean;
  prepare(): Promise<Prepared<unknown>>;
}

/** Declares a target; erases the input type for the list of targets. */
export function target<T>(t: Omit<Target, 'prepare'> & { prepare(): Promise<Prepared<T>> | Prepared<T> }): Target {
  return { ...t, prepare: async () => (await t.prepare()) as Prepared<unknown> };
}

/** An outcome the oracle refuses. */
export class Unexpected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Unexpected';
  }
}

export function expect(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Unexpected(message);
}

export interface Failure {
  /** The seed of the chunk that failed: `--only NAME --seed SEED` replays it from its first case. */
  seed: number;
  /** fast-check's path to the shrunk counterexample (`--path`). */
  path?: string;
  /** The shrunk counterexample. */
  input: string;
  error: string;
}

export interface TargetResult {
  name: string;
  cases: number;
  failures: number;
  /** Slowest case, ms. */
  maxMs: number;
  /** Wall time of the whole target, ms. */
  ms: number;
  network: boolean;
  failure?: Failure;
}

export interface RunOptions {
  /** A case slower than this is a hang (default HANG_MS; the CI run inside the whole suite allows more). */
  hangMs?: number;
  cases: number;
  seed: number;
  /** Replays one path of the first chunk (from a failure report). */
  path?: string;
  onProgress?(cases: number, ms: number, maxMs: number): void;
}

export const hex = (b: Uint8Array, max = 4096): string => {
  const h = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, max)).toString('hex');
  return b.length > max ? `${h}… (${b.length} bytes)` : h;
};

const describe = (e: unknown): string => {
  if (e instanceof Error) return (e.stack ?? `${e.name}: ${e.message}`).split('\n').slice(0, 8).join('\n');
  return String(e);
};

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs `cases` cases of a target; stops at the first failure (shrunk). */
export async function runTarget(t: Target, opts: RunOptions): Promise<TargetResult> {
  const started = performance.now();
  const hangMs = opts.hangMs ?? HANG_MS;
  const p = await t.prepare();
  let maxMs = 0;
  let done = 0;
  let failure: Failure | undefined;
  const timed = (ms: number) => {
    if (ms > maxMs) maxMs = ms;
    if (ms > hangMs) throw new Unexpected(`one case took ${ms.toFixed(0)} ms (limit ${hangMs} ms)`);
  };
  const arrayBuffers = () => (t.memoryProbe ? process.memoryUsage().arrayBuffers : 0);
  const grown = (before: number) => {
    const g = arrayBuffers() - before;
    if (g > MAX_CASE_GROWTH) throw new Unexpected(`array buffers grew by ${(g / 1048576).toFixed(0)} MiB in one case (limit ${MAX_CASE_GROWTH / 1048576} MiB)`);
  };
  const prop = t.async
    ? fc.asyncProperty(p.arb, async (x) => {
        const m0 = arrayBuffers();
        const t0 = performance.now();
        await p.check(x);
        timed(performance.now() - t0);
        grown(m0);
      })
    : fc.property(p.arb, (x) => {
        const m0 = arrayBuffers();
        const t0 = performance.now();
        const r = p.check(x);
        if (r instanceof Promise) throw new Unexpected('a synchronous target returned a promise');
        timed(performance.now() - t0);
        grown(m0);
      });
  const chunk = Math.max(1, t.chunk ?? 1000);
  try {
    for (let i = 0; done < opts.cases && !failure; i++) {
      const seed = (opts.seed + i * 0x9e3779b1) | 0;
      const numRuns = Math.min(chunk, opts.cases - done);
      const params: fc.Parameters<[unknown]> = { numRuns, seed, ...(i === 0 && opts.path ? { path: opts.path } : {}) };
      const d = await fc.check(prop as fc.IRawProperty<[unknown]>, params);
      done += d.numRuns;
      if (d.failed) {
        const input = d.counterexample ? p.show(d.counterexample[0]) : '(none)';
        failure = { seed, path: d.counterexamplePath ?? undefined, input, error: describe(d.errorInstance) };
      } else if (d.numRuns === 0) break;
      const ab = process.memoryUsage().arrayBuffers;
      if (!failure && ab > MAX_ARRAY_BUFFERS) {
        failure = { seed, input: '(the whole chunk)', error: `array buffers at ${(ab / 1048576).toFixed(0)} MiB after the chunk (limit ${MAX_ARRAY_BUFFERS / 1048576} MiB)` };
      }
      opts.onProgress?.(done, performance.now() - started, maxMs);
      await yieldToLoop();
      if (opts.path) break;
    }
  } finally {
    await p.close?.();
  }
  return { name: t.name, cases: done, failures: failure ? 1 : 0, maxMs, ms: performance.now() - started, network: t.network === true, failure };
}
