// The WebSocket frame codec (shared/stx/ws/codec.ts): any message, masked or not, at every length encoding,
// cut at any chunk boundaries and fragmented with pings in between, comes out whole (fast-check); each
// violation gives its close code; a 64-bit length (2^63, over 2^53, over the limits) is refused from the
// header, before any payload is held; a trickled payload is copied once; after a violation the parser is done.
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

  it('uses the shortest length form at every boundary and reads each back, byte by byte', () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70_000]) {
      for (const mask of [undefined, MASK]) {
        const payload = new Uint8Array(n).map((_, i) => i * 7);
        const f = encodeFrame(Opcode.binary, payload, mask);
        expect(f[1] & 0x7f, `length ${n}`).toBe(n < 126 ? n : n < 65536 ? 126 : 127);
        expect(f.length).toBe(2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) + (mask ? 4 : 0) + n);
        const p = new FrameParser({ masked: mask !== undefined, maxMessage: 1 << 20 });
        const events: WsEvent[] = [];
        const step = n > 1000 ? 997 : 1;
        for (let i = 0; i < f.length; i += step) events.push(...p.push(f.subarray(i, i + step)));
        expect(events).toHaveLength(1);
        expect(Buffer.from((events[0] as Extract<WsEvent, { type: 'message' }>).data).equals(Buffer.from(payload))).toBe(true);
      }
    }
  });

  it('refuses lengths over 2^53 and over the limits from the header alone', () => {
    const header = (big: bigint) => {
      const h = new Uint8Array(10);
      h[0] = 0x82;
      h[1] = 127;
      new DataView(h.buffer).setBigUint64(2, big);
      return h;
    };
    const client = () => new FrameParser({ masked: false, maxMessage: 1 << 20 });
    expect(closeCode(() => client().push(header(2n ** 53n + 1n)))).toBe(CloseCode.tooBig);
    expect(closeCode(() => client().push(header(2n ** 64n - 1n)))).toBe(CloseCode.protocolError);
    expect(closeCode(() => client().push(header((1n << 20n) + 1n)))).toBe(CloseCode.tooBig);
    // only the 10 header bytes were fed: nothing of the claimed payload was waited for or held
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 1000; i++) expect(closeCode(() => client().push(header(2n ** 63n)))).toBe(CloseCode.protocolError);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it('limits one frame apart from the message (maxFrame)', () => {
    const p = () => new FrameParser({ masked: true, maxMessage: 1000, maxFrame: 100 });
    const big = encodeFrame(Opcode.binary, new Uint8Array(101), MASK);
    expect(closeCode(() => p().push(big.subarray(0, 2)))).toBe(CloseCode.tooBig); // from the header, before the payload
    const ok = p();
    const parts = [0, 1, 2, 3, 4].map((i) => encodeFrame(i === 0 ? Opcode.binary : Opcode.continuation, new Uint8Array(100).fill(i), MASK, i === 4));
    const events = parts.flatMap((f) => ok.push(f));
    expect(events).toHaveLength(1);
    expect((events[0] as Extract<WsEvent, { type: 'message' }>).data.length).toBe(500);
    const over = p();
    for (let i = 0; i < 10; i++) over.push(encodeFrame(i === 0 ? Opcode.binary : Opcode.continuation, new Uint8Array(100), MASK, false));
    expect(closeCode(() => over.push(encodeFrame(Opcode.continuation, Uint8Array.of(1), MASK)))).toBe(CloseCode.tooBig); // 1001 reassembled
  });

  it('holds a payload trickled in tiny chunks without copying it again for each one', () => {
    const payload = new Uint8Array(1 << 20).map((_, i) => i);
    const f = encodeFrame(Opcode.binary, payload, MASK);
    const p = new FrameParser({ masked: true, maxMessage: 1 << 20 });
    const events: WsEvent[] = [];
    const t0 = performance.now();
    for (let i = 0; i < f.length; i += 16) events.push(...p.push(f.subarray(i, i + 16)));
    const ms = performance.now() - t0;
    expect(events).toHaveLength(1);
    expect(Buffer.from((events[0] as Extract<WsEvent, { type: 'message' }>).data).equals(Buffer.from(payload))).toBe(true);
    // 65,537 chunks: copied once each is a few ms; re-copied per chunk would be ~32 GiB of copying
    expect(ms).toBeLessThan(3000);
  });

  it('is done after a violation: what follows is neither parsed nor held', () => {
    const p = new FrameParser({ masked: true, maxMessage: 1000 });
    expect(closeCode(() => p.push(encodeFrame(Opcode.binary, Uint8Array.of(1))))).toBe(CloseCode.protocolError);
    expect(p.push(encodeFrame(Opcode.binary, Uint8Array.of(1), MASK))).toEqual([]);
    expect(p.push(new Uint8Array(5000))).toEqual([]);
  });

  it('checks UTF-8 on the whole text message, a character split across fragments included', () => {
    const bytes = new TextEncoder().encode('héllo €');
    const split = bytes.indexOf(0xe2) + 1; // inside the euro sign
    const p = new FrameParser({ masked: true, maxMessage: 1000 });
    const events = [...p.push(encodeFrame(Opcode.text, bytes.subarray(0, split), MASK, false)), ...p.push(encodeFrame(Opcode.pong, new Uint8Array(0), MASK)), ...p.push(encodeFrame(Opcode.continuation, bytes.subarray(split), MASK))];
    expect(events.map((e) => e.type)).toEqual(['pong', 'message']);
    expect(new TextDecoder().decode((events[1] as Extract<WsEvent, { type: 'message' }>).data)).toBe('héllo €');
    const badReason = new Uint8Array([...closePayload(1000), 0xc3]);
    expect(closeCode(() => new FrameParser({ masked: true, maxMessage: 1000 }).push(encodeFrame(Opcode.close, badReason, MASK)))).toBe(CloseCode.invalidData);
  });

  it('reads close frames and stops after one', () => {
    const p = new FrameParser({ masked: true, maxMessage: 100 });
    const events = p.push(new Uint8Array([...encodeFrame(Opcode.close, closePayload(1000, 'bye'), MASK), ...encodeFrame(Opcode.binary, Uint8Array.of(1), MASK)]));
    expect(events).toEqual([{ type: 'close', code: 1000, reason: 'bye' }]);
    expect(p.push(encodeFrame(Opcode.binary, Uint8Array.of(1), MASK))).toEqual([]);
  });
});
