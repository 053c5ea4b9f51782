// kill -9 at random moments. A child process (tests/helpers/ring-writer.ts) appends STUs of random sizes to a
// raw-file ring and prints "ack" only once an append resolved; the test kills it with SIGKILL, reopens the
// ring, and checks that every acknowledged STU that was not evicted is there byte for byte, that the records
// are contiguous, and that nothing is reported corrupt. Each cycle's child continues the same ring.
// The page cache survives SIGKILL, so every fsync policy ('always', 'interval', and 'none' in a few cycles)
// must keep every acknowledged STU.
//
// RING_CRASH_CYCLES sets the number of cycles (default 40); the test also stops starting cycles after 45 s.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { align, PREFIX_SIZE, REGION_START } from '../../../shared/ring/record.ts';
import type { FsyncPolicy, Section } from '../../../shared/ring/types.ts';
import { reencodeStu } from '../../../shared/stu/header.ts';
import { openFileRing } from '../../../node-peer/ring/file-ring.ts';
import { crashStu, type WriterConfig } from '../../helpers/ring-writer.ts';
import { prng } from '../../../shared/util/prng.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const WRITER = join(ROOT, 'tests/helpers/ring-writer.ts');
const CYCLES = Number(process.env.RING_CRASH_CYCLES ?? 40);
const BUDGET_MS = 45_000;

/** Two rings: a small one that wraps and evicts in every cycle, a larger one that fills over many cycles. */
const RINGS = [
  { name: 'small', metaBytes: REGION_START + 96 * 1024, dataBytes: REGION_START + 1024 * 1024 },
  { name: 'large', metaBytes: REGION_START + 2 * 1024 * 1024, dataBytes: REGION_START + 24 * 1024 * 1024 },
];

/** What the parent knows about one ring across cycles. */
interface RingState {
  dir: string;
  metaBytes: number;
  dataBytes: number;
  /** Acknowledged records still owed: recSeq -> seq, per section. */
  acked: Record<Section, Map<number, number>>;
  /** Records up to this recSeq were evicted by the current child (they may or may not survive). */
  evictedUpTo: Record<Section, number>;
}

interface CycleResult {
  lines: string[];
  killed: boolean;
  stderr: string;
}

function runChild(config: WriterConfig, killAt: { after: 'opening' | 'ready'; ms: number }): Promise<CycleResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, JSON.stringify(config)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let partial = '';
    let stderr = '';
    let killed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`ring-writer did not get ready in 20 s: ${stderr}`));
    }, 20_000);
    const kill = () => {
      killed = child.kill('SIGKILL');
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (timer === undefined && line.split(' ')[0] === killAt.after) {
          clearTimeout(guard);
          timer = setTimeout(kill, killAt.ms);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      // A line cut by the kill never counts.
      if (signal !== 'SIGKILL' && code !== 0) fail(new Error(`ring-writer exited with ${code}: ${stderr}`));
      else done({ lines, killed: killed && signal === 'SIGKILL', stderr });
    });
  });
}

interface Survivor {
  recSeq: number;
  offset: number;
  seq: number;
  length: number;
}

const expectedCache = new Map<number, Uint8Array>();
function expectedStu(seq: number): Uint8Array {
  let stu = expectedCache.get(seq);
  if (!stu) expectedCache.set(seq, (stu = crashStu(seq)));
  return stu;
}

