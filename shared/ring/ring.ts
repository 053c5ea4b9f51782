// A Ring made of two sections, each on its own BlockDevice.
import { checkHeader, Flag } from '../stu/header.ts';
import type { Result } from '../stu/index.ts';
import { RingSection } from './section.ts';
import {
  type BlockDevice,
  type Loc,
  type OpenReport,
  type Ring,
  RingError,
  type RingOptions,
  type ScanEntry,
  type Section,
  type SectionStats,
  type StoredStu,
} from './types.ts';

export interface OpenRingOptions extends RingOptions {
  /** Called for every intact record found while opening: metadata with bodies, data headers only. */
  visit?: (entry: ScanEntry) => void;
}

export async function openRing(devices: Record<Section, BlockDevice>, opts: OpenRingOptions = {}): Promise<Ring> {
  const listeners = new Set<(locs: Loc[]) => void>();
  const sectionOpts = {
    fsync: opts.fsync ?? { mode: 'interval', ms: 50 },
    batchBytes: opts.batchBytes ?? 1 << 20,
    readOnly: opts.readOnly,
    limits: { maxBody: opts.maxBody },
    onEvict: (locs: Loc[]) => {
      for (const l of listeners) l(locs);
    },
  } as const;
  const meta = new RingSection('meta', devices.meta, { ...sectionOpts, retain: opts.retain });
  const data = new RingSection('data', devices.data, sectionOpts);
  const m = await meta.load(true, opts.visit);
  const d = await data.load(false, opts.visit);
  const report: OpenReport = {
    recovered: m.recovered + d.recovered,
    tornBytes: m.tornBytes + d.tornBytes,
    corrupt: [...m.corrupt, ...d.corrupt],
    live: { meta: meta.stats().records, data: data.stats().records },
  };
  return new SectionedRing(meta, data, report, listeners, opts.maxBody);
}

class SectionedRing implements Ring {
  constructor(
    private readonly meta: RingSection,
    private readonly data: RingSection,
    readonly report: OpenReport,
    private readonly listeners: Set<(locs: Loc[]) => void>,
    private readonly maxBody: number | undefined,
  ) {}

  private section(s: Section): RingSection {
    return s === 'meta' ? this.meta : this.data;
  }

  append(stu: Uint8Array): Promise<Loc> {
    const h = checkHeader(stu, 0, { maxBody: this.maxBody });
    if (!h.ok) return Promise.reject(h.error);
    if (stu.length !== 512 + h.value.bodySize) {
      return Promise.reject(new RingError('CORRUPT', `STU is ${stu.length} bytes, its header says ${512 + h.value.bodySize}`));
    }
    return (h.value.flags & Flag.DATA ? this.data : this.meta).append(stu);
  }

  read(loc: Loc): Promise<Result<StoredStu, RingError>> {
    return this.section(loc.section).read(loc);
  }

  async readMany(locs: readonly Loc[]): Promise<Result<StoredStu, RingError>[]> {
    if (locs.every((l) => l.section === locs[0]?.section)) return locs.length ? this.section(locs[0].section).readMany(locs) : [];
    return Promise.all(locs.map((l) => this.read(l)));
  }

  scan(section: Section, opts: { bodies?: boolean } = {}): AsyncIterable<ScanEntry> {
    return this.section(section).records(section === 'meta' || opts.bodies === true);
  }

  async flush(): Promise<void> {
    await Promise.all([this.meta.flush(), this.data.flush()]);
  }

  onEvict(listener: (locs: Loc[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): Record<Section, SectionStats> {
    return { meta: this.meta.stats(), data: this.data.stats() };
  }

  async close(): Promise<void> {
    await Promise.all([this.meta.close(), this.data.close()]);
  }
}
