// RFC 6455 WebSocket frames, our own (no `ws` in the tree): the State API's transport for tools that cannot
// do WebRTC (docs/API.md). An incremental parser fed with whatever chunks the socket gives, strict where the
// RFC says MUST: masked frames from clients and unmasked from servers, no reserved bits (no extensions are
// negotiated), known opcodes only, control frames final and at most 125 bytes, minimal length encodings,
// a continuation only inside a fragmented message, text that is UTF-8, a close code the RFC allows. Sizes
// are checked against the limit from the frame header, before anything is buffered. Isomorphic.
import { concatBytes } from '../../util/bytes.ts';

export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** Close codes (RFC 6455 §7.4.1). */
export const CloseCode = { normal: 1000, goingAway: 1001, protocolError: 1002, invalidData: 1007, policy: 1008, tooBig: 1009, internal: 1011 } as const;

/** A violation of the protocol: the connection is closed with `code`. */
export class WsError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'WsError';
  }
}

export type WsEvent =
  | { type: 'message'; binary: boolean; data: Uint8Array }
  | { type: 'ping'; data: Uint8Array }
  | { type: 'pong'; data: Uint8Array }
  | { type: 'close'; code?: number; reason: string };

export interface ParserOptions {
  /** Frames must be masked (a server reading a client) or must not be (a client reading a server). */
  masked: boolean;
  /** Largest message, reassembled, in bytes. */
  maxMessage: number;
  /** Largest payload of one frame. Default: maxMessage. */
  maxFrame?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

/** One frame. `mask`: 4 bytes for a client's frame, undefined for a server's. */
export function encodeFrame(opcode: number, payload: Uint8Array, mask?: Uint8Array, fin = true): Uint8Array {
  const n = payload.length;
  const lenBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = 2 + lenBytes + (mask ? 4 : 0);
  const out = new Uint8Array(head + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (lenBytes === 2) view.setUint16(2, n);
  else if (lenBytes === 8) view.setBigUint64(2, BigInt(n));
  if (mask) {
    out.set(mask, 2 + lenBytes);
    for (let i = 0; i < n; i++) out[head + i] = payload[i] ^ mask[i & 3];
  } else out.set(payload, head);
  return out;
}

/** A close frame's payload: the code and a reason cut to fit 125 bytes. */
export function closePayload(code: number, reason = ''): Uint8Array {
  let r = enc.encode(reason);
  if (r.length > 123) r = r.subarray(0, 123);
  const out = new Uint8Array(2 + r.length);
  new DataView(out.buffer).setUint16(0, code);
  out.set(r, 2);
  return out;
}

const validCloseCode = (c: number) => (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) || (c >= 3000 && c <= 4999);

export class FrameParser {
  private buf: Uint8Array = new Uint8Array(0);
  /** Chunks held while the frame at the head of `buf` is incomplete, joined once it is whole: a payload
   *  trickled in tiny chunks is copied once, not once per chunk. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** Bytes the frame at the head of `buf` needs in all; 0 while its header is incomplete. */
  private need = 0;
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  private partBinary: boolean | undefined;
  private closed = false;

  private readonly maxFrame: number;

  constructor(private readonly opts: ParserOptions) {
    this.maxFrame = Math.min(opts.maxFrame ?? opts.maxMessage, opts.maxMessage);
  }

  /** Feeds bytes; returns the events they complete. Throws WsError on a violation (the parser is then done). */
  push(chunk: Uint8Array): WsEvent[] {
    if (this.closed || chunk.length === 0) return [];
    if (this.need > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.buf.length + this.heldBytes < this.need) return [];
      this.buf = concatBytes([this.buf, ...this.held], this.buf.length + this.heldBytes);
      this.held = [];
      this.heldBytes = 0;
      this.need = 0;
    } else this.buf = this.buf.length === 0 ? chunk : concatBytes([this.buf, chunk]);
    const events: WsEvent[] = [];
    try {
      for (;;) {
        const e = this.frame();
        if (e === undefined) break;
        if (e !== null) events.push(e);
        if (e?.type === 'close') {
          this.closed = true;
          break;
        }
      }
    } catch (e) {
      // done: what the peer sends after a violation is not held or parsed again
      this.closed = true;
      this.buf = new Uint8Array(0);
      this.parts = [];
      throw e;
    }
    return events;
  }

  /** One frame from the buffer: an event, null (a fragment kept), or undefined (need more bytes). */
  private frame(): WsEvent | null | undefined {
    const b = this.buf;
    if (b.length < 2) return undefined;
    const fin = (b[0] & 0x80) !== 0;
    if (b[0] & 0x70) throw new WsError(CloseCode.protocolError, 'reserved bits set (no extension was negotiated)');
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    if (masked !== this.opts.masked) throw new WsError(CloseCode.protocolError, this.opts.masked ? 'a client frame must be masked' : 'a server frame must not be masked');
    let len = b[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = (b[2] << 8) | b[3];
      if (len < 126) throw new WsError(CloseCode.protocolError, 'a length not in its shortest form');
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const big = new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0);
      if (big >> 63n) throw new WsError(CloseCode.protocolError, 'a 64-bit length with its top bit set');
      if (big < 65536n) throw new WsError(CloseCode.protocolError, 'a length not in its shortest form');
      if (big > BigInt(this.maxFrame)) throw new WsError(CloseCode.tooBig, `a frame of ${big} bytes (at most ${this.maxFrame})`);
      len = Number(big);
      at = 10;
    }
    const control = opcode >= 0x8;
    if (control) {
      if (opcode !== Opcode.close && opcode !== Opcode.ping && opcode !== Opcode.pong) throw new WsError(CloseCode.protocolError, `unknown control opcode ${opcode}`);
      if (!fin) throw new WsError(CloseCode.protocolError, 'a fragmented control frame');
      if (len > 125) throw new WsError(CloseCode.protocolError, 'a control frame over 125 bytes');
    } else {
      if (opcode !== Opcode.continuation && opcode !== Opcode.text && opcode !== Opcode.binary) throw new WsError(CloseCode.protocolError, `unknown data opcode ${opcode}`);
      if (opcode === Opcode.continuation && this.partBinary === undefined) throw new WsError(CloseCode.protocolError, 'a continuation outside a fragmented message');
      if (opcode !== Opcode.continuation && this.partBinary !== undefined) throw new WsError(CloseCode.protocolError, 'a new message inside a fragmented one');
      if (len > this.maxFrame) throw new WsError(CloseCode.tooBig, `a frame of ${len} bytes (at most ${this.maxFrame})`);
      if (this.partBytes + len > this.opts.maxMessage) throw new WsError(CloseCode.tooBig, `a message over ${this.opts.maxMessage} bytes`);
    }
    const maskAt = at;
    if (masked) at += 4;
    if (b.length < at + len) {
      this.need = at + len;
      return undefined;
    }
    const payload = b.slice(at, at + len);
    if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskAt + (i & 3)];
    this.buf = b.subarray(at + len);

    if (control) {
      if (opcode === Opcode.ping) return { type: 'ping', data: payload };
      if (opcode === Opcode.pong) return { type: 'pong', data: payload };
      if (len === 0) return { type: 'close', reason: '' };
      if (len === 1) throw new WsError(CloseCode.protocolError, 'a close frame of one byte');
      const code = (payload[0] << 8) | payload[1];
      if (!validCloseCode(code)) throw new WsError(CloseCode.protocolError, `close code ${code} is not one a peer may send`);
      return { type: 'close', code, reason: text(payload.subarray(2)) };
    }
    if (opcode !== Opcode.continuation) this.partBinary = opcode === Opcode.binary;
    this.parts.push(payload);
    this.partBytes += len;
    if (!fin) return null;
    const data = this.parts.length === 1 ? this.parts[0] : concatBytes(this.parts, this.partBytes);
    const binary = this.partBinary!;
    this.parts = [];
    this.partBytes = 0;
    this.partBinary = undefined;
    if (!binary) text(data);
    return { type: 'message', binary, data };
  }
}

function text(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new WsError(CloseCode.invalidData, 'text that is not UTF-8');
  }
}
