// A child process that appends to a raw-file ring until it is killed, for tests/integration/ring/crash.test.ts.
//
//   node --import tsx tests/helpers/ring-writer.ts '<WriterConfig as JSON>'
//
// It opens the ring in `dir`, continues the STU numbering after the highest seq it finds there, and appends
// STUs whose every byte follows from their seq (crashStu), `concurrency` at a time. It writes one line each to
// the file `log` (appending):
//   opening                      before the ring is opened
//   ready <highest seq found>    the ring is open, appends start
//   ack <section> <seq> <recSeq> <offset>  only after that append's promise resolved
//   evict <section> <recSeq>     every record up to recSeq was evicted (written before it can be overwritten)
//   done                         the bounds were reached and the ring was closed
// `opening` and `ready` also go to stdout, for the parent to time its kill.
//
// The log is a file written with writeSync: a line is in the page cache, which SIGKILL does not lose, before
// the next statement runs. stdout is no such channel. A child's stdout is a Unix socket pair, whose buffer
// holds only about 280 short lines (each write costs a whole socket buffer); once it is full (the parent
// slow to read, the machine busy), Node queues process.stdout.write() inside the process, and SIGKILL drops
// the queue. The parent then saw an "ack" but not the "evict" after it, and took a record the ring had
// rightly evicted for a lost one.
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openFileRing } from '../../node-peer/ring/file-ring.ts';
import type { FsyncPolicy } from '../../shared/ring/types.ts';
import { encodeStu, Flag, type Guid, hlcFrom } from '../../shared/stu/index.ts';
import { prng } from '../../shared/util/prng.ts';

export interface WriterConfig {
  dir: string;
  /** The file the writer appends its lines to. */
  log: string;
  metaBytes: number;
  dataBytes: number;
  fsync: FsyncPolicy;
  batchBytes?: number;
  /** Appends in flight at once. */
  concurrency: number;
  /** Bounds: the writer closes the ring and exits after this many appends or milliseconds. */
  maxAppends: number;
  maxMs: number;
}

const ORIGIN: Guid = 'c4a5c4a5-0000-4000-8000-00000000c4a5';
const OBJECT: Guid = '0b0b0b0b-0000-4000-8000-00000000c4a5';

/** Section and body size of the STU with this seq: 40% metadata, data frames of mixed sizes up to 96 KiB. */
export function crashStuShape(seq: number): { data: boolean; bodySize: number } {
  const r = prng(seq);
  if (r() < 0.4) return { data: false, bodySize: Math.floor(r() * 3000) };
  const k = r();
  const bodySize = k < 0.4 ? 100 + Math.floor(r() * 2000) : k < 0.8 ? 4096 + Math.floor(r() * 28 * 1024) : 32 * 1024 + Math.floor(r() * 64 * 1024);
  return { data: true, bodySize };
}

/** The STU with this seq, every byte of it a function of seq. */
export function crashStu(seq: number): Uint8Array {
  const { data, bodySize } = crashStuShape(seq);
  const body = new Uint8Array(bodySize);
  const words = new Uint32Array(body.buffer, 0, bodySize >>> 2);
  let x = (seq * 0x85ebca6b) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  for (let i = words.length * 4; i < bodySize; i++) body[i] = (seq + i) & 0xff;
  return encodeStu({ type: data ? 0x0c01 : 0x0c00, object: OBJECT, ts: hlcFrom(1_700_000_000_000 + seq), origin: ORIGIN, seq, flags: data ? Flag.DATA : 0 }, body);
}

async function main(config: WriterConfig): Promise<void> {
  const fd = openSync(config.log, 'a');
  const out = (line: string, stdout = false) => {
    const bytes = Buffer.from(`${line}\n`);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    if (stdout) process.stdout.write(`${line}\n`);
  };
  out('opening', true);
  let highest = 0;
  const ring = await openFileRing(config.dir, {
    metaBytes: config.metaBytes,
    dataBytes: config.dataBytes,
    fsync: config.fsync,
    batchBytes: config.batchBytes,
    visit: (e) => (highest = Math.max(highest, e.header.seq)),
  });
  ring.onEvict((locs) => out(`evict ${locs[0].section} ${Math.max(...locs.map((l) => l.recSeq))}`));
  out(`ready ${highest}`, true);
  let next = highest + 1;
  const until = Date.now() + config.maxMs;
  const worker = async () => {
    while (next - highest <= config.maxAppends && Date.now() < until) {
      const seq = next++;
      const loc = await ring.append(crashStu(seq));
      out(`ack ${loc.section} ${seq} ${loc.recSeq} ${loc.offset}`);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  await ring.close();
  out('done');
  closeSync(fd);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(JSON.parse(process.argv[2]) as WriterConfig).catch((e: unknown) => {
    process.stderr.write(`ring-writer: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
