// The short run of the fuzz program (fuzz/, `npm run fuzz` for the long one): every target with its small
// CI budget, in this process. A failure names the target, the seed and the shrunk counterexample; replay it
// with `npm run fuzz -- --only NAME --seed SEED --path PATH`. FUZZ_SEED picks another seed.
import { describe, expect, it } from 'vitest';
import { HANG_MS, runTarget } from '../../../fuzz/lib/harness.ts';
import { TARGETS } from '../../../fuzz/targets/index.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
/** The whole suite runs beside this on two cores: a GC pause or a descheduled process is not a hang. */
const CI_HANG_MS = 5 * HANG_MS;

describe('fuzz, short run', () => {
  it('has every decoder that reads bytes from outside', () => {
    const names = TARGETS.map((t) => t.name);
    for (const n of ['stu', 'stx-batch', 'stx-message', 'transfer-frames', 'sync-wire', 'discovery', 'upload', 'demux', 'object-apps', 'ring-record', 'rtsp-parser', 'http', 'rtsp']) expect(names).toContain(n);
    expect(TARGETS.reduce((n, t) => n + t.cases, 0)).toBeGreaterThanOrEqual(1_000_000);
  });

  for (const t of TARGETS) {
    it(`${t.name}: ${t.ci} cases, no crash, no hang`, async () => {
      const r = await runTarget(t, { cases: t.ci, seed: SEED, hangMs: CI_HANG_MS });
      const f = r.failure;
      expect(f, f && `${t.name} failed (seed ${f.seed}${f.path ? `, path ${f.path}` : ''}): ${f.error}\ncounterexample: ${f.input}`).toBeUndefined();
      expect(r.cases).toBe(t.ci);
      expect(r.maxMs).toBeLessThanOrEqual(CI_HANG_MS);
    });
  }
});
