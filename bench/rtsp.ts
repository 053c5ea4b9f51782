// RTSP gateway under load: 20 concurrent RTP-over-TCP readers of one `stateos serve` process on loopback.
// Per packet: how late it arrives against the server's own schedule (its sender report maps the wall clock to
// the RTP clock; a packet whose RTP time has passed by more than 50 ms is late), and per client the delivered
// rate over the media bitrate (real-time pacing: 1.00). Baseline, measured in the same run: the bytes one
// client received, replayed by a plain TCP server (another process) to 20 clients at the times they arrived.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../shared/log.ts';
import { ntpTimestamp, ntpToEpochMs } from '../shared/media/rtp/clock.ts';
import { rtcpTypes } from '../shared/media/rtp/rtcp.ts';
import { type Interleaved, RtspClient, setupAll } from '../node-peer/gateways/rtsp/client.ts';
import { StateNode } from '../node-peer/node.ts';
import type { Figure } from './figure.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/stateos.js');
const log = (s: string) => process.stderr.write(`  ${s}\n`);
const LATE_MS = 50;
const CLIENTS = 20;

/** What one client saw: every interleaved frame with its arrival time, from the moment it asked to play. */
interface Trace {
  startAt: number;
  frames: Interleaved[];
  clocks: Map<number, number>;
  /** The audio stream's RTP channel: its packets leave exactly on schedule (no reordering), so the rate is read there. */
  audio: number;
}

interface Measured {
  packets: number;
  late: number;
  maxLateMs: number;
  bytes: number;
  /** First to last packet, all streams. */
  wallSec: number;
  /** Audio: RTP time from its first to its last packet, and the wall time between their arrivals. */
  audioMediaSec: number;
  audioWallSec: number;
}

/**
 * Lateness of every RTP packet against the sender report of its stream: the SR says RTP time R is wall time W,
 * so a packet stamped T is due by W + (T - R) / clock. Video is sent at decode time, up to the reordering delay
 * before its presentation time, so a late video packet is late by more than this says; audio is exact.
 */
function measure(t: Trace): Measured {
  const sr = new Map<number, { wall: number; rtp: number }>();
  let packets = 0;
  let late = 0;
  let maxLateMs = -Infinity;
  let bytes = 0;
  let first = Infinity;
  let last = 0;
  let audio: { ts0: number; ts1: number; at0: number; at1: number } | undefined;
  for (const f of t.frames) {
    if (f.channel % 2 === 1) {
      if (!sr.has(f.channel - 1) && (rtcpTypes(f.data) ?? [])[0] === 200) sr.set(f.channel - 1, { wall: ntpToEpochMs(f.data.readBigUInt64BE(8)), rtp: f.data.readUInt32BE(16) });
      continue;
    }
    const clock = t.clocks.get(f.channel) ?? 90000;
    const ts = f.data.readUInt32BE(4);
    const ref = sr.get(f.channel);
    const arrival = performance.timeOrigin + f.at;
    if (ref) {
      const due = ref.wall + ((((ts - ref.rtp) << 0) >> 0) / clock) * 1000;
      const lateMs = arrival - due;
      if (lateMs > LATE_MS) late++;
      if (lateMs > maxLateMs) maxLateMs = lateMs;
    }
    packets++;
    bytes += f.data.length;
    first = Math.min(first, f.at);
    last = Math.max(last, f.at);
    if (f.channel === t.audio) {
      if (!audio) audio = { ts0: ts, ts1: ts, at0: f.at, at1: f.at };
      audio.ts1 = ts;
      audio.at1 = f.at;
    }
  }
  const a = audio ?? { ts0: 0, ts1: 0, at0: 0, at1: 0 };
  return { packets, late, maxLateMs, bytes, wallSec: (last - first) / 1000, audioMediaSec: ((a.ts1 - a.ts0) >>> 0) / (t.clocks.get(t.audio) ?? 48000), audioWallSec: (a.at1 - a.at0) / 1000 };
}

async function play(url: string): Promise<Trace> {
  const c = await RtspClient.connect(url);
  const frames: Interleaved[] = [];
  let byes = 0;
  let done: () => void = () => undefined;
  const ended = new Promise<void>((r) => (done = r));
  c.onPacket((p) => {
    frames.push(p);
    if (p.channel % 2 === 1 && (rtcpTypes(p.data) ?? []).includes(203) && ++byes === streamsCount) done();
  });
  const { streams } = await setupAll(c);
  const streamsCount = streams.length;
  const clocks = new Map(streams.map((s) => [s.channel, s.clockRate]));
  const audio = streams.find((s) => s.encoding !== 'H264' && s.encoding !== 'H265')?.channel ?? -1;
  const keep = setInterval(() => void c.request('GET_PARAMETER', `${url}/`).catch(() => undefined), 5000);
  const startAt = performance.now();
  const r = await c.request('PLAY', `${url}/`);
  if (r.status !== 200) throw new Error(`PLAY: ${r.status} ${r.body}`);
  await ended;
  clearInterval(keep);
  await c.request('TEARDOWN', `${url}/`);
  c.close();
  return { startAt, frames, clocks, audio };
}

