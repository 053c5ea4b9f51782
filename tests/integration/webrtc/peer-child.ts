// The far peer of two-process.test.ts: a separate Node process that answers an offer read from stdin, then
// serves a SignalingConnection on the channel its peer opens, and exits once the link is closed.
// stdin:  {"offer": sdp}                 stdout: {"answer": sdp}, then {"closed": reason}
import { createInterface } from 'node:readline';
import { SignalingConnection } from '../../../shared/stx/connection.ts';
import { SIGNALING_LABEL } from '../../../shared/stx/transport.ts';
import { isBackend, makeLink } from '../../../node-peer/webrtc/index.ts';

const backend = process.argv[2] ?? '';
if (!isBackend(backend)) throw new Error(`usage: peer-child.ts werift|datachannel (got ${backend})`);
const say = (m: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(m)}\n`);

const link = makeLink(backend, { connectTimeoutMs: 15_000 });
link.onChannel((ch) => {
  if (ch.label !== SIGNALING_LABEL) return;
  new SignalingConnection(ch, {
    handlers: {
      Echo: (m) => ({ attrs: { n: m.attrs.n ?? '' } }),
      Whoami: () => ({ attrs: { pid: String(process.pid), local: link.localFingerprint?.value ?? '', remote: link.remoteFingerprint?.value ?? '' } }),
    },
  });
});
link.onClose((reason) => {
  say({ closed: reason });
  setTimeout(() => process.exit(0), 50);
});
// Never outlive the test.
setTimeout(() => {
  say({ closed: 'child timed out' });
  process.exit(2);
}, 30_000).unref();

for await (const line of createInterface({ input: process.stdin })) {
  const { offer } = JSON.parse(line) as { offer?: string };
  if (offer) say({ answer: await link.acceptOffer(offer) });
}
