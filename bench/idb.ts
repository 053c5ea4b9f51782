// The IndexedDB ring in Chromium: appends per second and MiB/s, each next to the baseline measured in the
// same run and the same browser, raw IndexedDB puts of the same STU bytes (one value per STU, keys reused
// as the ring reuses its space) in transactions of the same size and durability. The device alone (the
// batch's bytes written and synced, without the ring engine) shows where the difference is spent. The
// workloads run in tests/browser/pages/idb-bench.ts. `npx tsx bench/run.ts --only idb [--quick]`
import type { FsyncPolicy } from '../shared/ring/types.ts';
import { startBrowserEnv } from '../tests/browser/helpers/index.ts';
import type { Run, Workload } from '../tests/browser/pages/idb-bench.ts';
import type { Figure } from './figure.ts';

const MiB = 1024 * 1024;

interface Case {
  label: string;
  stuBytes: number;
  batch: number;
  count: number;
  quickCount: number;
  fsync?: FsyncPolicy;
  /** Also report MiB/s. */
  bytes: boolean;
  /** Also measure the device alone (each batch's bytes written and synced, no ring engine). */
  device: boolean;
}

const CASES: Case[] = [
  { label: '4 KiB STUs, 64 in flight', stuBytes: 4096, batch: 64, count: 6400, quickCount: 1280, bytes: true, device: true },
  { label: '64 KiB STUs, 16 in flight', stuBytes: 65536, batch: 16, count: 1280, quickCount: 320, bytes: true, device: true },
  { label: '4 KiB STUs, one at a time', stuBytes: 4096, batch: 1, count: 400, quickCount: 100, bytes: false, device: true },
  {
    label: '4 KiB STUs, one at a time, fsync interval',
    stuBytes: 4096,
    batch: 1,
    count: 1000,
    quickCount: 200,
    fsync: { mode: 'interval', ms: 50 },
    bytes: false,
    device: false,
  },
];

/** The best run of each side, as the other benchmarks keep (the VM's disk varies 2-3x between runs). */
const best = (xs: number[]) => Math.max(...xs);
const perSecond = (r: Run) => (r.count / r.ms) * 1000;
const mibPerSecond = (r: Run) => (r.bytes / MiB / r.ms) * 1000;

export async function benchIdb({ quick }: { quick: boolean }): Promise<Figure[]> {
  const reps = quick ? 1 : 3;
  const env = await startBrowserEnv();
  const figures: Figure[] = [];
  try {
    const { page, errors } = await env.open('/tests/browser/pages/idb-bench.html', '!!window.stateosBench');
    for (const c of CASES) {
      // The ring's data section (64 MiB) wraps in the longer runs, so eviction is part of what is measured.
      const w: Workload = { stuBytes: c.stuBytes, batch: c.batch, count: quick ? c.quickCount : c.count, capacity: 64 * MiB, fsync: c.fsync };
      const runs: Record<'ring' | 'raw' | 'device', Run[]> = { ring: [], raw: [], device: [] };
      const kinds = c.device ? (['raw', 'ring', 'device'] as const) : (['raw', 'ring'] as const);
      for (let i = 0; i < reps; i++) {
        // Interleaved, so drift in the machine's load hits all alike.
        for (const k of kinds) runs[k].push(await page.evaluate(([kind, x]) => window.stateosBench![kind](x), [k, w] as const));
        const say = kinds.map((k) => `${k} ${perSecond(runs[k][i]).toFixed(0)}/s`).join(', ');
        process.stderr.write(`idb ${c.label}: run ${i + 1}/${reps}: ${say}\n`);
      }
      const figure = (kind: 'ring' | 'device', name: string, unit: string, f: (r: Run) => number): Figure => {
        const value = best(runs[kind].map(f));
        const baseline = best(runs.raw.map(f));
        return { name, value, unit, baseline, baselineName: 'raw IndexedDB puts', ratio: value / baseline };
      };
      const unit = c.bytes ? 'MiB/s' : 'appends/s';
      figures.push(figure('ring', `idb ring append, ${c.label}`, 'appends/s', perSecond));
      if (c.bytes) figures.push(figure('ring', `idb ring append, ${c.label}`, 'MiB/s', mibPerSecond));
      if (c.device) figures.push(figure('device', `idb device alone (write+sync), ${c.label}`, unit, c.bytes ? mibPerSecond : perSecond));
    }
    if (errors.length) throw new Error(`the benchmark page reported errors: ${errors.join('; ')}`);
  } finally {
    await env.close();
  }
  return figures;
}
