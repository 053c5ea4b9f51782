import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../../../shared/stx/batch.ts';
import { SignalingConnection } from '../../../shared/stx/connection.ts';
import { StxError } from '../../../shared/stx/errors.ts';
import { memoryChannelPair } from '../../../shared/stx/memory-transport.ts';
import { encodeMessage, type Message } from '../../../shared/stx/message.ts';
import { connectionPair, until } from './helpers.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

describe('SignalingConnection: requests and replies', () => {
  it('answers a request with the handler result (Reply) or nothing (Ack)', async () => {
    const { left } = await connectionPair(
      {},
      {
        handlers: {
          GetSTU: (m) => ({ attrs: { count: '1', echo: m.attrs.x }, body: bytes(`body of ${m.id}`) }),
          UpdateSTU: () => undefined,
        },
      },
    );
    const r = await left.request('GetSTU', { attrs: { x: 'hi' } });
    expect([r.method, r.id, r.attrs, text(r.body)]).toEqual(['Reply', 1, { count: '1', echo: 'hi' }, 'body of 1']);
    const a = await left.request('UpdateSTU', {}, new Uint8Array(10));
    expect([a.method, a.id]).toEqual(['Ack', 2]);
  });

  it('delivers one-way messages to their handler, asynchronously', async () => {
    const seen: string[] = [];
    const { left } = await connectionPair({}, { handlers: { Unregister: (m) => void seen.push(m.attrs.reason) } });
    left.send('Unregister', { attrs: { reason: 'shutdown' } });
    expect(seen).toEqual([]);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['shutdown']);
  });

  it('turns a handler error into an error Reply; the requester gets REMOTE_ERROR with the code', async () => {
    const { left, right } = await connectionPair(
      {},
      {
        handlers: {
          GetSTU: () => {
            throw new StxError('BAD_PARAM', 'range to < from');
          },
          Register: async () => {
            throw new Error('disk on fire');
          },
        },
      },
    );
    await expect(left.request('GetSTU')).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteCode: 'BAD_PARAM' });
    await expect(left.request('Register')).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteCode: 'HANDLER_FAILED', message: expect.stringMatching(/disk on fire/) });
    expect(right.stats.handlerErrors).toBe(2);
    expect(right.stats.invalid).toBe(1); // BAD_PARAM blames the peer's message; a broken handler does not
  });

  it('answers an unknown method with UNKNOWN_METHOD and counts it', async () => {
    const { left, right } = await connectionPair();
    await expect(left.request('NoSuchMethod')).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteCode: 'UNKNOWN_METHOD' });
    left.send('AlsoUnknown');
    await until(() => right.stats.unknownMethods === 2);
    expect(right.stats.invalid).toBe(2);
  });

  it('keeps many requests outstanding and matches every reply by id', async () => {
    const { left } = await connectionPair(
      { maxOutstanding: 2000 },
      { handlers: { GetSTU: async (m) => (await new Promise((r) => setTimeout(r, Number(m.attrs.wait))), { attrs: { n: m.attrs.n } }) } },
    );
    const replies = await Promise.all(Array.from({ length: 2000 }, (_, i) => left.request('GetSTU', { attrs: { n: String(i), wait: String(i % 7) } })));
    expect(replies.map((r) => r.attrs.n)).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
    expect(left.outstanding).toBe(0);
  });

  it('times out; a reply that comes later is counted stale, not invalid', async () => {
    const { left } = await connectionPair({}, { handlers: { GetSTU: () => new Promise((r) => setTimeout(() => r(undefined), 50)) } });
    await expect(left.request('GetSTU', {}, undefined, { timeoutMs: 10 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await until(() => left.stats.staleReplies === 1);
    expect(left.stats.invalid).toBe(0);
  });

  it('rejects every outstanding request with CLOSED when the connection closes', async () => {
    const { left, right } = await connectionPair({}, { handlers: { GetSTU: () => new Promise(() => undefined) } });
    const pending = Array.from({ length: 50 }, () => left.request('GetSTU'));
    await until(() => right.stats.messagesIn === 50);
    const reasons: string[] = [];
    right.onClose((r) => reasons.push(r));
    left.close('shutting down');
    const results = await Promise.allSettled(pending);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as StxError).code === 'CLOSED')).toBe(true);
    await expect(left.request('GetSTU')).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => left.send('X')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await until(() => right.isClosed);
    expect(reasons[0]).toMatch(/channel closed/);
  });

  it('queues past maxInFlight in arrival order, and answers BUSY past maxWaiting', async () => {
    const order: string[] = [];
    const gates: (() => void)[] = [];
    const { left, right } = await connectionPair(
      {},
      { maxInFlight: 1, maxWaiting: 2, handlers: { GetSTU: (m) => new Promise<void>((r) => gates.push(() => (order.push(m.attrs.n), r()))) } },
    );
    const first = [0, 1, 2].map((n) => left.request('GetSTU', { attrs: { n: String(n) } }));
    await until(() => gates.length === 1 && right.stats.messagesIn === 3);
    await expect(left.request('GetSTU', { attrs: { n: '3' } })).rejects.toMatchObject({ remoteCode: 'BUSY' });
    expect(right.stats.busy).toBe(1);
    for (let i = 0; i < 3; i++) {
      await until(() => gates.length === i + 1);
      gates[i]();
    }
    expect((await Promise.all(first)).map((r) => r.method)).toEqual(['Ack', 'Ack', 'Ack']);
    expect(order).toEqual(['0', '1', '2']);
  });

  it('refuses to handle or send Ack and Reply itself', async () => {
    const { left } = await connectionPair();
    expect(() => left.handle('Reply', () => undefined)).toThrow(TypeError);
    expect(() => left.send('Ack')).toThrow(TypeError);
    await expect(left.request('Reply')).rejects.toThrow(TypeError);
  });
});

