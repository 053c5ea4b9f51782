// WebRTC transport benchmarks, per backend (werift, node-datachannel), both peers in this process over
// loopback UDP, each figure next to TCP loopback (node:net) measured in the same run:
//   (a) bulk: one ordered reliable channel, 64 KiB messages paced on bufferedAmount (high-water 1 MiB,
//       bufferedamountlow at 256 KiB, as the STX batcher does), MiB/s next to a TCP socket writing the same
//       64 KiB buffers with its own backpressure; again in the backend's largest message when it is larger;
//   (b) a SignalingConnection request and its Ack, one at a time: round-trip median and p99 in µs, next to
//       a 1-byte ping-pong over a TCP socket (setNoDelay);
//   (c) signaling under load: 200-byte one-way messages pushed as fast as the batcher takes them, messages
//       per second and messages per batch;
//   (d) a new link: offer, answer and the control channel open, median ms.
// `npm run bench -- --only webrtc [--quick]`, or `npx tsx bench/webrtc.ts [--quick]`. Progress on stderr.
// Ends with a recommendation of the default backend (stderr and the last figure).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SignalingConnection } from '../shared/stx/connection.ts';
import { type Channel, SIGNALING_LABEL, SIGNALING_OPTIONS } from '../shared/stx/transport.ts';
import { type Backend, connectPair, type WebrtcLink } from '../node-peer/webrtc/index.ts';
import { formatFigure, type Figure } from './figure.ts';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const log = (s: string) => process.stderr.write(`  ${s}\n`);
const now = () => performance.now();
const NAMES: Record<Backend, string> = { werift: 'werift 0.25.2', datachannel: 'node-datachannel 0.33.4' };

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------------------------ TCP baseline

async function tcpPair(): Promise<{ server: Server; client: Socket; peer: Socket }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  const peer = await accepted;
  client.setNoDelay(true);
  peer.setNoDelay(true);
  return { server, client, peer };
}

async function tcpClose(p: { server: Server; client: Socket; peer: Socket }): Promise<void> {
  p.client.destroy();
  p.peer.destroy();
  await new Promise<void>((r) => p.server.close(() => r()));
}

export async function tcpBulk(bytes: number): Promise<number> {
  const p = await tcpPair();
  try {
    const buf = Buffer.alloc(CHUNK, 7);
    let got = 0;
    const done = new Promise<void>((r) =>
      p.peer.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= bytes) r();
      }),
    );
    const t0 = now();
    for (let sent = 0; sent < bytes; sent += CHUNK) {
      if (!p.client.write(buf)) await new Promise<void>((r) => p.client.once('drain', r));
    }
    await done;
    return bytes / MiB / ((now() - t0) / 1000);
  } finally {
    await tcpClose(p);
  }
}

async function tcpRoundTrip(n: number): Promise<number[]> {
  const p = await tcpPair();
  try {
    p.peer.on('data', (d: Buffer) => p.peer.write(d));
    const one = Buffer.of(1);
    const times: number[] = [];
    for (let i = 0; i < n + 100; i++) {
      const t0 = now();
      p.client.write(one);
      await new Promise<void>((r) => p.client.once('data', () => r()));
      if (i >= 100) times.push((now() - t0) * 1000);
    }
    return times.sort((x, y) => x - y);
  } finally {
    await tcpClose(p);
  }
}

// ------------------------------------------------------------------------------------------ WebRTC

/** Opens a channel from a to b; resolves with both ends once b has announced it. */
async function channelPair(a: WebrtcLink, b: WebrtcLink, label: string, onRemote?: (ch: Channel) => void): Promise<[Channel, Channel]> {
  const remote = new Promise<Channel>((resolve) => {
    const off = b.onChannel((ch) => {
      if (ch.label !== label) return;
      off();
      onRemote?.(ch);
      resolve(ch);
    });
  });
  const local = await a.openChannel(label, SIGNALING_OPTIONS);
  return [local, await withTimeout(remote, 10_000, 'remote channel')];
}

