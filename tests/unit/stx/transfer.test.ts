// Data-channel transfers (shared/stx/transfer.ts) over the memory pair: frames byte by byte, delivery of
// small and cut STUs, packing, admission (keys, streams, single use), credit window, rate, bufferedAmount,
// aborts from either side, closes, and malformed frames from either side (fast-check).
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isStxError, StxError } from '../../../shared/stx/errors.ts';
import { memoryPair, type MemoryOptions } from '../../../shared/stx/memory-transport.ts';
import {
  DEFAULT_MAX_STU_BYTES,
  sameKey,
  sendStus,
  streamOfLabel,
  TRANSFER_LABEL_PREFIX,
  TransferReceiver,
  type TransferReceiverOptions,
  type TransferStats,
  type TransferTicket,
} from '../../../shared/stx/transfer.ts';
import {
  decodeFrame,
  encodeAbort,
  encodeAuth,
  encodeCredit,
  encodeOk,
  encodeTotals,
  FRAME,
  RECORD,
  startData,
  writeRecord,
} from '../../../shared/stx/transfer-frames.ts';
import type { Channel, PeerLink } from '../../../shared/stx/transport.ts';
import { hex, toHex, until } from './helpers.ts';

const KiB = 1024;
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An STU-like byte string: its index in the first 4 bytes, then a pattern that depends on the index. */
function stu(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (k * 31 + i * 7 + (k >> 8)) & 255;
  if (size >= 4) new DataView(b.buffer).setUint32(0, i, true);
  return b;
}
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
const keyOf = (t: TransferTicket) => Uint8Array.from(Buffer.from(t.key, 'base64url'));

/** Wraps a link: counts DATA frames it sends and keeps the channels it opens. */
function spy(link: PeerLink) {
  const rec = { dataFrames: 0, dataBytes: 0, maxBuffered: 0, channels: [] as Channel[], onData: undefined as undefined | (() => void) };
  const proxy: PeerLink = {
    get state() {
      return link.state;
    },
    get maxMessageSize() {
      return link.maxMessageSize;
    },
    openChannel: async (label, opts) => {
      const ch = await link.openChannel(label, opts);
      rec.channels.push(ch);
      const send = ch.send.bind(ch);
      ch.send = (bytes: Uint8Array) => {
        if (bytes[0] === FRAME.DATA) {
          rec.maxBuffered = Math.max(rec.maxBuffered, ch.bufferedAmount);
          rec.dataFrames++;
          rec.dataBytes += bytes.length;
        }
        send(bytes);
        if (bytes[0] === FRAME.DATA) rec.onData?.();
      };
      return ch;
    },
    onChannel: (fn) => link.onChannel(fn),
    close: (reason) => link.close(reason),
    onClose: (fn) => link.onClose(fn),
  };
  return { link: proxy, rec };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(rx: TransferReceiverOptions = {}, transport: MemoryOptions = {}) {
  const [a, b] = memoryPair(transport);
  const receiver = new TransferReceiver(b, rx);
  const sender = spy(a);
  cleanups.push(() => {
    receiver.close();
    a.close('test over');
  });
  return { a, b, receiver, sender };
}

/** A raw peer: opens the transfer channel itself and collects the frames it gets back. */
async function rawSender(link: PeerLink, stream: number) {
  const ch = await link.openChannel(TRANSFER_LABEL_PREFIX + stream, { ordered: true, reliable: true });
  const got: Uint8Array[] = [];
  let closed = false;
  ch.onMessage((b) => got.push(b));
  ch.onClose(() => (closed = true));
  return { ch, got, isClosed: () => closed };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof StxError)) throw new Error(`not an StxError: ${String(e)}`);
    return e.code;
  }
  return 'RESOLVED';
}

