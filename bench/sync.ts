// Sync between two state server processes over each WebRTC backend: catch-up of 100k metadata STUs
// (Register, then a data channel) and of 1 GiB of data STUs (GetSTU by id range, POST /api/pull), next to
// the raw data channel of the same backend between two processes and TCP loopback, measured in this run.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLogger } from '../shared/log.ts';
import { Flag, newGuid, NIL_GUID } from '../shared/stu/index.ts';
import { SIGNALING_OPTIONS } from '../shared/stx/transport.ts';
import { StateNode } from '../node-peer/node.ts';
import { type Backend, makeLink } from '../node-peer/webrtc/index.ts';
import type { Figure } from './figure.ts';
import { tcpBulk } from './webrtc.ts';

const MiB = 1024 * 1024;
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/stateos.js');
const log = (s: string) => process.stderr.write(`  ${s}\n`);
const NAMES: Record<Backend, string> = { werift: 'werift 0.25.2', datachannel: 'node-datachannel 0.33.4' };
const META_TYPE = 0x0200;
const DATA_TYPE = 0x0201;
const DATA_BODY = 64 * 1024;
const KEY = 'bench-cluster-key-0123456789';

interface Plan {
  metaStus: number;
  dataStus: number;
}

/** A data folder holding `metaStus` metadata STUs (~300-byte bodies) and `dataStus` 64 KiB data STUs. */
async function prepare(dir: string, plan: Plan): Promise<string> {
  const node = await StateNode.open({ dir, metaBytes: 256 * MiB, dataBytes: Math.ceil((plan.dataStus * (DATA_BODY + 1024)) / MiB + 64) * MiB, fsync: { mode: 'none' }, log: createLogger('silent', () => undefined) });
  try {
    const body = new Uint8Array(300).fill(0x61);
    const t0 = performance.now();
    for (let i = 0; i < plan.metaStus; i += 512) {
      const n = Math.min(512, plan.metaStus - i);
      await Promise.all(Array.from({ length: n }, () => node.stus.create({ type: META_TYPE, object: newGuid(), user: NIL_GUID }, body)));
    }
    const data = new Uint8Array(DATA_BODY);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    for (let i = 0; i < plan.dataStus; i += 64) {
      const n = Math.min(64, plan.dataStus - i);
      await Promise.all(Array.from({ length: n }, () => node.stus.create({ type: DATA_TYPE, flags: Flag.DATA, object: NIL_GUID, user: NIL_GUID }, data)));
    }
    await node.ring.flush();
    log(`prepared ${plan.metaStus} metadata and ${plan.dataStus} data STUs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return node.guid;
  } finally {
    await node.close();
  }
}

interface Proc {
  proc: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
  stop(): Promise<void>;
}

function serve(args: string[]): Promise<Proc> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--http', '127.0.0.1:0', '--cluster-key', KEY, '--log-level', 'info', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    if (l.startsWith('{')) {
      try {
        lines.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // a progress line
      }
    }
  });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      const m = /serving (http:\/\/[\d.]+:\d+)/.exec(l);
      if (m)
        resolve({
          proc,
          url: m[1],
          lines,
          stop: () =>
            new Promise<void>((done) => {
              proc.removeAllListeners('exit');
              proc.once('exit', () => done());
              proc.kill('SIGTERM');
            }),
        });
    });
  });
}

async function waitFor<T>(what: string, get: () => T | undefined, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The raw data channel of a backend between two processes: 64 KiB messages with backpressure, into a sink. */
async function rawChannel(backend: Backend, bytes: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'raw-sink.ts'), backend], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const out = createInterface({ input: child.stdout! });
  const msgs: Record<string, unknown>[] = [];
  out.on('line', (l) => msgs.push(JSON.parse(l) as Record<string, unknown>));
  const link = makeLink(backend, {});
  try {
    child.stdin!.write(JSON.stringify({ offer: await link.createOffer(), bytes }) + '\n');
    const answer = await waitFor('sink answer', () => msgs.find((m) => m.answer)?.answer as string | undefined, 20_000);
    await link.acceptAnswer(answer);
    await link.connected();
    const ch = await link.openChannel('raw', SIGNALING_OPTIONS);
    const size = Math.min(64 * 1024, ch.maxMessageSize);
    const msg = new Uint8Array(size).fill(7);
    ch.bufferedAmountLowThreshold = 256 * 1024;
    let wake: (() => void) | undefined;
    ch.onBufferedAmountLow(() => wake?.());
    const t0 = performance.now();
    for (let sent = 0; sent < bytes; ) {
      while (sent < bytes && ch.bufferedAmount < MiB) {
        ch.send(msg);
        sent += size;
      }
      if (sent < bytes) await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
    }
    await waitFor('sink got everything', () => msgs.find((m) => m.got), 300_000);
    return bytes / MiB / ((performance.now() - t0) / 1000);
  } finally {
    link.close('bench over');
    child.kill();
  }
}

export async function benchSync({ quick }: { quick: boolean }): Promise<Figure[]> {
  const plan: Plan = quick ? { metaStus: 10_000, dataStus: 2_048 } : { metaStus: 100_000, dataStus: 16_384 };
  const figures: Figure[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'stateos-bench-sync-'));
  try {
    log(`preparing a server with ${plan.metaStus} metadata STUs and ${((plan.dataStus * DATA_BODY) / MiB).toFixed(0)} MiB of data STUs`);
    const origin = await prepare(join(tmp, 'a'), plan);
    const tcpBytes = (quick ? 256 : 1024) * MiB;
    const tcp = await tcpBulk(tcpBytes);
    log(`TCP loopback ${tcp.toFixed(0)} MiB/s`);
    const dataBytes = plan.dataStus * DATA_BODY;
    const ringArgs = ['--meta-size', '256M', '--data-size', `${Math.ceil(dataBytes / MiB + 64)}M`, '--fsync', 'interval'];
    for (const backend of ['datachannel', 'werift'] as const) {
      const name = NAMES[backend];
      log(`${name}: raw data channel between two processes, ${(dataBytes / MiB).toFixed(0)} MiB`);
      const raw = await rawChannel(backend, dataBytes);
      log(`  ${raw.toFixed(1)} MiB/s`);
      const a = await serve(['--data', join(tmp, 'a'), '--webrtc', backend, '--sync-interval', '3600000', ...ringArgs]);
      const bDir = join(tmp, `b-${backend}`);
      let b: Proc | undefined;
      try {
        log(`${name}: a new server joins and catches up ${plan.metaStus} metadata STUs`);
        b = await serve(['--data', bDir, '--webrtc', backend, '--peer', a.url, '--sync-interval', '3600000', ...ringArgs]);
        const caught = await waitFor('catch-up', () => b!.lines.find((l) => l.msg === 'caught up'), 600_000);
        const [stus, bytes, ms] = [Number(caught.stus), Number(caught.bytes), Number(caught.ms)];
        if (stus !== plan.metaStus) throw new Error(`caught up ${stus} STUs, expected ${plan.metaStus}`);
        const metaRate = bytes / MiB / (ms / 1000);
        log(`  ${stus} STUs in ${(ms / 1000).toFixed(2)} s: ${Math.round(stus / (ms / 1000))} STUs/s, ${metaRate.toFixed(1)} MiB/s`);
        figures.push({ name: `${name}: catch-up, ${plan.metaStus / 1000}k metadata STUs`, value: stus / (ms / 1000), unit: 'STUs/s' });
        figures.push({ name: `${name}: catch-up, metadata`, value: metaRate, unit: 'MiB/s', baseline: raw, baselineName: 'raw channel', ratio: metaRate / raw });

        log(`${name}: GetSTU of ${plan.dataStus} data STUs (${(dataBytes / MiB).toFixed(0)} MiB) by id range`);
        const res = await fetch(`${b.url}/api/pull`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: DATA_TYPE.toString(16).padStart(4, '0'), origin, from: 1, to: plan.dataStus, data: true }),
          signal: AbortSignal.timeout(900_000),
        });
        const pulled = (await res.json()) as { stus: number; bytes: number; ms: number; error?: string };
        if (!res.ok || pulled.stus !== plan.dataStus) throw new Error(`pull: ${res.status} ${JSON.stringify(pulled)}`);
        const dataRate = pulled.bytes / MiB / (pulled.ms / 1000);
        log(`  ${pulled.stus} STUs in ${(pulled.ms / 1000).toFixed(2)} s: ${dataRate.toFixed(1)} MiB/s`);
        figures.push({ name: `${name}: catch-up, ${(dataBytes / MiB / 1024).toFixed(2)} GiB data STUs`, value: dataRate, unit: 'MiB/s', baseline: raw, baselineName: 'raw channel', ratio: dataRate / raw, goal: '≥ 0.8' });
        figures.push({ name: `${name}: catch-up, data STUs vs TCP`, value: dataRate, unit: 'MiB/s', baseline: tcp, baselineName: 'TCP loopback', ratio: dataRate / tcp });
        figures.push({ name: `${name}: raw data channel, two processes`, value: raw, unit: 'MiB/s', baseline: tcp, baselineName: 'TCP loopback', ratio: raw / tcp });
      } finally {
        await b?.stop();
        await a.stop();
        rmSync(bDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return figures;
}
