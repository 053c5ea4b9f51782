// A fix applied to werift 0.25.2 at run time: SCTP reassembly on the receiving side.
//
// werift's InboundStream.popMessages() (sctp.ts), after it delivers an ordered message, goes on looking for
// the next one as if it were the next fragment of the same message: it compares the next chunk's TSN with
// the TSN after the one just delivered. When the channel's messages are not at consecutive TSNs (several
// channels send at once, so their chunks interleave) and the next messages arrived before the one just
// delivered (a packet was lost and retransmitted, which the 212 KB default UDP receive buffer makes common
// under load), the messages already received wait in reassembly until another chunk arrives on that stream,
// and for good if none does (upstream issue #706, "messages stuck in reassembly when streams interleave";
// seen here: 32 channels sending at once, 4 of them stuck at their 16th message).
//
// The replacement below delivers every complete message whose turn it is: for an ordered stream the message
// with the next stream sequence number, as long as its fragments are all there; for an unordered one any
// complete message. Messages are copied out, as werift does. The class is not exported, so it is reached
// through the prototype of a stream object, once per process.
type Chunk = { tsn: number; flags: number; streamId: number; streamSeqNum: number; protocol: number; userData: Buffer };
interface InboundStreamLike {
  reassembly: Chunk[];
  streamSequenceNumber: number;
  popMessages(): Generator<[number, number, Buffer]>;
}

const LAST_FRAG = 0x01;
const FIRST_FRAG = 0x02;
const UNORDERED = 0x04;
const PATCHED = Symbol.for('stateos.werift.popMessages');

const tsnPlusOne = (tsn: number) => (tsn + 1) % 0x1_0000_0000;
const uint16Gt = (a: number, b: number) => (a < b && b - a > 0x8000) || (a > b && a - b < 0x8000);

/** The fixed popMessages: yields [streamId, protocol, userData] for every message ready to deliver. */
export function* popMessages(this: InboundStreamLike): Generator<[number, number, Buffer]> {
  let pos = 0;
  while (pos < this.reassembly.length) {
    const first = this.reassembly[pos];
    const ordered = (first.flags & UNORDERED) === 0;
    if ((first.flags & FIRST_FRAG) === 0 || (ordered && uint16Gt(first.streamSeqNum, this.streamSequenceNumber))) {
      if (ordered) return; // the next message in order is not (all) here yet
      pos++;
      continue;
    }
    let end = pos;
    let complete = true;
    while ((this.reassembly[end].flags & LAST_FRAG) === 0) {
      const next = this.reassembly[end + 1];
      if (!next || next.tsn !== tsnPlusOne(this.reassembly[end].tsn)) {
        complete = false;
        break;
      }
      end++;
    }
    if (!complete) {
      if (ordered) return;
      pos = end + 1;
      continue;
    }
    const parts = this.reassembly.splice(pos, end - pos + 1);
    const userData = Buffer.concat(parts.map((c) => c.userData));
    if (ordered && first.streamSeqNum === this.streamSequenceNumber) this.streamSequenceNumber = (this.streamSequenceNumber + 1) & 0xffff;
    yield [first.streamId, first.protocol, userData];
    // The next message starts where this one was.
  }
}

/** Installs the fix on the class of `stream` (an InboundStream); returns false if it does not look like one. */
export function fixInboundStream(stream: unknown): boolean {
  const proto: Record<PropertyKey, unknown> | null = typeof stream === 'object' && stream !== null ? Object.getPrototypeOf(stream) : null;
  if (!proto || typeof proto.popMessages !== 'function' || typeof proto.addChunk !== 'function') return false;
  if (proto[PATCHED]) return true;
  proto.popMessages = popMessages;
  proto[PATCHED] = true;
  return true;
}

/** Applies the fix through a peer connection's SCTP association (any werift RTCPeerConnection with a data channel). */
export function fixWeriftSctp(sctp: unknown): boolean {
  const s = sctp as { inboundStreams?: Record<number, unknown>; getInboundStream?: (id: number) => unknown } | undefined;
  if (!s?.inboundStreams || typeof s.getInboundStream !== 'function') return false;
  const probe = 65535;
  const had = probe in s.inboundStreams;
  const stream = s.getInboundStream(probe);
  if (!had) delete s.inboundStreams[probe];
  return fixInboundStream(stream);
}