describe('SignalingConnection: batching over the memory pair', () => {
  it('exchanges 10k requests and 10k acks in far fewer batches', async () => {
    let handled = 0;
    const { left, right } = await connectionPair({ maxOutstanding: 10_000 }, { handlers: { UpdateSTU: () => void handled++ } });
    const body = new Uint8Array(100).fill(7);
    const all: Promise<Message>[] = [];
    for (let i = 0; i < 10_000; i++) all.push(left.request('UpdateSTU', { attrs: { count: '1' } }, body));
    const replies = await Promise.all(all);
    expect(replies.every((r, i) => r.method === 'Ack' && r.id === i + 1)).toBe(true);
    expect(handled).toBe(10_000);
    expect(left.batcher.stats.messages).toBe(10_000);
    expect(right.batcher.stats.messages).toBe(10_000);
    // ~160-byte messages: about 400 per 64 KiB batch.
    expect(left.batcher.stats.batches).toBeLessThan(60);
    expect(right.batcher.stats.batches).toBeLessThan(100);
    expect(right.stats.batchesIn).toBe(left.batcher.stats.batches);
    expect(left.stats.invalid + right.stats.invalid).toBe(0);
  });

  it('honours backpressure: send() turns false and drain() resumes a slow link', async () => {
    let got = 0;
    const { left } = await connectionPair({ highWaterBytes: 64 * 1024 }, { handlers: { UpdateSTU: () => void got++ } }, { bytesPerTick: 16 * 1024 });
    const body = new Uint8Array(1000);
    let sent = 0;
    let waits = 0;
    while (sent < 2000) {
      if (!left.send('UpdateSTU', {}, body)) {
        waits++;
        await left.drain();
      }
      sent++;
    }
    expect(waits).toBeGreaterThan(0);
    expect(left.batcher.queuedBytes + left.channel.bufferedAmount).toBeLessThan(64 * 1024 + 64 * 1024);
    await until(() => got === 2000);
  });
});

describe('SignalingConnection: untrusted peers', () => {
  it('drops a peer past maxInvalid garbage batches, with a reason', async () => {
    const [raw, ch] = await memoryChannelPair();
    const conn = new SignalingConnection(ch, { maxInvalid: 5 });
    let reason = '';
    let code = '';
    conn.onClose((r, e) => {
      reason = r;
      code = e.code;
    });
    for (let i = 0; i < 5; i++) raw.send(Uint8Array.of(9, 9, 9));
    await until(() => conn.stats.invalid === 5);
    expect(conn.isClosed).toBe(false);
    raw.send(Uint8Array.of(1, 2, 3, 4, 5, 6));
    await until(() => conn.isClosed);
    expect(code).toBe('TOO_MANY_INVALID');
    expect(reason).toMatch(/more than 5 invalid messages/);
    await until(() => raw.state === 'closed');
  });

  it('counts bad messages inside a good batch, unknown reply ids, and ignores repeated request ids', async () => {
    const [raw, ch] = await memoryChannelPair();
    let handled = 0;
    const conn = new SignalingConnection(ch, { handlers: { UpdateSTU: () => void handled++ } });
    const replies: Message[] = [];
    raw.onMessage(() => replies.push({} as Message));
    raw.send(
      encodeBatch([
        encodeMessage({ method: 'UpdateSTU', id: 5 }),
        bytes('<stx method="A">&lol;</stx>\u0000\u001e\u001f\u0000'),
        encodeMessage({ method: 'Ack', id: 77 }), // this side never sent request 77
        encodeMessage({ method: 'UpdateSTU', id: 5 }), // a repeated id
        encodeMessage({ method: 'UpdateSTU', id: 3 }), // an id going backwards
        encodeMessage({ method: 'UpdateSTU' }),
      ]),
    );
    await until(() => handled === 2);
    expect(conn.stats).toMatchObject({ batchesIn: 1, messagesIn: 5, invalid: 2, unknownReplies: 1, duplicateIds: 2 });
    await until(() => replies.length === 1); // the Ack for request 5, alone in one batch
  });

  it('never throws on random bytes from the peer', async () => {
    const [raw, ch] = await memoryChannelPair();
    const conn = new SignalingConnection(ch, { maxInvalid: 1_000_000 });
    let seed = 1;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 500; i++) raw.send(Uint8Array.from({ length: 1 + Math.floor(rnd() * 300) }, (_, k) => (k === 0 ? 1 : Math.floor(rnd() * 256))));
    await until(() => conn.stats.invalid >= 500);
    expect(conn.isClosed).toBe(false);
  });
});