describe('transfer frames', () => {
  it('encodes every frame type byte for byte and decodes it back', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const auth = encodeAuth(0x01020304, key);
    expect(toHex(auth)).toBe('01 01 04030201 000102030405060708090a0b0c0d0e0f'.replace(/ /g, ''));
    expect(decodeFrame(auth)).toEqual({ ok: true, value: { type: 'AUTH', version: 1, stream: 0x01020304, key } });

    expect(toHex(encodeOk(4 * MiB, DEFAULT_MAX_STU_BYTES))).toBe('02' + '00004000' + '00020004');
    expect(decodeFrame(encodeOk(4 * MiB, DEFAULT_MAX_STU_BYTES))).toEqual({ ok: true, value: { type: 'OK', window: 4 * MiB, maxStu: 64 * MiB + 512 } });
    expect(toHex(encodeCredit(65536))).toBe('0400000100');
    expect(toHex(encodeTotals('END', { stus: 3, bytes: 2 ** 32 + 5 }))).toBe('05' + '0300000000000000' + '0500000001000000');
    expect(decodeFrame(encodeTotals('DONE', { stus: 3, bytes: 2 ** 32 + 5 }))).toEqual({ ok: true, value: { type: 'DONE', stus: 3, bytes: 2 ** 32 + 5 } });
    expect(toHex(encodeAbort('REFUSED', 'wrong key'))).toBe('07' + '07' + Buffer.from('REFUSEDwrong key').toString('hex'));
    expect(decodeFrame(encodeAbort('REFUSED', 'wrong key'))).toEqual({ ok: true, value: { type: 'ABORT', code: 'REFUSED', reason: 'wrong key' } });

    // DATA: a whole STU "abc", then the first 2 bytes of a 5-byte STU
    const out = new Uint8Array(64);
    let n = startData(out);
    n = writeRecord(out, n, RECORD.WHOLE, 0, Uint8Array.of(0x61, 0x62, 0x63));
    n = writeRecord(out, n, RECORD.FIRST, 5, Uint8Array.of(1, 2));
    const data = out.subarray(0, n);
    expect(toHex(data)).toBe('03' + '00' + '03000000' + '616263' + '01' + '05000000' + '02000000' + '0102');
    const d = decodeFrame(data);
    expect(d.ok && d.value.type === 'DATA' && d.value.records.map((r) => [r.kind, r.total, toHex(r.bytes)])).toEqual([
      [0, 0, '616263'],
      [1, 5, '0102'],
    ]);
  });

  it('refuses malformed frames with a code and never throws', () => {
    const bad: [string, string][] = [
      ['', 'TRUNCATED'],
      ['09', 'BAD_FRAME'],
      ['00', 'BAD_FRAME'],
      ['01 01 01000000 00', 'TRUNCATED'],
      ['02 00040000 01000000 00', 'BAD_LENGTH'],
      ['02 ff000000 01000000', 'BAD_FRAME'], // window under 1 KiB
      ['03', 'BAD_LENGTH'], // no records
      ['03 04 01000000 00', 'BAD_FRAME'], // record kind 4
      ['03 00 00000000', 'BAD_LENGTH'], // empty record
      ['03 00 05000000 0102', 'TRUNCATED'],
      ['03 00 ffffffff 01', 'TRUNCATED'],
      ['03 01 02000000 02000000 0102', 'BAD_LENGTH'], // a first part that is the whole STU
      ['03 01 ffffffff', 'TRUNCATED'],
      ['04 00000000', 'BAD_FRAME'], // zero credit
      ['05 00 00000000 00000000 00000000 00000000', 'BAD_LENGTH'],
      ['06 00000000 00002000 00000000 00000000', 'BAD_FRAME'], // above 2^53
      ['07 00', 'TRUNCATED'],
      ['07 00 41', 'BAD_FRAME'],
      ['07 05 4142', 'TRUNCATED'],
      ['07 01 61', 'BAD_FRAME'], // lower case code
      ['07 21' + '41'.repeat(33), 'BAD_FRAME'], // code over 32
    ];
    for (const [h, code] of bad) {
      const r = decodeFrame(hex(h));
      expect(r.ok ? 'ok' : r.error.code, h).toBe(code);
    }
    expect(decodeFrame(encodeAbort('X', 'é'.repeat(400))).ok).toBe(true); // cut to 512 bytes on a character boundary
    expect(decodeFrame(Uint8Array.of(7, 1, 0x41, ...new Uint8Array(513))).ok).toBe(false);
  });

  it('compares keys in constant time and reads labels strictly', () => {
    expect(sameKey(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(sameKey(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(sameKey(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(streamOfLabel('stx-data/42')).toBe(42);
    expect(streamOfLabel('stx-data/2147483647')).toBe(2 ** 31 - 1);
    for (const l of ['stx-data/0', 'stx-data/042', 'stx-data/2147483648', 'stx-data/', 'stx-data/1x', 'stx', 'stx-data/-1']) expect(streamOfLabel(l), l).toBeUndefined();
  });

  it('issues tickets with a random 128-bit base64url key and a stream id in range', () => {
    const { receiver } = setup();
    const tickets = Array.from({ length: 50 }, () => receiver.expect({ onStu: () => undefined, rate: 1000 }));
    for (const { ticket } of tickets) {
      expect(ticket.key).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(keyOf(ticket).length).toBe(16);
      expect(Number.isInteger(ticket.stream) && ticket.stream >= 1 && ticket.stream <= 2 ** 31 - 1).toBe(true);
      expect(ticket.rate).toBe(1000);
    }
    expect(new Set(tickets.map((t) => t.ticket.key)).size).toBe(50);
    expect(new Set(tickets.map((t) => t.ticket.stream)).size).toBe(50);
    expect(receiver.expect({ onStu: () => undefined }).ticket).not.toHaveProperty('rate');
  });
});

describe('transfers over the memory pair', () => {
  it('delivers small and large STUs byte-exact and in order (3 MiB cut into 16 KiB messages)', async () => {
    const { receiver, sender } = setup({}, { maxMessageSize: 16 * KiB });
    const frame = 16 * KiB;
    const sizes = [600, 3 * MiB, 1, frame - 6, frame - 5, 20 * KiB, 512, 2 * frame, 700 * KiB + 3, 9];
    const stus = sizes.map((s, i) => stu(i, s));
    const got: Uint8Array[] = [];
    const exp = receiver.expect({ onStu: (b) => void got.push(b) });
    const sent = await sendStus(sender.link, exp.ticket, stus);
    const done = await exp.done;
    expect(got.length).toBe(stus.length);
    got.forEach((g, i) => expect(same(g, stus[i]), `STU ${i} of ${sizes[i]} bytes`).toBe(true));
    expect(got.filter((g) => g.byteOffset !== 0 || g.buffer.byteLength !== g.length)).toEqual([]); // own copies, not views of frames
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(sent).toMatchObject({ stus: stus.length, bytes: total });
    expect(done).toMatchObject({ stus: stus.length, bytes: total });
    expect(sender.rec.dataFrames).toBeGreaterThanOrEqual(Math.ceil(total / frame));
    expect(receiver.stats).toEqual({ admitted: 1, refused: 0, completed: 1, failed: 0 });
    await until(() => sender.rec.channels[0].state === 'closed');
  });

  it('packs 10,000 small STUs many to a message', async () => {
    const { receiver, sender } = setup();
    const stus = Array.from({ length: 10_000 }, (_, i) => stu(i, 512 + (i % 200)));
    let inOrder = 0;
    const exp = receiver.expect({
      onStu: (b) => {
        if (same(b, stus[inOrder])) inOrder++;
      },
    });
    const progress: TransferStats[] = [];
    const sent = await sendStus(sender.link, exp.ticket, stus, { onProgress: (s) => progress.push(s) });
    await exp.done;
    expect(inOrder).toBe(10_000);
    expect(sent.stus).toBe(10_000);
    expect(sender.rec.dataFrames).toBeLessThan(10_000 / 50); // 64 KiB messages hold ~100 of them
    expect(progress.length).toBe(sender.rec.dataFrames);
    expect(progress.at(-1)).toMatchObject({ stus: 10_000, bytes: sent.bytes });
  });

  it('an async source that stalls gets the frame built so far sent, not held', async () => {
    const { receiver, sender } = setup();
    let delivered = 0;
    const exp = receiver.expect({ onStu: () => void delivered++ });
    async function* source() {
      for (let i = 0; i < 3; i++) yield stu(i, 600);
      await until(() => delivered === 3); // only once the first three have arrived
      yield stu(3, 600);
    }
    const sent = await sendStus(sender.link, exp.ticket, source());
    expect(sent.stus).toBe(4);
    expect((await exp.done).stus).toBe(4);
  });

  it('refuses a wrong key and an unknown stream before any STU moves, and the ticket stays good', async () => {
    const { receiver, sender } = setup();
    let calls = 0;
    const exp = receiver.expect({ onStu: () => void calls++ });
    const other = receiver.expect({ onStu: () => void calls++ }).ticket; // a real key of another ticket
    const wrongKey = { ...exp.ticket, key: other.key };
    const unknown = { stream: exp.ticket.stream === 7 ? 8 : 7, key: exp.ticket.key };
    await expect(sendStus(sender.link, wrongKey, [stu(0, 600)])).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringContaining('wrong key') });
    await expect(sendStus(sender.link, unknown, [stu(0, 600)])).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringContaining('unknown stream') });
    expect(calls).toBe(0);
    expect(sender.rec.dataFrames).toBe(0);
    expect(receiver.stats).toMatchObject({ admitted: 0, refused: 2 });
    await until(() => sender.rec.channels.every((c) => c.state === 'closed'));
    // the right key still gets in
    await sendStus(sender.link, exp.ticket, [stu(0, 600)]);
    expect((await exp.done).stus).toBe(1);
    expect(calls).toBe(1);
  });

  it('a ticket is single-use: a second channel presenting it is refused, during and after the transfer', async () => {
    const { receiver, sender } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const exp = receiver.expect({
      onStu: async () => {
        calls++;
        await gate;
      },
    });
    const first = sendStus(sender.link, exp.ticket, [stu(0, 600), stu(1, 600)]);
    await until(() => calls === 1);
    await expect(sendStus(sender.link, exp.ticket, [stu(9, 600)])).rejects.toMatchObject({ code: 'REFUSED' });
    release();
    expect((await first).stus).toBe(2);
    expect((await exp.done).stus).toBe(2);
    await expect(sendStus(sender.link, exp.ticket, [stu(9, 600)])).rejects.toMatchObject({ code: 'REFUSED' });
    expect(calls).toBe(2);
    expect(receiver.stats).toEqual({ admitted: 1, refused: 2, completed: 1, failed: 0 });
  });

  it('a slow onStu keeps the bytes in flight within the credit window', async () => {
    const window = 64 * KiB;
    const { receiver, sender } = setup({ windowBytes: window }, { maxMessageSize: 16 * KiB });
    const stus = Array.from({ length: 256 }, (_, i) => stu(i, 4 * KiB)); // 1 MiB
    let consumed = 0;
    let maxOutstanding = 0;
    const exp = receiver.expect({
      onStu: async (b) => {
        await sleep(0);
        consumed += b.length;
      },
    });
    const sent = await sendStus(sender.link, exp.ticket, stus, {
      onProgress: (s) => (maxOutstanding = Math.max(maxOutstanding, s.bytes - consumed)),
    });
    await exp.done;
    expect(sent.bytes).toBe(MiB);
    expect(maxOutstanding).toBeLessThanOrEqual(window);
    expect(maxOutstanding).toBeGreaterThan(window / 2); // and the window is used, not one STU at a time
  });

  it('large STUs are not held back by a window smaller than they are', async () => {
    const { receiver, sender } = setup({ windowBytes: 8 * KiB }, { maxMessageSize: 4 * KiB });
    const stus = [stu(0, 100 * KiB), stu(1, 3000), stu(2, 50 * KiB + 1)];
    const got: Uint8Array[] = [];
    const exp = receiver.expect({ onStu: (b) => void got.push(b) });
    await sendStus(sender.link, exp.ticket, stus);
    await exp.done;
    expect(got.map((g, i) => same(g, stus[i]))).toEqual([true, true, true]);
  });

  it('paces the sender at the ticket rate (token bucket)', async () => {
    const { receiver, sender } = setup({}, { maxMessageSize: 16 * KiB });
    const rate = MiB; // bytes per second
    const stus = Array.from({ length: 96 }, (_, i) => stu(i, 8 * KiB)); // 768 KiB
    const exp = receiver.expect({ rate, onStu: () => undefined });
    expect(exp.ticket.rate).toBe(rate);
    const t0 = performance.now();
    const sent = await sendStus(sender.link, exp.ticket, stus);
    const elapsed = (performance.now() - t0) / 1000;
    await exp.done;
    // bytes/rate is 0.75 s; the bucket lets 50 ms and one frame go at once
    expect(elapsed).toBeGreaterThan((0.6 * sent.bytes) / rate);
  });

  it('waits on bufferedAmount (onBufferedAmountLow) when the channel is slower than the credit', async () => {
    const { receiver, sender } = setup({}, { bytesPerTick: 16 * KiB, maxMessageSize: 16 * KiB });
    const highWater = 64 * KiB;
    const exp = receiver.expect({ onStu: () => undefined });
    const stus = Array.from({ length: 64 }, (_, i) => stu(i, 8 * KiB));
    await sendStus(sender.link, exp.ticket, stus, { highWaterBytes: highWater });
    await exp.done;
    expect(sender.rec.maxBuffered).toBeLessThan(highWater);
    expect(sender.rec.maxBuffered).toBeGreaterThan(0);
  });

  it('onStu throwing aborts both sides with the reason', async () => {
    const { receiver, sender } = setup();
    let calls = 0;
    const exp = receiver.expect({
      onStu: () => {
        if (++calls === 5) throw new Error('disk full');
      },
    });
    const sent = sendStus(sender.link, exp.ticket, Array.from({ length: 2000 }, (_, i) => stu(i, 600)));
    await expect(exp.done).rejects.toMatchObject({ code: 'HANDLER_FAILED', message: expect.stringContaining('disk full') });
    await expect(sent).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteCode: 'HANDLER_FAILED', message: expect.stringContaining('disk full') });
    expect(calls).toBe(5);
    expect(receiver.stats).toMatchObject({ admitted: 1, completed: 0, failed: 1 });

    const exp2 = receiver.expect({
      onStu: () => {
        throw new StxError('BAD_PARAM', 'not an STU');
      },
    });
    await expect(sendStus(sender.link, exp2.ticket, [stu(0, 600)])).rejects.toMatchObject({ remoteCode: 'BAD_PARAM', message: expect.stringContaining('not an STU') });
    await expect(exp2.done).rejects.toMatchObject({ code: 'BAD_PARAM' });
  });

  it('the sender aborts through its signal, and the receiver is told why', async () => {
    const { receiver, sender } = setup();
    const ac = new AbortController();
    let calls = 0;
    const exp = receiver.expect({
      onStu: () => {
        if (++calls === 10) ac.abort(new Error('user went away'));
      },
    });
    async function* endless() {
      for (let i = 0; ; i++) yield stu(i, 600);
    }
    await expect(sendStus(sender.link, exp.ticket, endless(), { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('user went away') });
    await expect(exp.done).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteCode: 'ABORTED', message: expect.stringContaining('user went away') });
    // an aborted signal opens nothing
    const channels = sender.rec.channels.length;
    const exp2 = receiver.expect({ onStu: () => undefined });
    await expect(sendStus(sender.link, exp2.ticket, [stu(0, 600)], { signal: AbortSignal.abort('no') })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(sender.rec.channels.length).toBe(channels);
  });

  it('a source that throws aborts the transfer (ABORTED), and the receiver is told', async () => {
    const { receiver, sender } = setup();
    const exp = receiver.expect({ onStu: () => undefined });
    function* broken() {
      yield stu(0, 600);
      throw new Error('ring unreadable');
    }
    await expect(sendStus(sender.link, exp.ticket, broken())).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('ring unreadable') });
    await expect(exp.done).rejects.toMatchObject({ remoteCode: 'ABORTED', message: expect.stringContaining('ring unreadable') });
  });

  it('an STU over the receiver limit fails on the sender (TOO_LARGE) before it is sent', async () => {
    const { receiver, sender } = setup({ maxStuBytes: 1000 });
    const exp = receiver.expect({ onStu: () => undefined });
    await expect(sendStus(sender.link, exp.ticket, [stu(0, 1000), stu(1, 1001)])).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(exp.done).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteCode: 'TOO_LARGE' });
  });

  it('a channel closed mid-transfer rejects both sides with CLOSED', async () => {
    const { receiver, sender } = setup();
    let calls = 0;
    const exp = receiver.expect({
      onStu: () => {
        if (++calls === 3) sender.rec.channels[0].close();
      },
    });
    const sent = sendStus(sender.link, exp.ticket, Array.from({ length: 5000 }, (_, i) => stu(i, 600)));
    await expect(sent).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(exp.done).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('the link going down rejects both sides with CLOSED, and later tickets too', async () => {
    const { a, receiver, sender } = setup();
    let calls = 0;
    const exp = receiver.expect({
      onStu: () => {
        if (++calls === 3) a.close('gone');
      },
    });
    const pending = receiver.expect({ onStu: () => undefined });
    const sent = sendStus(sender.link, exp.ticket, Array.from({ length: 5000 }, (_, i) => stu(i, 600)));
    await expect(sent).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(exp.done).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(pending.done).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(receiver.expect({ onStu: () => undefined }).done).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('receiver.close() cancels pending and running transfers and stops listening', async () => {
    const { receiver, sender } = setup();
    let calls = 0;
    const running = receiver.expect({
      onStu: async () => {
        if (++calls === 2) receiver.close();
        await sleep(0);
      },
    });
    const pending = receiver.expect({ onStu: () => undefined });
    const sent = sendStus(sender.link, running.ticket, Array.from({ length: 1000 }, (_, i) => stu(i, 600)));
    await expect(running.done).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(pending.done).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(sent).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteCode: 'ABORTED' });
    expect(calls).toBe(2);
    // nobody listens any more: the sender is not admitted
    await expect(sendStus(sender.link, pending.ticket, [stu(0, 600)], { timeoutMs: 100 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(receiver.expect({ onStu: () => undefined }).done).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('cancel() and the ticket timeout end a transfer nobody connected to', async () => {
    const { receiver, sender } = setup({ maxPending: 2 });
    const a = receiver.expect({ onStu: () => undefined });
    const b = receiver.expect({ onStu: () => undefined, timeoutMs: 30 });
    await expect(receiver.expect({ onStu: () => undefined }).done).rejects.toMatchObject({ code: 'BUSY' });
    a.cancel('nothing to send');
    await expect(a.done).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('nothing to send') });
    await expect(b.done).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(sendStus(sender.link, a.ticket, [stu(0, 600)])).rejects.toMatchObject({ code: 'REFUSED' });
    receiver.expect({ onStu: () => undefined }).cancel('dropped, never awaited'); // no unhandled rejection
    expect(receiver.stats).toMatchObject({ admitted: 0, failed: 4 });
  });

  it('leaves channels of other code alone, and shares a link with another receiver', async () => {
    const { a, b, receiver, sender } = setup();
    const second = new TransferReceiver(b);
    cleanups.push(() => second.close());
    const seen: string[] = [];
    b.onChannel((ch) => ch.onMessage(() => seen.push(ch.label)));
    const others = await Promise.all(['stx', 'media/1', 'stx-datax/1'].map((l) => a.openChannel(l, { ordered: true, reliable: true })));
    for (const ch of others) ch.send(Uint8Array.of(1));
    await until(() => seen.length === 3);
    expect(others.map((c) => c.state)).toEqual(['open', 'open', 'open']);

    const exp = second.expect({ onStu: () => undefined });
    expect((await sendStus(sender.link, exp.ticket, [stu(0, 600)])).stus).toBe(1);
    expect((await exp.done).stus).toBe(1);
    await expect(sendStus(sender.link, { stream: 5, key: exp.ticket.key }, [stu(0, 600)])).rejects.toMatchObject({ code: 'REFUSED' });
    expect(receiver.stats.refused + second.stats.refused).toBe(1); // refused once, by one of them
    expect(others.map((c) => c.state)).toEqual(['open', 'open', 'open']);
  });

  it('refuses a channel that does not authenticate in time', async () => {
    const { a, receiver } = setup({ authTimeoutMs: 30 });
    const exp = receiver.expect({ onStu: () => undefined });
    const raw = await rawSender(a, exp.ticket.stream);
    await until(() => raw.isClosed());
    const f = decodeFrame(raw.got[0]);
    expect(f.ok && f.value.type === 'ABORT' && f.value.code).toBe('REFUSED');
    expect(receiver.stats.refused).toBe(1);
    exp.cancel('test over');
  });

  it('refuses an STU size above maxStuBytes before allocating it', async () => {
    const { a, receiver } = setup();
    const exp = receiver.expect({ onStu: () => undefined });
    const raw = await rawSender(a, exp.ticket.stream);
    raw.ch.send(encodeAuth(exp.ticket.stream, keyOf(exp.ticket)));
    await until(() => raw.got.length === 1);
    expect(decodeFrame(raw.got[0])).toMatchObject({ ok: true, value: { type: 'OK' } });
    const before = process.memoryUsage().arrayBuffers;
    raw.ch.send(hex('03 01 ffffffff 01000000 00')); // FIRST of an STU of 4 GiB - 1
    await expect(exp.done).rejects.toMatchObject({ code: 'TOO_LARGE' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * MiB);
    await until(() => raw.isClosed());
    expect(decodeFrame(raw.got[1])).toMatchObject({ ok: true, value: { type: 'ABORT', code: 'TOO_LARGE' } });
  });

  it('refuses DATA beyond the credit granted', async () => {
    const { a, receiver } = setup({ windowBytes: 1024 });
    const exp = receiver.expect({ onStu: () => sleep(50) });
    const raw = await rawSender(a, exp.ticket.stream);
    raw.ch.send(encodeAuth(exp.ticket.stream, keyOf(exp.ticket)));
    await until(() => raw.got.length === 1);
    const frame = (n: number) => {
      const out = new Uint8Array(1 + 5 + n);
      writeRecord(out, startData(out), RECORD.WHOLE, 0, new Uint8Array(n));
      return out;
    };
    raw.ch.send(frame(500)); // 506 bytes
    raw.ch.send(frame(500)); // 1012: still within 1024
    raw.ch.send(frame(100)); // 1118: over
    await expect(exp.done).rejects.toMatchObject({ code: 'BAD_FRAME', message: expect.stringContaining('credit') });
  });
});

describe('malformed frames (fast-check)', () => {
  // A valid DATA frame of a few records, to mutate.
  const validData = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }).map((sizes) => {
    const out = new Uint8Array(1 + sizes.reduce((n, s) => n + 9 + s, 0));
    let p = startData(out);
    sizes.forEach((s, i) => (p = writeRecord(out, p, RECORD.WHOLE, 0, stu(i, s))));
    return out.subarray(0, p);
  });
  const mutated = fc
    .tuple(validData, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat()))
    .map(([f, flips, cut]) => {
      const b = f.slice();
      for (const [at, v] of flips) b[at % b.length] = v;
      return cut === null ? b : b.subarray(0, cut % (b.length + 1));
    });
  const u32 = fc.constantFrom(0, 1, 2, 3, 100, 0xffff, 0x7fffffff, 0xffffffff);
  const structured = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 4 }), u32, u32, fc.uint8Array({ maxLength: 40 })).map(([type, kind, n1, n2, tail]) => {
    const b = new Uint8Array(10 + tail.length);
    const v = new DataView(b.buffer);
    b[0] = type;
    b[1] = kind;
    v.setUint32(2, n1, true);
    v.setUint32(6, n2, true);
    b.set(tail, 10);
    return b;
  });
  // well-formed records in any order: first/middle/last out of sequence, totals over the limit, parts too long
  const record = fc.tuple(fc.constantFrom(RECORD.WHOLE, RECORD.FIRST, RECORD.MIDDLE, RECORD.LAST), fc.integer({ min: 1, max: 200 }), fc.constantFrom(1, 50, 300, 2 ** 20, 2 ** 31));
  const sequenced = fc.array(record, { minLength: 1, maxLength: 5 }).map((rs) => {
    const out = new Uint8Array(1 + rs.reduce((n, [, len]) => n + 9 + len, 0));
    let p = startData(out);
    for (const [kind, len, extra] of rs) p = writeRecord(out, p, kind, len + extra, stu(p, len));
    return out.subarray(0, p);
  });
  const frame = fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated, structured, sequenced);
  const allowed = new Set(['BAD_FRAME', 'TRUNCATED', 'BAD_LENGTH', 'TOO_LARGE', 'CLOSED', 'REMOTE_ERROR', 'REFUSED']);

  it('from a sender: the transfer fails with a typed error, the peer is told, nothing throws', async () => {
    let uncaught = 0;
    const count = () => void uncaught++;
    process.on('uncaughtException', count);
    process.on('unhandledRejection', count);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 3 }), async (frames) => {
          const [a, b] = memoryPair({ schedule: (fn) => queueMicrotask(fn) });
          const receiver = new TransferReceiver(b, { maxStuBytes: 64 * KiB, windowBytes: 16 * KiB });
          try {
            let stus = 0;
            const exp = receiver.expect({ onStu: () => void stus++ });
            const raw = await rawSender(a, exp.ticket.stream);
            raw.ch.send(encodeAuth(exp.ticket.stream, keyOf(exp.ticket)));
            for (const f of frames) if (f.length > 0) raw.ch.send(f);
            raw.ch.send(encodeTotals('END', { stus: 0, bytes: 0 })); // settles it if nothing else did
            const code = await codeOf(exp.done);
            expect(allowed.has(code) || (code === 'RESOLVED' && stus === 0), code).toBe(true);
            await until(() => raw.isClosed());
            const last = decodeFrame(raw.got.at(-1)!);
            if (code === 'RESOLVED') expect(last).toMatchObject({ ok: true, value: { type: 'DONE', stus: 0 } });
            // the receiver told the sender why, in an ABORT with that code
            else if (code !== 'REMOTE_ERROR') expect(last).toMatchObject({ ok: true, value: { type: 'ABORT', code } });
            expect(receiver.stats.failed + receiver.stats.completed).toBe(1);
          } finally {
            receiver.close();
            a.close();
          }
        }),
        { numRuns: 300 },
      );
    } finally {
      process.off('uncaughtException', count);
      process.off('unhandledRejection', count);
    }
    expect(uncaught).toBe(0);
  });

  it('from a receiver: sendStus fails with a typed error and settles', async () => {
    const okFrame = encodeOk(8 * KiB, 64 * KiB);
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frame, { minLength: 1, maxLength: 3 }), async (admit, frames) => {
        const [a, b] = memoryPair({ schedule: (fn) => queueMicrotask(fn) });
        try {
          b.onChannel((ch) => {
            ch.onMessage(() => {
              if (admit) ch.send(okFrame);
              for (const f of frames) if (f.length > 0 && ch.state === 'open') ch.send(f);
              if (ch.state === 'open') ch.close();
            });
          });
          const ticket: TransferTicket = { stream: 9, key: 'AAAAAAAAAAAAAAAAAAAAAA' };
          const code = await codeOf(sendStus(a, ticket, Array.from({ length: 20 }, (_, i) => stu(i, 700)), { timeoutMs: 2000 }));
          expect(allowed.has(code) || code === 'RESOLVED', code).toBe(true);
          if (code === 'RESOLVED') expect(admit).toBe(true); // only a well-formed OK … DONE exchange can succeed
        } finally {
          a.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('StxError codes of transfers', () => {
  it('are StxErrors with the new codes', async () => {
    const { sender } = setup();
    const e = await sendStus(sender.link, { stream: 0, key: 'x' }, []).catch((x: unknown) => x);
    expect(isStxError(e, 'BAD_PARAM')).toBe(true);
  });
});
