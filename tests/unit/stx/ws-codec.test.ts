// The WebSocket frame codec (shared/stx/ws/codec.ts): any message, masked or not, at every length encoding,
// cut at any chunk boundaries and fragmented with pings in between, comes out whole (fast-check); each
// violation gives its close code; a 64-bit length is refused from the header, before any payload is held.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloseCode, closePayload, encodeFrame, FrameParser, Opcode, WsError, type WsEvent } from '../../../shared/stx/ws/codec.ts';

const MASK = Uint8Array.of(1, 2, 3, 4);

function feed(p: FrameParser, bytes: Uint8Array, cuts: number[]): WsEvent[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: WsEvent[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(...p.push(bytes.slice(from, c)));
    from = c;
  }
  return out;
}

const closeCode = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof WsError) return e.code;
    throw e;
  }
  return undefined;
};

describe('WebSocket frames', () => {
  it('round trips messages split into fragments and chunks, with pings between fragments', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 65530, max: 65800 }).map((n) => new Uint8Array(n).map((_, i) => i))),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (payload, masked, cuts, splits) => {
          const bounds = [...new Set(splits.map((s) => s % (payload.length + 1)))].sort((a, b) => a - b);
          const pieces: Uint8Array[] = [];
          let from = 0;
          for (const b of [...bounds, payload.length]) {
            pieces.push(payload.subarray(from, b));
            from = b;
          }
          const mask = masked ? MASK : undefined;
          const frames = pieces.flatMap((p, i) => {
            const f = encodeFrame(i === 0 ? Opcode.binary : Opcode.continuation, p, mask, i === pieces.length - 1);
            return i < pieces.length - 1 ? [f, encodeFrame(Opcode.ping, Uint8Array.of(i), mask)] : [f];
          });
          const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
          let at = 0;
          for (const f of frames) {
            all.set(f, at);
            at += f.length;
          }
          const events = feed(new FrameParser({ masked, maxMessage: 1 << 20 }), all, cuts);
          const messages = events.filter((e) => e.type === 'message');
          expect(messages).toHaveLength(1);
          const m = messages[0] as Extract<WsEvent, { type: 'message' }>;
          expect(m.binary).toBe(true);
          expect(Buffer.from(m.data).equals(Buffer.from(payload))).toBe(true);
          expect(events.filter((e) => e.type === 'ping')).toHaveLength(pieces.length - 1);
        },
      ),
      { numRuns: 200, seed: 6455 },
    );
  });

  it('refuses each violation with its close code', () => {
    const server = () => new FrameParser({ masked: true, maxMessage: 1000 });
    const client = () => new FrameParser({ masked: false, maxMessage: 1000 });
    const data = Uint8Array.of(1, 2, 3);
    expect(closeCode(() => server().push(encodeFrame(Opcode.binary, data)))).toBe(CloseCode.protocolError); // unmasked from a client
    expect(closeCode(() => client().push(encodeFrame(Opcode.binary, data, MASK)))).toBe(CloseCode.protocolError); // masked from a server
    const rsv = encodeFrame(Opcode.binary, data, MASK);
    rsv[0] |= 0x40;
    expect(closeCode(() => server().push(rsv))).toBe(CloseCode.protocolError);
    expect(closeCode(() => server().push(encodeFrame(0x3, data, MASK)))).toBe(CloseCode.protocolError); // reserved opcode
    expect(closeCode(() => server().push(encodeFrame(Opcode.ping, data, MASK, false)))).toBe(CloseCode.protocolError); // fragmented control
    expect(closeCode(() => server().push(encodeFrame(Opcode.ping, new Uint8Array(126), MASK)))).toBe(CloseCode.protocolError);
    expect(closeCode(() => server().push(encodeFrame(Opcode.continuation, data, MASK)))).toBe(CloseCode.protocolError);
    const p = server();
    p.push(encodeFrame(Opcode.binary, data, MASK, false));
    expect(closeCode(() => p.push(encodeFrame(Opcode.binary, data, MASK)))).toBe(CloseCode.protocolError); // new message mid-fragment
    expect(closeCode(() => server().push(encodeFrame(Opcode.text, Uint8Array.of(0xff, 0xfe), MASK)))).toBe(CloseCode.invalidData);
    expect(closeCode(() => server().push(encodeFrame(Opcode.binary, new Uint8Array(1001), MASK)))).toBe(CloseCode.tooBig);
    expect(closeCode(() => server().push(encodeFrame(Opcode.close, Uint8Array.of(3), MASK)))).toBe(CloseCode.protocolError);
    expect(closeCode(() => server().push(encodeFrame(Opcode.close, closePayload(1005), MASK)))).toBe(CloseCode.protocolError);
    // a 16-bit length for 5 bytes: not the shortest form
    expect(closeCode(() => client().push(Uint8Array.of(0x82, 126, 0, 5, 1, 2, 3, 4, 5)))).toBe(CloseCode.protocolError);
  });

  it('refuses a 64-bit length from its header alone, before any payload is buffered', () => {
    const p = new FrameParser({ masked: false, maxMessage: 1 << 20 });
    expect(closeCode(() => p.push(Uint8Array.of(0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0)))).toBe(CloseCode.protocolError); // 2^63
    expect(closeCode(() => new FrameParser({ masked: false, maxMessage: 1 << 20 }).push(Uint8Array.of(0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0)))).toBe(CloseCode.tooBig); // 4 GiB
  });

  it('reads close frames and stops after one', () => {
    const p = new FrameParser({ masked: true, maxMessage: 100 });
    const events = p.push(new Uint8Array([...encodeFrame(Opcode.close, closePayload(1000, 'bye'), MASK), ...encodeFrame(Opcode.binary, Uint8Array.of(1), MASK)]));
    expect(events).toEqual([{ type: 'close', code: 1000, reason: 'bye' }]);
    expect(p.push(encodeFrame(Opcode.binary, Uint8Array.of(1), MASK))).toEqual([]);
  });
});
