// `npm run bench [-- --quick] [-- --only ring,ingest,idb]`: every benchmark, each figure next to a baseline
// measured in the same run, and bench/results.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installFastCrc32c } from '../node-peer/crc.ts';
import { type Figure, formatFigure } from './figure.ts';

type Bench = (opts: { quick: boolean }) => Promise<Figure[]>;

const suites: Record<string, () => Promise<Bench>> = {
  ring: async () => (await import('./ring.ts')).benchRing,
  ingest: async () => (await import('./ingest.ts')).benchIngest,
  idb: async () => (await import('./idb.ts')).benchIdb,
  webrtc: async () => (await import('./webrtc.ts')).benchWebrtc,
  sync: async () => (await import('./sync.ts')).benchSync,
  'media-net': async () => (await import('./media-net.ts')).benchMediaNet,
  rtsp: async () => (await import('./rtsp.ts')).benchRtsp,
  segments: async () => (await import('./segments.ts')).benchSegments,
  upload: async () => (await import('./upload.ts')).benchUpload,
  player: async () => (await import('./player.ts')).benchPlayer,
  demo: async () => (await import('./demo.ts')).benchDemo,
  api: async () => (await import('./api.ts')).benchApi,
};

async function main(): Promise<void> {
  // The figures are the server's: with the hardware CRC32C it installs (portable: STATEOS_PORTABLE_CRC=1).
  if (!process.env.STATEOS_PORTABLE_CRC && !installFastCrc32c()) console.error('hardware CRC32C did not load');
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : Object.keys(suites);
  const results: (Figure & { suite: string })[] = [];
  let failed = 0;
  for (const name of only) {
    const load = suites[name];
    if (!load) throw new Error(`unknown benchmark "${name}" (have: ${Object.keys(suites).join(', ')})`);
    process.stderr.write(`\n== ${name}${quick ? ' (quick)' : ''} ==\n`);
    try {
      const figures = await (await load())({ quick });
      for (const f of figures) {
        console.log(formatFigure(f));
        results.push({ suite: name, ...f });
      }
    } catch (e) {
      failed++;
      console.error(`benchmark ${name} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
  const out = join(import.meta.dirname, 'results.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), quick, node: process.version, results }, null, 2) + '\n');
  process.stderr.write(`\nwrote ${out}\n`);
  if (failed) process.exitCode = 1;
}

await main();
