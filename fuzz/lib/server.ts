// A state server for the network targets: `stateos serve` in this process on loopback (HTTP and RTSP on
// free ports, the bundled sample ingested, data in a temporary folder), with every error it logs and every
// uncaught exception or unhandled rejection of the process collected: a case that causes one fails.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type Running } from '../../node-peer/serve.ts';
import { createLogger } from '../../shared/log.ts';

export interface FuzzServer {
  running: Running;
  http: { host: string; port: number };
  rtsp: { host: string; port: number };
  media: string;
  /** Secrets no response may ever contain (the cluster key, the server file). */
  secrets: string[];
  /** Errors logged and uncaught since the last call (and clears them). */
  takeErrors(): string[];
  close(): Promise<void>;
}

export async function startFuzzServer(): Promise<FuzzServer> {
  const dir = mkdtempSync(join(tmpdir(), 'stateos-fuzz-'));
  const errors: string[] = [];
  const log = createLogger('error', (line) => errors.push(line.slice(0, 2000)));
  const onError = (e: unknown) => errors.push(`uncaught: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write; // serve() prints its banner and the new cluster key
  let running: Running;
  try {
    running = await serve({
      dir,
      metaBytes: 16 * 1024 * 1024,
      dataBytes: 64 * 1024 * 1024,
      fsync: { mode: 'none' },
      log,
      host: '127.0.0.1',
      port: 0,
      sample: true,
      rtsp: { host: '127.0.0.1', port: 0 },
      rtspTimeoutMs: 2000,
      mesh: false,
      uploads: false,
      mediaWaitMs: 200,
      // every case is invalid on purpose: never refuse the fuzzer's address
      addressLimits: { invalidLimit: 0 },
    });
  } finally {
    process.stdout.write = write;
  }
  const http = new URL(running.url);
  const rtsp = new URL(running.rtspUrl ?? 'rtsp://127.0.0.1:0');
  const media = running.node.objects().find((o) => o.type === 'media')?.id;
  if (!media) throw new Error('the sample was not ingested');
  return {
    running,
    http: { host: http.hostname, port: Number(http.port) },
    rtsp: { host: rtsp.hostname, port: Number(rtsp.port) },
    media,
    secrets: [readFileSync(join(dir, 'cluster.key'), 'utf8').trim()],
    takeErrors: () => errors.splice(0),
    close: async () => {
      await running.stop();
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
