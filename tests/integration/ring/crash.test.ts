// kill -9 at random moments. A child process (tests/helpers/ring-writer.ts) appends STUs of random sizes to a
// raw-file ring and logs "ack" only once an append resolved; the test kills it with SIGKILL, reopens the
// ring, and checks that every acknowledged STU that was not evicted is there byte for byte, that the records
// are contiguous, and that nothing is reported corrupt. Each cycle's child continues the same ring.
// The child's acks and evictions come from a log file it writes synchronously, not from its stdout, which
// loses what Node still had queued for it at SIGKILL (see ring-writer.ts): that once made records the child
// had evicted look lost. As a check on the log itself, the ring may hold no more of the child's STUs past its
// last acknowledgement than it had appends in flight.
// The page cache survives SIGKILL, so every fsync policy ('always', 'interval', and 'none' in a few cycles)
// must keep every acknowledged STU.
//
// RING_CRASH_CYCLES sets the number of cycles (default 40); the test also stops starting cycles after 45 s
// (RING_CRASH_BUDGET_MS). RING_CRASH_SEED replays a run.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { align, decodeSuperblock, PREFIX_SIZE, readPrefix, REGION_START, SUPERBLOCK_SIZE } from '../../../shared/ring/record.ts';
import type { FsyncPolicy, Section } from '../../../shared/ring/types.ts';
import { reencodeStu } from '../../../shared/stu/header.ts';
import { openFileRing, ringPaths } from '../../../node-peer/ring/file-ring.ts';
import { crashStu, type WriterConfig } from '../../helpers/ring-writer.ts';
import { prng } from '../../../shared/util/prng.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const WRITER = join(ROOT, 'tests/helpers/ring-writer.ts');
const CYCLES = Number(process.env.RING_CRASH_CYCLES ?? 40);
const BUDGET_MS = Number(process.env.RING_CRASH_BUDGET_MS ?? 45_000);

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
  /** Where and in which cycle each acknowledged record was written (for the diagnosis of a failure). */
  ackedAt: Record<Section, Map<number, { offset: number; cycle: number }>>;
  /** The last child's stdout. */
  lines: string[];
}

interface CycleResult {
  /** The child's log: every complete line. */
  lines: string[];
  killed: boolean;
  stderr: string;
}

function runChild(config: WriterConfig, killAt: { after: 'opening' | 'ready'; ms: number }): Promise<CycleResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, JSON.stringify(config)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
    // stdout carries only "opening" and "ready", to time the kill; the rest is in the log.
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
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
      if (signal !== 'SIGKILL' && code !== 0) {
        fail(new Error(`ring-writer exited with ${code}: ${stderr}`));
        return;
      }
      readFile(config.log, 'utf8').then(
        (text) => {
          const logged = text.split('\n');
          logged.pop(); // empty, or a line cut by the kill: it never counts
          done({ lines: logged, killed: killed && signal === 'SIGKILL', stderr });
        },
        (e: unknown) => (signal === 'SIGKILL' ? done({ lines: [], killed, stderr }) : fail(e)), // killed before it opened its log
      );
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

const superblocks = (bytes: Uint8Array) =>
  [0, 1].map((i) => JSON.stringify(decodeSuperblock(bytes.subarray(i * SUPERBLOCK_SIZE, (i + 1) * SUPERBLOCK_SIZE)) ?? 'invalid'));

/** What a failed check needs to be understood: superblocks and records before the reopen, what it found. */
async function diagnose(state: RingState, section: Section, recSeq: number, before: Uint8Array, list: Survivor[], report: unknown): Promise<string> {
  const out: string[] = [];
  const at = state.ackedAt[section].get(recSeq);
  out.push(`missing ${section} record ${recSeq}, acknowledged at offset ${at?.offset} in cycle ${at?.cycle}`);
  out.push(`superblocks before the reopen: ${superblocks(before).join(' | ')}`);
  out.push(`open report: ${JSON.stringify(report)}`);
  out.push(`found ${list.length} records: ${list[0]?.recSeq}@${list[0]?.offset} .. ${list.at(-1)?.recSeq}@${list.at(-1)?.offset}`);
  const near = list.filter((s) => Math.abs(s.recSeq - recSeq) <= 4).map((s) => `${s.recSeq}@${s.offset}(seq ${s.seq}, ${s.length} B)`);
  out.push(`found near it: ${near.join(' ') || 'none'}`);
  if (at) {
    const p = readPrefix(before, REGION_START + at.offset);
    out.push(`prefix at its offset before the reopen: ${JSON.stringify(p ?? 'invalid')}`);
  }
  // Every valid prefix in the region, in the neighbourhood of the record (by recSeq), before the reopen.
  const prefixes: string[] = [];
  for (let pos = 0; pos + PREFIX_SIZE <= before.length - REGION_START; pos += 8) {
    const p = readPrefix(before, REGION_START + pos);
    if (p && Math.abs(p.recSeq - recSeq) <= 6) prefixes.push(`${p.recSeq}@${pos}${p.magic === 0x50415257 ? '(wrap)' : `(${p.length})`}`);
  }
  out.push(`valid prefixes near it before the reopen: ${prefixes.join(' ')}`);
  const kept = join(tmpdir(), `stateos-crash-failed-${process.pid}-${Date.now()}`);
  await cp(state.dir, kept, { recursive: true });
  out.push(`ring kept in ${kept} (after the reopen)`);
  out.push(`last child lines:\n  ${state.lines.filter((l) => !l.startsWith('ack') || l.startsWith(`ack ${section}`)).slice(-40).join('\n  ')}`);
  return out.join('\n');
}