/** Reopens the ring and checks it against what the children acknowledged. Returns what it found. */
async function verify(state: RingState, label: string) {
  let visited = 0;
  const ring = await openFileRing(state.dir, { metaBytes: state.metaBytes, dataBytes: state.dataBytes, fsync: { mode: 'none' }, visit: () => visited++ });
  const found: Record<Section, Survivor[]> = { meta: [], data: [] };
  try {
    expect(ring.report.corrupt, `${label}: nothing corrupt`).toEqual([]);
    const stats = ring.stats();
    for (const section of ['meta', 'data'] as const) {
      const capacity = stats[section].capacity;
      const list = found[section];
      for await (const e of ring.scan(section)) list.push({ recSeq: e.loc.recSeq, offset: e.loc.offset, seq: e.header.seq, length: PREFIX_SIZE + 512 + e.header.bodySize });
      // Contiguous: each record starts where the previous ends, or at 0 after a wrap (marker or not).
      for (let i = 1; i < list.length; i++) {
        const a = list[i - 1];
        const b = list[i];
        const end = a.offset + align(a.length);
        const wrapped = b.offset !== end;
        const what = `${label}: ${section} records ${a.recSeq}@${a.offset} -> ${b.recSeq}@${b.offset}`;
        expect(b.seq, `${what}: STU seqs increase`).toBeGreaterThan(a.seq);
        if (!wrapped) expect(b.recSeq, `${what}: consecutive`).toBe(a.recSeq + 1);
        else {
          expect(b.offset, `${what}: a gap only where the region wraps`).toBe(0);
          expect(b.recSeq, `${what}: one wrap marker at most`).toBe(a.recSeq + (capacity - end >= PREFIX_SIZE ? 2 : 1));
        }
      }
      // Byte for byte, every record found.
      for (const s of list) {
        const r = await ring.read({ section, recSeq: s.recSeq, offset: s.offset });
        expect(r.ok, `${label}: ${section} record ${s.recSeq} (seq ${s.seq}) reads: ${r.ok ? '' : r.error.message}`).toBe(true);
        if (r.ok) expect(Buffer.compare(reencodeStu(r.value), expectedStu(s.seq)), `${label}: ${section} seq ${s.seq} byte for byte`).toBe(0);
      }
      // Every acknowledged record not evicted is there, under the same recSeq.
      const bySeq = new Map(list.map((s) => [s.recSeq, s.seq]));
      for (const [recSeq, seq] of state.acked[section]) {
        if (recSeq <= state.evictedUpTo[section]) continue;
        expect(bySeq.get(recSeq), `${label}: acknowledged ${section} seq ${seq} (record ${recSeq}) survives`).toBe(seq);
      }
      // What is still owed from now on: the acknowledged records that survived.
      for (const recSeq of state.acked[section].keys()) if (!bySeq.has(recSeq)) state.acked[section].delete(recSeq);
      state.evictedUpTo[section] = 0;
    }
    expect(visited, `${label}: visit saw every record`).toBe(found.meta.length + found.data.length);
    return { found, report: ring.report };
  } finally {
    await ring.close();
  }
}

describe('raw-file ring under kill -9', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'stateos-crash-'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it(`keeps every acknowledged STU across ${CYCLES} SIGKILLs`, { timeout: 120_000 }, async () => {
    const seed = Number(process.env.RING_CRASH_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    const states: RingState[] = RINGS.map((r) => ({
      dir: join(base, r.name),
      metaBytes: r.metaBytes,
      dataBytes: r.dataBytes,
      acked: { meta: new Map(), data: new Map() },
      evictedUpTo: { meta: 0, data: 0 },
    }));
    const started = Date.now();
    const totals = { cycles: 0, killed: 0, acks: 0, evictions: 0, recovered: 0, torn: 0, always: 0, interval: 0, none: 0, duringOpen: 0 };
    for (let cycle = 0; cycle < CYCLES && Date.now() - started < BUDGET_MS; cycle++) {
      const state = states[cycle % states.length];
      const r = rand();
      const fsync: FsyncPolicy = r < 0.4 ? { mode: 'always' } : r < 0.85 ? { mode: 'interval', ms: 5 + Math.floor(rand() * 60) } : { mode: 'none' };
      const config: WriterConfig = {
        dir: state.dir,
        metaBytes: state.metaBytes,
        dataBytes: state.dataBytes,
        fsync,
        batchBytes: [64 * 1024, 256 * 1024, 1 << 20][Math.floor(rand() * 3)],
        concurrency: 1 + Math.floor(rand() * 8),
        maxAppends: 50_000,
        maxMs: 5_000,
      };
      // Mostly while appending; one cycle in ten while the ring is being opened and recovered.
      const killAt = rand() < 0.1 ? { after: 'opening' as const, ms: Math.floor(rand() * 15) } : { after: 'ready' as const, ms: 20 + Math.floor(rand() * 280) };
      const label = `seed ${seed} cycle ${cycle} (${state.dir.split('/').pop()}, fsync ${fsync.mode}, ${config.concurrency} in flight, kill ${killAt.ms} ms after ${killAt.after})`;
      const { lines, killed } = await runChild(config, killAt);
      for (const line of lines) {
        const [what, section, a, b] = line.split(' ');
        if (what === 'ack') {
          state.acked[section as Section].set(Number(b), Number(a));
          totals.acks++;
        } else if (what === 'evict') {
          state.evictedUpTo[section as Section] = Math.max(state.evictedUpTo[section as Section], Number(a));
          totals.evictions++;
        }
      }
      const { report } = await verify(state, label);
      totals.cycles++;
      if (killed) totals.killed++;
      totals[fsync.mode]++;
      if (killAt.after === 'opening') totals.duringOpen++;
      totals.recovered += report.recovered;
      if (report.tornBytes > 0) totals.torn++;
      // Keep the cache of expected STUs from growing without end.
      if (expectedCache.size > 20_000) expectedCache.clear();
    }
    console.log(`ring crash test, seed ${seed}: ${JSON.stringify(totals)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(totals.cycles).toBeGreaterThanOrEqual(Math.min(CYCLES, 10));
    expect(totals.killed, 'most children were killed, not finished').toBeGreaterThan(totals.cycles / 2);
    expect(totals.acks).toBeGreaterThan(totals.cycles * 10);
    expect(totals.evictions, 'the small ring wrapped and evicted').toBeGreaterThan(0);
  });
});
