// Upload over STX (docs/PROTOCOL.md, "Upload"): a Node viewer (the client the browser app runs, over
// node-datachannel) uploads a lossless H.264 clip to a `stateos serve` process; the bytes' MiB/s over the
// upload data channel (into the server's temporary file) next to the raw data channel between two
// processes (same message size, into a sink that only counts), and the whole upload with the ingest.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openAsBlob, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { blobSource, UploadClient } from '../shared/media/upload.ts';
import { memoryDevices, openMemoryRing } from '../shared/ring/index.ts';
import { newGuid } from '../shared/stu/index.ts';
import { SIGNALING_OPTIONS } from '../shared/stx/transport.ts';
import { SyncHub } from '../shared/sync/hub.ts';
import { RingStore } from '../shared/sync/store.ts';
import { makeLink } from '../node-peer/webrtc/index.ts';
import { serve, type Served } from '../tests/helpers/cli.ts';
import type { Figure } from './figure.ts';

const MiB = 1024 * 1024;
const ROOT = join(import.meta.dirname, '..');
const log = (s: string) => process.stderr.write(`  ${s}\n`);

async function waitFor<T>(what: string, fn: () => T | undefined, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}


/** The raw data channel (node-datachannel) between two processes: `size`-byte messages with backpressure, into a sink. */
async function rawChannel(bytes: number, size: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'raw-sink.ts'), 'datachannel'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const msgs: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => msgs.push(JSON.parse(l) as Record<string, unknown>));
  const link = makeLink('datachannel', {});
  try {
    child.stdin!.write(JSON.stringify({ offer: await link.createOffer(), bytes }) + '\n');
    await link.acceptAnswer(await waitFor('sink answer', () => msgs.find((m) => m.answer)?.answer as string | undefined, 20_000));
    await link.connected();
    const ch = await link.openChannel('raw', SIGNALING_OPTIONS);
    const n = Math.min(size, ch.maxMessageSize);
    const msg = new Uint8Array(n).fill(7);
    ch.bufferedAmountLowThreshold = 512 * 1024;
    let wake: (() => void) | undefined;
    ch.onBufferedAmountLow(() => wake?.());
    const t0 = performance.now();
    for (let sent = 0; sent < bytes; ) {
      while (sent < bytes && ch.bufferedAmount < MiB) {
        ch.send(msg);
        sent += n;
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

export async function benchUpload({ quick }: { quick: boolean }): Promise<Figure[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'stateos-bench-upload-'));
  const file = join(tmp, 'lossless.mp4');
  const [size, seconds] = quick ? ['1280x720', '8'] : ['1920x1080', '16'];
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-t', seconds, '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '0', file]);
  const bytes = statSync(file).size;
  let server: Served | undefined;
  let hub: SyncHub | undefined;
  try {
    log(`raw data channel between two processes, ${(bytes / MiB).toFixed(1)} MiB in 256 KiB messages`);
    const raw = await rawChannel(bytes, 256 * 1024);
    log(`  ${raw.toFixed(1)} MiB/s`);
    server = await serve(['--data', join(tmp, 'server'), '--rtsp', 'off', '--meta-size', '16M', '--data-size', '1G', '--cluster-key', 'bench-upload-cluster-key-01']);
    hub = new SyncHub({
      store: new RingStore(newGuid(), await openMemoryRing(memoryDevices(1 << 20, 1 << 20))),
      role: 'viewer',
      mesh: false,
      newLink: () => makeLink('datachannel'),
      info: () => ({ version: 'bench', apps: ['viewer'] }),
    });
    hub.join(server.url);
    const h = hub;
    const session = await waitFor('a session', () => h.sessions()[0], 20_000);
    const runs: { send: number; total: number }[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const r = await UploadClient.for(session).upload(blobSource(await openAsBlob(file), `run${i}.mp4`));
      runs.push({ send: bytes / MiB / (r.sendMs / 1000), total: r.ms });
      log(`upload ${i + 1}: ${(bytes / MiB).toFixed(1)} MiB sent in ${r.sendMs.toFixed(0)} ms, ingested as ${r.frames} frames, ${r.ms.toFixed(0)} ms in all`);
    }
    const best = runs.reduce((a, b) => (b.send > a.send ? b : a));
    const sample = await UploadClient.for(session).upload(blobSource(await openAsBlob(join(ROOT, 'public/sample.mp4'))));
    return [
      { name: `upload: ${(bytes / MiB).toFixed(0)} MiB over its data channel`, value: best.send, unit: 'MiB/s', baseline: raw, baselineName: 'raw channel', ratio: best.send / raw, goal: '≥ 0.8' },
      { name: `upload: ${(bytes / MiB).toFixed(0)} MiB, sent and ingested`, value: bytes / MiB / (best.total / 1000), unit: 'MiB/s', baseline: best.send, baselineName: 'sending alone', ratio: bytes / MiB / (best.total / 1000) / best.send },
      { name: 'upload: the sample clip (634 KiB), request to object', value: sample.ms, unit: 'ms' },
    ];
  } finally {
    await Promise.race([hub?.close(), new Promise((r) => setTimeout(r, 3000))]);
    await server?.stop('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}