/** The baseline server (a child process): replays a recorded trace to every connection at its arrival times. */
async function replayServer(file: string): Promise<void> {
  const b = readFileSync(file);
  const recordedStart = b.readDoubleBE(0);
  const frames: { at: number; bytes: Buffer }[] = [];
  for (let o = 8; o < b.length; ) {
    const at = b.readDoubleBE(o);
    const len = b.readUInt32BE(o + 8);
    frames.push({ at, bytes: b.subarray(o + 12, o + 12 + len) });
    o += 12 + len;
  }
  const server = createServer((sock: Socket) => {
    sock.setNoDelay(true);
    sock.on('error', () => undefined);
    const t0 = performance.now();
    const shift = performance.timeOrigin + t0 - recordedStart; // move the sender reports' wall clock to now
    let i = 0;
    const tick = () => {
      const now = performance.now() - t0;
      const out: Buffer[] = [];
      while (i < frames.length && frames[i].at <= now + 1) {
        let f = frames[i++].bytes;
        if (f[1] % 2 === 1 && f[5] === 200) {
          f = Buffer.from(f);
          f.writeBigUInt64BE(ntpTimestamp(ntpToEpochMs(f.readBigUInt64BE(12)) + shift), 12);
        }
        out.push(f);
      }
      if (out.length) sock.write(out.length === 1 ? out[0] : Buffer.concat(out));
      if (i < frames.length) setTimeout(tick, Math.max(0, frames[i].at - (performance.now() - t0)));
    };
    tick();
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`port ${typeof a === 'object' && a ? a.port : 0}\n`);
  });
}

function writeTrace(t: Trace, file: string): void {
  const parts: Buffer[] = [Buffer.alloc(8)];
  parts[0].writeDoubleBE(performance.timeOrigin + t.startAt, 0);
  for (const f of t.frames) {
    const h = Buffer.alloc(16);
    h.writeDoubleBE(f.at - t.startAt, 0);
    h.writeUInt32BE(f.data.length + 4, 8);
    h[12] = 0x24;
    h[13] = f.channel;
    h.writeUInt16BE(f.data.length, 14);
    parts.push(h, f.data);
  }
  writeFileSync(file, Buffer.concat(parts));
}

async function baseline(file: string, clocks: Map<number, number>, audio: number, streams: number): Promise<Measured[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'rtsp.ts'), 'rtsp-replay', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (c) => reject(new Error(`replay server exited with ${c}`)));
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const m = /^port (\d+)$/.exec(l);
        if (m) resolve(Number(m[1]));
      });
    });
    const one = async (): Promise<Measured> => {
      const c = await RtspClient.connect(`rtsp://127.0.0.1:${port}`);
      const frames: Interleaved[] = [];
      let byes = 0;
      const startAt = performance.now();
      await new Promise<void>((done) =>
        c.onPacket((p) => {
          frames.push(p);
          if (p.channel % 2 === 1 && (rtcpTypes(p.data) ?? []).includes(203) && ++byes === streams) done();
        }),
      );
      c.close();
      return measure({ startAt, frames, clocks, audio });
    };
    return await Promise.all(Array.from({ length: CLIENTS }, one));
  } finally {
    child.kill();
  }
}