async function bulk(a: WebrtcLink, b: WebrtcLink, bytes: number, chunk = CHUNK): Promise<number> {
  let got = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const [x] = await channelPair(a, b, `bulk-${chunk}`, (ch) =>
    ch.onMessage((m) => {
      got += m.length;
      if (got >= bytes) resolveDone();
    }),
  );
  const size = Math.min(chunk, x.maxMessageSize);
  const msg = new Uint8Array(size).fill(7);
  const high = MiB;
  x.bufferedAmountLowThreshold = 256 * 1024;
  let wake: (() => void) | undefined;
  x.onBufferedAmountLow(() => wake?.());
  const t0 = now();
  let sent = 0;
  let lastReport = t0;
  while (sent < bytes) {
    while (sent < bytes && x.bufferedAmount < high) {
      x.send(msg);
      sent += size;
    }
    if (sent < bytes) {
      await new Promise<void>((r) => {
        wake = r;
        // A safety net only: bufferedAmountLow is what wakes the sender.
        setTimeout(r, 50);
      });
      wake = undefined;
    }
    if (now() - lastReport > 2000) {
      lastReport = now();
      log(`    ${(sent / MiB).toFixed(0)} / ${(bytes / MiB).toFixed(0)} MiB sent`);
    }
  }
  await withTimeout(done, 120_000, 'bulk transfer');
  const rate = bytes / MiB / ((now() - t0) / 1000);
  x.close();
  return rate;
}

async function signalingPair(a: WebrtcLink, b: WebrtcLink, label: string): Promise<[SignalingConnection, SignalingConnection]> {
  let right: SignalingConnection | undefined;
  const [x] = await channelPair(a, b, label, (ch) => (right = new SignalingConnection(ch, { handlers: { Ping: () => undefined, Note: () => undefined } })));
  return [new SignalingConnection(x), right!];
}

async function roundTrips(a: WebrtcLink, b: WebrtcLink, n: number): Promise<number[]> {
  const [left, right] = await signalingPair(a, b, SIGNALING_LABEL);
  const times: number[] = [];
  for (let i = 0; i < n + 100; i++) {
    const t0 = now();
    await left.request('Ping');
    if (i >= 100) times.push((now() - t0) * 1000);
  }
  left.close();
  right.close();
  return times.sort((x, y) => x - y);
}

async function underLoad(a: WebrtcLink, b: WebrtcLink, n: number): Promise<{ perSecond: number; perBatch: number }> {
  const [left, right] = await signalingPair(a, b, 'stx-load');
  const body = new Uint8Array(200).fill(3);
  const t0 = now();
  for (let i = 0; i < n; i++) {
    if (!left.send('Note', { attrs: { seq: String(i) } }, body)) await left.drain();
  }
  const end = Date.now() + 120_000;
  while (right.stats.messagesIn < n) {
    if (Date.now() > end) throw new Error(`under load: ${right.stats.messagesIn} of ${n} messages arrived`);
    await new Promise((r) => setTimeout(r, 1));
  }
  const perSecond = n / ((now() - t0) / 1000);
  const perBatch = left.batcher.stats.messages / left.batcher.stats.batches;
  left.close();
  right.close();
  return { perSecond, perBatch };
}

async function connectTimes(backend: Backend, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    const [a, b] = await connectPair(backend);
    times.push(now() - t0);
    a.close();
    b.close();
  }
  return times.sort((x, y) => x - y);
}

