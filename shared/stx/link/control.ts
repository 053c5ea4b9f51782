// The link control channel: a data channel negotiated out of band on both sides (label "stx-link", stream
// id 0, ordered, reliable) and never announced through onChannel. It exists from the offer on, so the offer
// carries the data channel m-line, and it carries four messages (docs/PROTOCOL.md, "Transports"):
//   PING    01                                   heartbeat; anything received proves the peer alive
//   BYE     02 reason (UTF-8, ≤ 200 bytes)         the link is closing: close yours now
//   CLOSE   03 stream (u16 LE) count (u32 LE)      I close this channel after `count` messages sent on it
//   CLOSED  04 stream (u16 LE)                     I have all of them: reset the stream
// CLOSE/CLOSED make a channel close deliver everything sent before it, which a bare SCTP stream reset does
// not on either backend (node-datachannel #375, #211; werift drops its send queue on close). Unknown types
// and malformed messages are ignored, so the set can grow.

export const CONTROL_LABEL = 'stx-link';
export const CONTROL_ID = 0;

export const ControlType = { PING: 1, BYE: 2, CLOSE: 3, CLOSED: 4, PONG: 5 } as const;

export type ControlMessage =
  | { type: 'ping' }
  | { type: 'pong' }
  | { type: 'bye'; reason: string }
  | { type: 'close'; stream: number; count: number }
  | { type: 'closed'; stream: number };

const MAX_REASON_BYTES = 200;

export function encodePing(): Uint8Array {
  return Uint8Array.of(ControlType.PING);
}

export function encodePong(): Uint8Array {
  return Uint8Array.of(ControlType.PONG);
}

export function encodeBye(reason: string): Uint8Array {
  let text = new TextEncoder().encode(reason);
  if (text.length > MAX_REASON_BYTES) text = text.subarray(0, MAX_REASON_BYTES);
  const out = new Uint8Array(1 + text.length);
  out[0] = ControlType.BYE;
  out.set(text, 1);
  return out;
}

export function encodeClose(stream: number, count: number): Uint8Array {
  const out = new Uint8Array(7);
  const v = new DataView(out.buffer);
  out[0] = ControlType.CLOSE;
  v.setUint16(1, stream, true);
  v.setUint32(3, count >>> 0, true);
  return out;
}

export function encodeClosed(stream: number): Uint8Array {
  const out = new Uint8Array(3);
  out[0] = ControlType.CLOSED;
  new DataView(out.buffer).setUint16(1, stream, true);
  return out;
}

/** The message, or undefined for an unknown type or a malformed one. */
export function decodeControl(bytes: Uint8Array): ControlMessage | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (bytes[0]) {
    case ControlType.PING:
      return { type: 'ping' };
    case ControlType.PONG:
      return { type: 'pong' };
    case ControlType.BYE:
      return { type: 'bye', reason: new TextDecoder().decode(bytes.subarray(1, 1 + MAX_REASON_BYTES)) };
    case ControlType.CLOSE:
      return bytes.length === 7 ? { type: 'close', stream: v.getUint16(1, true), count: v.getUint32(3, true) } : undefined;
    case ControlType.CLOSED:
      return bytes.length === 3 ? { type: 'closed', stream: v.getUint16(1, true) } : undefined;
    default:
      return undefined;
  }
}
