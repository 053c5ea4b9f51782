// The acceptance suite every transport passes (the memory pair, werift, node-datachannel, and the browser's
// RTCPeerConnection). Framework-free: it registers cases through the `test` function it is given, so vitest
// runs it in Node and a page can run it in Chromium. `makePair` returns two links connected to each other;
// each case closes both when it ends. The rules checked are those of transport.ts and docs/PROTOCOL.md
// ("Transport contract").
import { SignalingConnection } from './connection.ts';
import { isStxError } from './errors.ts';
import type { Message } from './message.ts';
import { type Channel, type ChannelOptions, type PeerLink, SIGNALING_LABEL, SIGNALING_OPTIONS } from './transport.ts';

export type TestFn = (name: string, fn: () => Promise<void>) => void;

export interface TransportSuiteOptions {
  /** Messages each way in the ordered-delivery case. Default 1,000. */
  messages?: number;
  /** Requests answered over a SignalingConnection. Default 10,000. */
  requests?: number;
  /** Channels open at once in the many-channels case. Default 32. */
  channels?: number;
  /** Bytes pushed through the backpressure case. Default 4 MiB. */
  backpressureBytes?: number;
  /** The longest wait for any one condition. Default 20 s. */
  waitMs?: number;
}

const ORDERED: ChannelOptions = { ordered: true, reliable: true };

function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

function expectCode(fn: () => unknown, code: string, what: string): void {
  try {
    fn();
  } catch (e) {
    check(isStxError(e) && e.code === code, `${what}: expected StxError ${code}, got ${(e as Error).message}`);
    return;
  }
  throw new Error(`assertion failed: ${what} should throw ${code}`);
}

