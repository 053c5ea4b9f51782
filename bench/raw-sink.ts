// The far end of the raw data channel baseline (bench/sync.ts): a separate process that answers an offer
// read from stdin, counts the bytes that arrive on the channel its peer opens, and says when it has them.
// stdin: {"offer": sdp, "bytes": n}    stdout: {"answer": sdp}, then {"got": n, "ms": t}
import { createInterface } from 'node:readline';
import { isBackend, makeLink } from '../node-peer/webrtc/index.ts';

const backend = process.argv[2] ?? '';
if (!isBackend(backend)) throw new Error(`usage: raw-sink.ts werift|datachannel (got ${backend})`);
const say = (m: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(m)}\n`);
const link = makeLink(backend, { connectTimeoutMs: 15_000 });
let want = Infinity;
let got = 0;
let t0 = 0;
link.onChannel((ch) =>
  ch.onMessage((m) => {
    if (got === 0) t0 = performance.now();
    got += m.length;
    if (got >= want) say({ got, ms: performance.now() - t0 });
  }),
);
link.onClose(() => process.exit(0));
for await (const line of createInterface({ input: process.stdin })) {
  const { offer, bytes } = JSON.parse(line) as { offer: string; bytes: number };
  want = bytes;
  say({ answer: await link.acceptOffer(offer) });
}
