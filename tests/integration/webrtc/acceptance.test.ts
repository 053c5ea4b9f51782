// The transport acceptance suite (shared/stx/transport-acceptance.ts) between two real WebRTC peers in this
// process, over loopback UDP: werift, node-datachannel, and each offering to the other.
import { describe, it } from 'vitest';
import { runTransportTests } from '../../../shared/stx/transport-acceptance.ts';
import { type Backend, connectPair } from '../../../node-peer/webrtc/index.ts';

const pairs: [string, Backend | [Backend, Backend]][] = [
  ['werift', 'werift'],
  ['node-datachannel', 'datachannel'],
  ['werift offering to node-datachannel', ['werift', 'datachannel']],
];

for (const [name, backend] of pairs) {
  describe(`transport acceptance: ${name}`, () => {
    runTransportTests(it, () => connectPair(backend));
  });
}