async function expectRejects(p: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    check(isStxError(e) && e.code === code, `${what}: expected StxError ${code}, got ${(e as Error).message}`);
    return;
  }
  throw new Error(`assertion failed: ${what} should reject with ${code}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A message: a u32 little-endian sequence number, then bytes derived from it. */
export function patterned(seq: number, size: number, into?: Uint8Array): Uint8Array {
  const b = into ? into.subarray(0, size) : new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (seq * 131 + i * 7) & 0xff;
  if (size >= 4) new DataView(b.buffer, b.byteOffset, size).setUint32(0, seq, true);
  return b;
}

function seqOf(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
}

function intact(b: Uint8Array, seq: number, size: number): boolean {
  if (b.length !== size || seqOf(b) !== seq) return false;
  for (let i = 4; i < size; i++) if (b[i] !== ((seq * 131 + i * 7) & 0xff)) return false;
  return true;
}

/** What one side saw of one channel. */
interface Seen {
  channel: Channel;
  messages: Uint8Array[];
  closes: string[];
}

function watch(channel: Channel, keep = true): Seen {
  const seen: Seen = { channel, messages: [], closes: [] };
  channel.onMessage((m) => seen.messages.push(keep ? m.slice() : m.subarray(0, 4).slice()));
  channel.onClose((r) => seen.closes.push(r));
  return seen;
}

/** Every channel the peer opens, watched from the moment it is announced (so no message can be missed). */
function accept(link: PeerLink, keep = true): Map<string, Seen> {
  const seen = new Map<string, Seen>();
  link.onChannel((ch) => seen.set(ch.label, watch(ch, keep)));
  return seen;
}

export function runTransportTests(test: TestFn, makePair: () => Promise<[PeerLink, PeerLink]>, opts: TransportSuiteOptions = {}): void {
  const messages = opts.messages ?? 1000;
  const requests = opts.requests ?? 10_000;
  const channels = opts.channels ?? 32;
  const backpressureBytes = opts.backpressureBytes ?? 4 * 1024 * 1024;
  const waitMs = opts.waitMs ?? 20_000;

  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + waitMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out after ${waitMs} ms waiting for: ${what}`);
      await sleep(2);
    }
  };

  /** The peer's end of a channel: announced before its first message, but not necessarily by the time
   *  openChannel() resolves on this side (node-datachannel announces on a later tick). */
  const arrived = async (seen: Map<string, Seen>, label: string): Promise<Seen> => {
    await until(() => seen.has(label), `the peer to announce channel ${label}`);
    return seen.get(label)!;
  };

  const withPair = (name: string, fn: (a: PeerLink, b: PeerLink) => Promise<void>) =>
    test(name, async () => {
      const [a, b] = await makePair();
      try {
        await fn(a, b);
      } finally {
        a.close('test over');
        b.close('test over');
      }
    });

  withPair('opens channels both ways; a remote channel is announced before its first message', async (a, b) => {
    const atA = accept(a);
    const atB = accept(b);
    const x = await a.openChannel('from-a', ORDERED);
    check(x.state === 'open' && x.label === 'from-a', `opened channel is open (${x.state})`);
    x.send(patterned(1, 16)); // at once: the peer must already be listening
    const y = await b.openChannel('from-b', ORDERED);
    y.send(patterned(2, 16));
    const u = await a.openChannel('unordered', { ordered: false, reliable: true });
    for (let i = 0; i < 10; i++) u.send(patterned(100 + i, 8));
    await until(() => atB.get('from-a')?.messages.length === 1 && atA.get('from-b')?.messages.length === 1, 'the first messages');
    await until(() => atB.get('unordered')?.messages.length === 10, 'ten messages on the unordered channel');
    check(intact(atB.get('from-a')!.messages[0], 1, 16) && intact(atA.get('from-b')!.messages[0], 2, 16), 'first messages intact');
    const got = atB.get('unordered')!.messages.map(seqOf).sort((p, q) => p - q);
    check(got.join() === Array.from({ length: 10 }, (_, i) => 100 + i).join(), 'unordered channel delivers every message');
    check(atB.size === 2 && atA.size === 1, `announced exactly the channels opened (${atB.size}, ${atA.size})`);
    const remote = atB.get('from-a')!.channel;
    check(remote.state === 'open', 'remote channel is open');
    check(x.maxMessageSize === remote.maxMessageSize, `both ends agree on maxMessageSize (${x.maxMessageSize}, ${remote.maxMessageSize})`);
    check(x.maxMessageSize <= a.maxMessageSize && a.maxMessageSize === b.maxMessageSize, 'the links agree and bound their channels');
    check(x.maxMessageSize >= 16 * 1024, `maxMessageSize is at least 16 KiB (${x.maxMessageSize})`);
    await expectRejects(a.openChannel('lossy', { ordered: true, reliable: false }), 'UNSUPPORTED', 'an unreliable channel from a');
    await expectRejects(b.openChannel('lossy', { ordered: false, reliable: false }), 'UNSUPPORTED', 'an unreliable channel from b');
  });

  withPair(`delivers ${messages} messages each way in order, byte for byte; the sender may reuse its buffer`, async (a, b) => {
    const atB = accept(b);
    const x = await a.openChannel('ordered', ORDERED);
    const xr = (await arrived(atB, 'ordered')).channel;
    const back = watch(x);
    const sizeOf = (i: number) => 4 + ((i * 7919) % Math.min(4000, x.maxMessageSize - 4));
    const scratch = new Uint8Array(4096);
    for (let i = 0; i < messages; i++) {
      x.send(patterned(i, sizeOf(i), scratch)); // the same buffer every time
      xr.send(patterned(i, sizeOf(messages - i)));
    }
    await until(() => atB.get('ordered')!.messages.length === messages && back.messages.length === messages, `${messages} messages each way`);
    const there = atB.get('ordered')!.messages;
    for (let i = 0; i < messages; i++) {
      check(intact(there[i], i, sizeOf(i)), `a→b message ${i} in order and intact (got seq ${seqOf(there[i])})`);
      check(intact(back.messages[i], i, sizeOf(messages - i)), `b→a message ${i} in order and intact`);
    }
  });

  withPair('a message of exactly maxMessageSize arrives; one byte more is TOO_LARGE and the channel stays usable', async (a, b) => {
    const atB = accept(b);
    const x = await a.openChannel('sizes', ORDERED);
    const max = x.maxMessageSize;
    const xr = (await arrived(atB, 'sizes')).channel;
    const back = watch(x);
    x.send(patterned(7, max));
    expectCode(() => x.send(new Uint8Array(max + 1)), 'TOO_LARGE', 'a message one byte over the limit');
    check(x.state === 'open', 'still open after TOO_LARGE');
    x.send(patterned(8, 10));
    xr.send(patterned(9, max));
    expectCode(() => xr.send(new Uint8Array(max + 1)), 'TOO_LARGE', 'the same, from the other side');
    await until(() => atB.get('sizes')!.messages.length === 2 && back.messages.length === 1, 'the largest messages');
    const got = atB.get('sizes')!.messages;
    check(intact(got[0], 7, max) && intact(got[1], 8, 10), 'the largest message and the next one arrive intact');
    check(intact(back.messages[0], 9, max), 'the largest message arrives the other way');
  });

  withPair('bufferedAmount rises with queued sends and falls with bufferedAmountLow (backpressure)', async (a, b) => {
    const atB = accept(b, false);
    const x = await a.openChannel('bulk', ORDERED);
    const chunk = Math.min(x.maxMessageSize, 64 * 1024);
    const low = 256 * 1024;
    const high = 1024 * 1024;
    x.bufferedAmountLowThreshold = low;
    check(x.bufferedAmountLowThreshold === low, 'the threshold reads back');
    const atLow: number[] = [];
    x.onBufferedAmountLow(() => atLow.push(x.bufferedAmount));
    const count = Math.ceil(backpressureBytes / chunk);
    const burst = Math.ceil(count / 2);
    let seq = 0;
    let before = 0;
    for (; seq < burst; seq++) {
      x.send(patterned(seq, chunk));
      check(x.bufferedAmount >= 0 && x.bufferedAmount <= before + chunk, 'bufferedAmount grows by at most what is sent');
      before = x.bufferedAmount;
    }
    check(x.bufferedAmount > low, `a burst of ${burst * chunk} bytes leaves more than the threshold buffered (${x.bufferedAmount})`);
    await until(() => atLow.length > 0, 'bufferedAmountLow after the burst');
    check(atLow[0] <= low, `bufferedAmountLow fires at or below the threshold (${atLow[0]})`);
    let peak = 0;
    while (seq < count) {
      while (seq < count && x.bufferedAmount < high) x.send(patterned(seq++, chunk));
      peak = Math.max(peak, x.bufferedAmount);
      if (seq < count && x.bufferedAmount >= high) {
        const lows = atLow.length;
        await until(() => atLow.length > lows, 'bufferedAmountLow while pacing');
      }
    }
    check(peak <= high + chunk, `paced sends keep bufferedAmount under the mark (${peak})`);
    const got = (await arrived(atB, 'bulk')).messages;
    await until(() => got.length === count, `${count} messages of ${chunk} bytes`);
    check(
      got.every((m, i) => seqOf(m) === i),
      'bulk messages in order',
    );
    await until(() => x.bufferedAmount === 0, 'bufferedAmount back to 0');
    check(atLow.every((v) => v <= low), `every bufferedAmountLow at or below the threshold (${atLow.join(', ')})`);
  });

  withPair('closing a channel delivers what was sent, then closes the other side once; send after close is CLOSED', async (a, b) => {
    const atB = accept(b);
    const atA = accept(a);
    const x = await a.openChannel('closing', ORDERED);
    const mine = watch(x);
    for (let i = 0; i < 100; i++) x.send(patterned(i, 100 + i));
    x.close();
    check(x.state === 'closing' || x.state === 'closed', `closing after close() (${x.state})`);
    expectCode(() => x.send(patterned(0, 4)), 'CLOSED', 'send after close()');
    x.close(); // twice is harmless
    const far = await arrived(atB, 'closing');
    await until(() => far.closes.length > 0 && mine.closes.length > 0, 'both ends closed');
    check(far.messages.length === 100 && far.messages.every((m, i) => intact(m, i, 100 + i)), `all 100 messages before the close (${far.messages.length})`);
    check(far.channel.state === 'closed' && x.state === 'closed', 'both ends closed');
    expectCode(() => far.channel.send(patterned(0, 4)), 'CLOSED', 'send on a channel the peer closed');
    // The other way: the side that received the channel closes it.
    const y = await a.openChannel('closed-remotely', ORDERED);
    const yMine = watch(y);
    const yFar = await arrived(atB, 'closed-remotely');
    yFar.channel.send(patterned(1, 50));
    yFar.channel.close();
    await until(() => yMine.closes.length > 0 && yFar.closes.length > 0, 'the opener sees the close');
    check(yMine.messages.length === 1 && intact(yMine.messages[0], 1, 50), 'the last message arrived before the close');
    await sleep(50);
    check(mine.closes.length === 1 && far.closes.length === 1 && yMine.closes.length === 1 && yFar.closes.length === 1, 'onClose fires exactly once per end');
    check(atA.size === 0 && a.state === 'open' && b.state === 'open', 'the links stay up');
  });

  withPair('closing the link ends every channel on both sides and the other link', async (a, b) => {
    const atA = accept(a);
    const atB = accept(b);
    const mine = [watch(await a.openChannel('one', ORDERED)), watch(await a.openChannel('two', ORDERED))];
    const theirs = watch(await b.openChannel('three', ORDERED));
    const [one, two, three] = [await arrived(atB, 'one'), await arrived(atB, 'two'), await arrived(atA, 'three')];
    let bReason: string | undefined;
    b.onClose((r) => (bReason = r));
    let aCloses = 0;
    a.onClose(() => aCloses++);
    a.close('link test');
    check(a.state === 'closed' && aCloses === 1, 'the closing link is closed at once');
    check([...mine, three].every((s) => s.channel.state === 'closed' && s.closes.length === 1), 'its channels are closed at once');
    await until(() => b.state === 'closed', 'the other link to close');
    check(typeof bReason === 'string', 'the other link reports a reason');
    await until(() => [theirs, one, two].every((s) => s.closes.length === 1), "the other side's channels to close");
    expectCode(() => theirs.channel.send(patterned(0, 4)), 'CLOSED', 'send on a channel of a closed link');
    await expectRejects(a.openChannel('late', ORDERED), 'CLOSED', 'openChannel on a closed link');
    await expectRejects(b.openChannel('late', ORDERED), 'CLOSED', 'openChannel on the other closed link');
    a.close();
    await sleep(20);
    check(aCloses === 1 && mine.every((s) => s.closes.length === 1), 'closing twice changes nothing');
  });

  withPair(`${channels} channels at once, both ways, each with its own messages; closed channels make room for new ones`, async (a, b) => {
    const atA = accept(a);
    const atB = accept(b);
    const per = 20;
    const opened = await Promise.all(Array.from({ length: channels }, (_, i) => (i % 2 === 0 ? a : b).openChannel(`ch-${i}`, ORDERED)));
    opened.forEach((ch, i) => {
      for (let k = 0; k < per; k++) ch.send(patterned(i * 1000 + k, 8 + (i % 16)));
    });
    const far = (i: number) => (i % 2 === 0 ? atB : atA).get(`ch-${i}`)!;
    await until(() => opened.every((_, i) => far(i)?.messages.length === per), `${per} messages on each of ${channels} channels`);
    for (let i = 0; i < channels; i++) {
      check(
        far(i).messages.every((m, k) => intact(m, i * 1000 + k, 8 + (i % 16))),
        `channel ${i} carries its own messages in order`,
      );
    }
    for (const ch of opened) ch.close();
    await until(() => opened.every((ch, i) => ch.state === 'closed' && far(i).channel.state === 'closed'), 'every channel closed on both sides');
    const again = await a.openChannel('after', ORDERED);
    again.send(patterned(5, 5));
    await until(() => atB.get('after')?.messages.length === 1, 'a message on a channel opened after the others closed');
  });

  withPair(`a SignalingConnection over the transport answers ${requests} requests`, async (a, b) => {
    let right: SignalingConnection | undefined;
    b.onChannel((ch) => {
      if (ch.label !== SIGNALING_LABEL) return;
      right = new SignalingConnection(ch, {
        handlers: { Echo: (m) => ({ attrs: { n: m.attrs.n ?? '' }, body: m.body.length ? m.body.slice() : undefined }) },
      });
    });
    const left = new SignalingConnection(await a.openChannel(SIGNALING_LABEL, SIGNALING_OPTIONS));
    await until(() => right !== undefined, 'the answering side to have its connection');
    const body = patterned(3, 64);
    // Many outstanding at once, as a busy peer has them, within the receiver's handler queue (4096 waiting).
    const window = 1000;
    const replies: Message[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests) {
        const i = next++;
        replies[i] = await left.request('Echo', { attrs: { n: String(i) } }, i % 100 === 0 ? body : undefined);
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    for (let i = 0; i < requests; i++) {
      const r = replies[i];
      check(r.method === 'Reply' && r.id === i + 1 && r.attrs.n === String(i), `reply ${i} answers request ${i}`);
      if (i % 100 === 0) check(intact(r.body, 3, 64), `reply ${i} carries the body back`);
    }
    const server = right!;
    check(server.stats.messagesIn === requests && server.stats.invalid === 0, `${requests} requests in, none invalid (${server.stats.messagesIn}, ${server.stats.invalid})`);
    check(server.stats.batchesIn < requests / 10, `requests travel batched (${server.stats.batchesIn} batches)`);
    check(left.stats.batchesIn < requests / 10, `replies travel batched (${left.stats.batchesIn} batches)`);
    left.close('done');
    await until(() => server.isClosed, 'the answering connection to close with its channel');
  });
}
