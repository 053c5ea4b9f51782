// `stateos dump`: every STU header in the ring, and every corrupt region found while opening it.
import { existsSync } from 'node:fs';
import { hlcToString, isData, isSummary, isTombstone, stuId } from '../../shared/stu/index.ts';
import type { ScanEntry } from '../../shared/ring/types.ts';
import { openFileRing, ringPaths } from '../ring/file-ring.ts';

export async function dump(dir: string, json: boolean, out: (s: string) => void): Promise<number> {
  if (!existsSync(ringPaths(dir).meta)) throw new Error(`no ring in ${dir} (expected ${ringPaths(dir).meta})`);
  const entries: ScanEntry[] = [];
  const ring = await openFileRing(dir, { visit: (e) => entries.push(e), readOnly: true });
  try {
    const rows = entries.map(({ loc, header: h }) => ({
      section: loc.section,
      recSeq: loc.recSeq,
      offset: loc.offset,
      id: stuId(h),
      type: `0x${h.type.toString(16).padStart(4, '0')}`,
      object: h.object,
      flags: [isData(h) ? 'data' : 'meta', isSummary(h) ? 'summary' : '', isTombstone(h) ? 'tombstone' : ''].filter(Boolean),
      ts: h.ts.toString(),
      prevTs: h.prevTs.toString(),
      time: hlcToString(h.ts),
      user: h.user,
      bodySize: h.bodySize,
      bodyCrc: `0x${h.bodyCrc.toString(16).padStart(8, '0')}`,
    }));
    const { corrupt, recovered, tornBytes } = ring.report;
    if (json) {
      out(JSON.stringify({ stats: ring.stats(), recovered, tornBytes, corrupt, stus: rows }, null, 2));
    } else {
      for (const r of rows) {
        out(`${r.section} #${r.recSeq} @${r.offset} ${r.id} type=${r.type} object=${r.object} ${r.flags.join(',')} ts=${r.time} size=${r.bodySize}`);
      }
      for (const c of corrupt) out(`CORRUPT ${c.section} @${c.offset} length=${c.length}: ${c.reason}`);
      out(`${rows.length} STUs (${rows.filter((r) => r.section === 'meta').length} metadata, ${rows.filter((r) => r.section === 'data').length} data), ${corrupt.length} corrupt regions`);
    }
    return corrupt.length > 0 ? 3 : 0;
  } finally {
    await ring.close();
  }
}