/** CPU jiffies (1/100 s): busy time of the whole machine, and of one process (user + system). */
function cpuTicks(pid?: number): number | undefined {
  try {
    if (pid === undefined) {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      return f.reduce((a, b) => a + b, 0) - f[3] - f[4]; // all but idle and iowait
    }
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

function summary(ms: Measured[]) {
  const packets = ms.reduce((n, m) => n + m.packets, 0);
  const late = ms.reduce((n, m) => n + m.late, 0);
  const maxLateMs = Math.max(...ms.map((m) => m.maxLateMs));
  // delivered rate / media rate = (bytes / wall time) / (bytes / media time) = media time / wall time
  const ratios = ms.map((m) => m.audioMediaSec / m.audioWallSec);
  const kbps = ms.map((m) => (m.bytes * 8) / m.wallSec / 1000);
  return { packets, late, maxLateMs, ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios), kbps: kbps.reduce((a, b) => a + b, 0) / kbps.length };
}

export async function benchRtsp({ quick }: { quick: boolean }): Promise<Figure[]> {
  const seconds = quick ? 8 : 20;
  const tmp = mkdtempSync(join(tmpdir(), 'stateos-bench-rtsp-'));
  try {
    const file = join(tmp, 'clip.mp4');
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
        '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3M', '-maxrate', '3M', '-bufsize', '6M', '-bf', '2', '-g', '60', '-c:a', 'aac', '-b:a', '128k', '-ac', '2', file], { stdio: 'inherit' });
      p.once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${c}`))));
    });
    const dir = join(tmp, 'data');
    const node = await StateNode.open({ dir, metaBytes: 8 << 20, dataBytes: 256 << 20, fsync: { mode: 'none' }, log: createLogger('silent', () => undefined) });
    const id = (await node.ingestFile(file)).id;
    await node.close();
    log(`made and ingested ${seconds} s of 720p30 H.264 (3 Mbit/s, B-frames) + AAC in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const proc = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--http', '127.0.0.1:0', '--rtsp', '127.0.0.1:0', '--log-level', 'info'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const ended: Record<string, unknown>[] = [];
    createInterface({ input: proc.stderr! }).on('line', (l) => {
      if (l.includes('"RTSP session ended"')) ended.push(JSON.parse(l) as Record<string, unknown>);
    });
    const base = await new Promise<string>((resolve, reject) => {
      proc.once('exit', (c) => reject(new Error(`serve exited with ${c}`)));
      createInterface({ input: proc.stdout! }).on('line', (l) => {
        const m = /^stateos rtsp (rtsp:\/\/\S+)$/.exec(l);
        if (m) resolve(m[1]);
      });
    });
    const url = `${base}/media/${id}`;
    try {
      log(`1 client, ${seconds} s of media...`);
      const single = await play(url);
      const one = summary([measure(single)]);
      log(`${CLIENTS} clients at once...`);
      const cpu0 = { all: cpuTicks(), server: cpuTicks(proc.pid), self: cpuTicks(process.pid), at: performance.now() };
      const many = await Promise.all(Array.from({ length: CLIENTS }, () => play(url)));
      const cpu1 = { all: cpuTicks(), server: cpuTicks(proc.pid), self: cpuTicks(process.pid), at: performance.now() };
      const sec = (cpu1.at - cpu0.at) / 1000;
      const cores = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (b - a) / 100 / sec : NaN);
      const serverCores = cores(cpu0.server, cpu1.server);
      const otherCores = cores(cpu0.all, cpu1.all) - serverCores - cores(cpu0.self, cpu1.self);
      log(`during it: the server used ${serverCores.toFixed(2)} cores, other processes on the machine ${otherCores.toFixed(2)} (of 2)`);
      const all = summary(many.map(measure));
      await new Promise((r) => setTimeout(r, 200));
      const serverLate = ended.slice(1).reduce((n, e) => n + Number(e.late ?? 0), 0);
      const serverMax = Math.max(...ended.slice(1).map((e) => Number(e.maxLateMs ?? 0)));
      log(`baseline: the same bytes replayed over plain TCP to ${CLIENTS} clients...`);
      const traceFile = join(tmp, 'trace.bin');
      writeTrace(single, traceFile);
      const base20 = summary(await baseline(traceFile, single.clocks, single.audio, single.clocks.size));
      log(`server side: ${serverLate} frames sent > ${LATE_MS} ms after their time, worst ${serverMax.toFixed(1)} ms`);
      return [
        { name: `rtsp ${CLIENTS} clients: packets late > ${LATE_MS} ms`, value: all.late, unit: 'packets', baseline: base20.late, baselineName: `plain TCP replay, ${CLIENTS} clients`, goal: '0' },
        { name: `rtsp ${CLIENTS} clients: packets received`, value: all.packets, unit: 'packets', baseline: base20.packets, baselineName: 'plain TCP replay' },
        { name: `rtsp ${CLIENTS} clients: worst lateness (< 0: early)`, value: all.maxLateMs, unit: 'ms', baseline: base20.maxLateMs, baselineName: 'plain TCP replay' },
        { name: `rtsp ${CLIENTS} clients: delivered / media rate, lowest`, value: all.ratioMin, unit: 'x', baseline: base20.ratioMin, baselineName: 'plain TCP replay', goal: '1.00 ± 0.05' },
        { name: `rtsp ${CLIENTS} clients: delivered / media rate, highest`, value: all.ratioMax, unit: 'x', baseline: base20.ratioMax, baselineName: 'plain TCP replay', goal: '1.00 ± 0.05' },
        { name: `rtsp ${CLIENTS} clients: delivered rate per client`, value: all.kbps, unit: 'kbit/s', baseline: base20.kbps, baselineName: 'plain TCP replay' },
        { name: `rtsp ${CLIENTS} clients: frames sent late (server side)`, value: serverLate, unit: 'frames', goal: '0' },
        { name: `rtsp ${CLIENTS} clients: server CPU`, value: serverCores, unit: 'cores' },
        { name: `rtsp ${CLIENTS} clients: CPU of other processes meanwhile`, value: otherCores, unit: 'cores' },
        { name: 'rtsp 1 client: packets late > 50 ms', value: one.late, unit: 'packets', goal: '0' },
        { name: 'rtsp 1 client: delivered / media rate', value: one.ratioMin, unit: 'x', goal: '1.00 ± 0.05' },
      ];
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'rtsp-replay' && import.meta.url === pathToFileURL(process.argv[1]).href) await replayServer(process.argv[3]);