export async function benchWebrtc({ quick }: { quick: boolean }): Promise<Figure[]> {
  const figures: Figure[] = [];
  const tcpBytes = (quick ? 256 : 1024) * MiB;
  log(`TCP loopback: bulk ${tcpBytes / MiB} MiB in 64 KiB writes`);
  const tcp = await tcpBulk(tcpBytes);
  const rounds = quick ? 500 : 2000;
  log(`TCP loopback: ${rounds} ping-pongs`);
  const tcpRtt = await tcpRoundTrip(rounds);
  const tcpMedian = quantile(tcpRtt, 0.5);
  log(`  TCP ${tcp.toFixed(0)} MiB/s, round trip median ${tcpMedian.toFixed(0)} µs`);

  const bulkRates: Partial<Record<Backend, number>> = {};
  for (const backend of ['werift', 'datachannel'] as const) {
    const name = NAMES[backend];
    const bytes = (backend === 'werift' ? (quick ? 16 : 64) : quick ? 64 : 256) * MiB;
    const messages = backend === 'werift' ? (quick ? 20_000 : 50_000) : quick ? 50_000 : 200_000;

    log(`${name}: new links`);
    const opens = await connectTimes(backend, quick ? 3 : 7);
    figures.push({ name: `${name}: new link to open control channel, median`, value: quantile(opens, 0.5), unit: 'ms' });
    figures.push({ name: `${name}: new link to open control channel, slowest of ${opens.length}`, value: opens[opens.length - 1], unit: 'ms' });
    log(`  ${opens.map((t) => t.toFixed(0)).join(', ')} ms`);

    const [a, b] = await connectPair(backend);
    try {
      log(`${name}: bulk ${bytes / MiB} MiB in ${Math.min(CHUNK, a.maxMessageSize) / 1024} KiB messages`);
      const rate = await bulk(a, b, bytes);
      bulkRates[backend] = rate;
      figures.push({ name: `${name}: bulk, 64 KiB messages, backpressure`, value: rate, unit: 'MiB/s', baseline: tcp, baselineName: 'TCP loopback', ratio: rate / tcp });
      log(`  ${rate.toFixed(1)} MiB/s`);
      if (a.maxMessageSize > CHUNK) {
        log(`${name}: bulk ${bytes / MiB} MiB in ${a.maxMessageSize / 1024} KiB messages (its largest)`);
        const big = await bulk(a, b, bytes, a.maxMessageSize);
        figures.push({ name: `${name}: bulk, ${a.maxMessageSize / 1024} KiB messages, backpressure`, value: big, unit: 'MiB/s', baseline: tcp, baselineName: 'TCP loopback', ratio: big / tcp });
        log(`  ${big.toFixed(1)} MiB/s`);
      }

      log(`${name}: ${rounds} requests and their Acks, one at a time`);
      const rtt = await roundTrips(a, b, rounds);
      const median = quantile(rtt, 0.5);
      const p99 = quantile(rtt, 0.99);
      figures.push({ name: `${name}: request/Ack round trip, median`, value: median, unit: 'µs', baseline: tcpMedian, baselineName: 'TCP ping-pong', ratio: tcpMedian / median });
      figures.push({ name: `${name}: request/Ack round trip, p99`, value: p99, unit: 'µs', baseline: quantile(tcpRtt, 0.99), baselineName: 'TCP ping-pong p99', ratio: quantile(tcpRtt, 0.99) / p99 });
      log(`  median ${median.toFixed(0)} µs, p99 ${p99.toFixed(0)} µs`);

      log(`${name}: ${messages} signaling messages of 200 B under load`);
      const load = await underLoad(a, b, messages);
      figures.push({ name: `${name}: signaling under load`, value: load.perSecond, unit: 'msg/s' });
      figures.push({ name: `${name}: messages per batch under load`, value: load.perBatch, unit: 'msg/batch' });
      log(`  ${load.perSecond.toFixed(0)} msg/s, ${load.perBatch.toFixed(1)} per batch`);
    } finally {
      a.close('bench over');
      b.close('bench over');
    }
  }

  const [w, d] = [bulkRates.werift ?? 0, bulkRates.datachannel ?? 0];
  const best: Backend = d >= w ? 'datachannel' : 'werift';
  figures.push({
    name: `default backend: ${best} (bulk vs the other backend)`,
    value: Math.max(w, d),
    unit: 'MiB/s',
    baseline: Math.min(w, d),
    baselineName: best === 'datachannel' ? NAMES.werift : NAMES.datachannel,
    ratio: Math.max(w, d) / Math.max(Math.min(w, d), 1e-9),
  });
  log(`recommended default backend: ${best} (${NAMES[best]}), ${(Math.max(w, d) / Math.max(Math.min(w, d), 1e-9)).toFixed(1)}x the other's bulk throughput`);
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const figures = await benchWebrtc({ quick });
  for (const f of figures) console.log(formatFigure(f));
  process.exit(0);
}