/** The last child, from its log. */
interface ChildRun {
  /** The highest seq it found at open, or acknowledged: every STU after it was appended but not acknowledged. */
  after: number;
  inFlight: number;
}

/** Reopens the ring and checks it against what the children acknowledged. Returns what it found. */
async function verify(state: RingState, label: string, child: ChildRun | undefined) {
  let visited = 0;
  const paths = ringPaths(state.dir);
  // For a diagnosis; the files do not exist yet when the first child was killed while creating them.
  const raw = (path: string) => readFile(path).catch((): Uint8Array => new Uint8Array(0));
  const before: Record<Section, Uint8Array> = { meta: await raw(paths.meta), data: await raw(paths.data) };
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
    }
    // Each append of the child is acknowledged in its log once it resolves: more STUs past the last
    // acknowledgement than appends in flight mean the log lost lines, and the checks below would mislead.
    if (child) {
      const unacked = [...found.meta, ...found.data].filter((s) => s.seq > child.after).map((s) => s.seq);
      expect(unacked.length, `${label}: STUs past the child's last acknowledged seq ${child.after}: ${unacked.join()}`).toBeLessThanOrEqual(child.inFlight);
    }
    for (const section of ['meta', 'data'] as const) {
      const list = found[section];
      // Every acknowledged record not evicted is there, under the same recSeq.
      const bySeq = new Map(list.map((s) => [s.recSeq, s.seq]));
      for (const [recSeq, seq] of state.acked[section]) {
        if (recSeq <= state.evictedUpTo[section]) continue;
        if (bySeq.get(recSeq) !== seq) console.error(`${label}: ${await diagnose(state, section, recSeq, before[section], list, ring.report)}`);
        expect(bySeq.get(recSeq), `${label}: acknowledged ${section} seq ${seq} (record ${recSeq}) survives`).toBe(seq);
      }
      // What is still owed from now on: the acknowledged records that survived.
      for (const recSeq of state.acked[section].keys()) {
        if (!bySeq.has(recSeq)) {
          state.acked[section].delete(recSeq);
          state.ackedAt[section].delete(recSeq);
        }
      }
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

  it(`keeps every acknowledged STU across ${CYCLES} SIGKILLs`, { timeout: BUDGET_MS + 75_000 }, async () => {
    const seed = Number(process.env.RING_CRASH_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    const states: RingState[] = RINGS.map((r) => ({
      dir: join(base, r.name),
      metaBytes: r.metaBytes,
      dataBytes: r.dataBytes,
      acked: { meta: new Map(), data: new Map() },
      evictedUpTo: { meta: 0, data: 0 },
      ackedAt: { meta: new Map(), data: new Map() },
      lines: [],
    }));
    const started = Date.now();
    const totals = { cycles: 0, killed: 0, acks: 0, evictions: 0, recovered: 0, torn: 0, always: 0, interval: 0, none: 0, duringOpen: 0 };
    for (let cycle = 0; cycle < CYCLES && Date.now() - started < BUDGET_MS; cycle++) {
      const state = states[cycle % states.length];
      const r = rand();
      const fsync: FsyncPolicy = r < 0.4 ? { mode: 'always' } : r < 0.85 ? { mode: 'interval', ms: 5 + Math.floor(rand() * 60) } : { mode: 'none' };
      const config: WriterConfig = {
        dir: state.dir,
        log: join(base, `cycle-${cycle}.log`),
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
      await rm(config.log, { force: true });
      state.lines = lines;
      for (const line of lines) {
        const [what, section, a, b, c] = line.split(' ');
        if (what === 'ack') {
          state.acked[section as Section].set(Number(b), Number(a));
          state.ackedAt[section as Section].set(Number(b), { offset: Number(c), cycle });
          totals.acks++;
        } else if (what === 'evict') {
          state.evictedUpTo[section as Section] = Math.max(state.evictedUpTo[section as Section], Number(a));
          totals.evictions++;
        }
      }
      const ready = lines.find((l) => l.startsWith('ready '));
      let after = ready ? Number(ready.split(' ')[1]) : 0;
      for (const l of lines) if (l.startsWith('ack ')) after = Math.max(after, Number(l.split(' ')[2]));
      const { report } = await verify(state, label, ready ? { after, inFlight: config.concurrency } : undefined);
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
