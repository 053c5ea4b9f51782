// Data-channel transfers (docs/PROTOCOL.md, "Data channels (transfers)"): a stream of encoded STUs from one
// peer to the other over a data channel opened for that one transfer. The receiver issues a ticket (stream
// id, 128-bit key, rate) that travels over the signaling channel; the sender opens `stx-data/<stream>`,
// proves the key (AUTH), and only then sends DATA frames: small STUs packed many to a frame, large ones cut
// to the channel's message size and reassembled. Flow control: the sender never has more than the credit
// the receiver granted in flight (the receiver grants it back as its onStu calls complete), paces itself by
// a token bucket at the ticket's rate, and waits on bufferedAmount. Bytes from the peer never throw: a bad
// frame aborts that transfer (ABORT to the peer, then the channel is closed).
// Receiver memory per transfer: at most `windowBytes` of frames not yet consumed, plus one STU being
// reassembled (allocated at its announced size, which is checked against maxStuBytes first).
import { type Logger, silentLogger } from '../log.ts';
import { fromBase64, toBase64 } from '../util/base64.ts';
import { closedError, err, StxError } from './errors.ts';
import {
  DATA_HEADER,
  type DataRecord,
  decodeFrame,
  encodeAbort,
  encodeAuth,
  encodeCredit,
  encodeOk,
  encodeTotals,
  FIRST_HEADER,
  KEY_BYTES,
  MIN_WINDOW,
  RECORD,
  RECORD_HEADER,
  startData,
  type Totals,
  TRANSFER_VERSION,
  writeRecord,
} from './transfer-frames.ts';
import type { Channel, ChannelOptions, PeerLink, Unsubscribe } from './transport.ts';

/** Channel label = prefix + stream id (decimal). */
export const TRANSFER_LABEL_PREFIX = 'stx-data/';
export const TRANSFER_CHANNEL_OPTIONS: ChannelOptions = { ordered: true, reliable: true };
export const MAX_STREAM = 2 ** 31 - 1;
export const DEFAULT_MAX_STU_BYTES = 64 * 1024 * 1024 + 512;
export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;

/** Issued by the receiver, sent to the sender over the signaling channel (as XML attributes). */
export interface TransferTicket {
  /** 1 .. 2^31 - 1 */
  stream: number;
  /** 16 random bytes as 22 base64url characters (no padding). */
  key: string;
  /** Bytes per second the sender paces itself at; 0 or absent: no limit. */
  rate?: number;
}

export interface TransferStats {
  stus: number;
  /** STU bytes (not framing). */
  bytes: number;
  ms: number;
}

export interface TransferReceiverOptions {
  /** Largest STU accepted (a larger announced size aborts the transfer, TOO_LARGE). Default 64 MiB + 512. */
  maxStuBytes?: number;
  /** Credit window: frame bytes the sender may have sent and this side not yet consumed. Default 4 MiB. */
  windowBytes?: number;
  /** A channel that presents no AUTH frame within this is refused. Default 10 s. */
  authTimeoutMs?: number;
  /** Transfers outstanding (expected or running); expect() past it gives a `done` rejected with BUSY. Default 64. */
  maxPending?: number;
  log?: Logger;
}

export interface ExpectOptions {
  rate?: number;
  /** Awaited one at a time, in order; each gets its own copy of the STU's bytes. Throwing aborts the transfer. */
  onStu(bytes: Uint8Array): void | Promise<void>;
  /** After the STUs of each DATA frame are consumed. */
  onProgress?(s: TransferStats): void;
  /** The transfer fails with TIMEOUT if no sender is admitted within this. Default 30 s. */
  timeoutMs?: number;
}

export interface ExpectedTransfer {
  ticket: TransferTicket;
  /** Stats (ms counted from admission) once the sender ended and every onStu resolved; or a StxError. */
  done: Promise<TransferStats>;
  /** Fails the transfer with ABORTED (the sender, if connected, is told the reason). No-op once settled. */
  cancel(reason: string): void;
}

export interface SendStusOptions {
  signal?: AbortSignal;
  /** After each DATA frame handed to the channel (STUs counted once their last byte is). */
  onProgress?(s: TransferStats): void;
  log?: Logger;
  /** Opening the channel and admission (OK) must take less than this. Default 10 s. */
  timeoutMs?: number;
  /** Waiting for credit or DONE, the receiver must send something within this. Default 60 s. */
  idleTimeoutMs?: number;
  /** Largest DATA frame; never more than the channel's maxMessageSize. Default 256 KiB. */
  maxFrameBytes?: number;
  /** bufferedAmount above which the sender waits for onBufferedAmountLow (set at half). Default 1 MiB. */
  highWaterBytes?: number;
}

const now = (): number => performance.now();
const MAX_WAITING_CHANNELS = 16;
/** Below this, a cut STU's next part waits for a fresh frame or more credit (window ≥ 1 KiB leaves room). */
const MIN_PART = 512;
const MIN_FRAME = 1024;
const BUFFER_POLL_MS = 250;

// --------------------------------------------------------------------------------------------- helpers

const KEY_TEXT = /^[A-Za-z0-9_-]{22}$/;
const keyText = (k: Uint8Array): string => toBase64(k).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
function keyBytes(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !KEY_TEXT.test(text)) return undefined;
  const b = fromBase64(`${text.replace(/-/g, '+').replace(/_/g, '/')}==`);
  return b?.length === KEY_BYTES ? b : undefined;
}

/** Constant-time equality of two keys (the length is not secret). */
export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export const transferLabel = (stream: number): string => `${TRANSFER_LABEL_PREFIX}${stream}`;

/** The stream id of a transfer label, or undefined when the label is not one. */
export function streamOfLabel(label: string): number | undefined {
  if (!label.startsWith(TRANSFER_LABEL_PREFIX)) return undefined;
  const s = label.slice(TRANSFER_LABEL_PREFIX.length);
  if (!/^[1-9][0-9]{0,9}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_STREAM ? n : undefined;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** An StxError's message without its "CODE: " prefix (the code travels beside it). */
const reasonOf = (e: StxError): string => (e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message);
const asStx = (e: unknown, code: 'ABORTED' | 'HANDLER_FAILED', what: string): StxError => (e instanceof StxError ? e : err(code, `${what}: ${messageOf(e)}`));

/** What an ABORT from the peer becomes here. Peers are not trusted: the code is only a string. */
function peerAbort(code: string, reason: string): StxError {
  if (code === 'REFUSED') return err('REFUSED', `the receiver refused the transfer: ${reason}`);
  return new StxError('REMOTE_ERROR', `the peer aborted the transfer: ${code}${reason ? `: ${reason}` : ''}`, { remoteCode: code });
}

/** Sends a control frame; false if the channel refused it (it is closing). */
function trySend(ch: Channel, frame: Uint8Array): boolean {
  if (ch.state !== 'open') return false;
  try {
    ch.send(frame);
    return true;
  } catch {
    return false;
  }
}

/** The caller may drop a promise it was given (a cancelled transfer's done): its rejection is still seen by
 *  whoever awaits it, but one nobody awaits is not reported as unhandled. */
function markHandled(p: Promise<unknown>): void {
  p.then(undefined, () => undefined);
}

// ------------------------------------------------------------------------------------------- receiver

interface Ticket {
  readonly stream: number;
  readonly key: Uint8Array;
  readonly opts: ExpectOptions;
  state: 'pending' | 'active' | 'settled';
  timer: ReturnType<typeof setTimeout> | undefined;
  inbound: Inbound | undefined;
  resolve(s: TransferStats): void;
  reject(e: StxError): void;
}

type Outcome = { stats: TransferStats } | { error: StxError };

/** Receivers by link: a stream one of them issued is not refused by another; the first one refuses the rest. */
const receiversOf = new WeakMap<PeerLink, Set<TransferReceiver>>();

export class TransferReceiver {
  /** admitted: channels that presented a right key; refused: channels turned away; completed/failed: `done`s. */
  readonly stats = { admitted: 0, refused: 0, completed: 0, failed: 0 };
  readonly maxStuBytes: number;
  readonly windowBytes: number;
  private readonly authTimeoutMs: number;
  private readonly maxPending: number;
  private readonly log: Logger;
  private readonly tickets = new Map<number, Ticket>();
  /** Channels waiting for their AUTH frame, with how to turn each away. */
  private readonly waiting = new Map<Channel, (reason: string) => void>();
  private readonly offs: Unsubscribe[];
  private closed = false;

  constructor(
    private readonly link: PeerLink,
    opts: TransferReceiverOptions = {},
  ) {
    this.maxStuBytes = opts.maxStuBytes ?? DEFAULT_MAX_STU_BYTES;
    this.windowBytes = opts.windowBytes ?? DEFAULT_WINDOW_BYTES;
    this.authTimeoutMs = opts.authTimeoutMs ?? 10_000;
    this.maxPending = opts.maxPending ?? 64;
    this.log = opts.log ?? silentLogger;
    if (!(Number.isInteger(this.maxStuBytes) && this.maxStuBytes >= 1 && this.maxStuBytes <= 0xffff_ffff)) throw new RangeError(`maxStuBytes ${this.maxStuBytes}: 1 .. 2^32 - 1`);
    if (!(Number.isInteger(this.windowBytes) && this.windowBytes >= MIN_WINDOW && this.windowBytes <= 2 ** 30)) throw new RangeError(`windowBytes ${this.windowBytes}: ${MIN_WINDOW} .. 2^30`);
    let peers = receiversOf.get(link);
    if (!peers) receiversOf.set(link, (peers = new Set()));
    peers.add(this);
    this.offs = [link.onChannel((ch) => this.onChannel(ch)), link.onClose((reason) => this.shutdown(closedError(`link: ${reason}`)))];
  }

  /** A new ticket (random stream id, random 128-bit key) and the transfer it admits, once. */
  expect(opts: ExpectOptions): ExpectedTransfer {
    const rate = opts.rate ?? 0;
    if (!(Number.isFinite(rate) && rate >= 0)) throw new RangeError(`rate ${rate}: bytes per second, 0 for no limit`);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const key = globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    const stream = this.newStream();
    let resolve!: (s: TransferStats) => void;
    let reject!: (e: StxError) => void;
    const done = new Promise<TransferStats>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    markHandled(done);
    const t: Ticket = { stream, key, opts, state: 'pending', timer: undefined, inbound: undefined, resolve, reject };
    const ticket: TransferTicket = rate > 0 ? { stream, key: keyText(key), rate: Math.ceil(rate) } : { stream, key: keyText(key) };
    const expected = { ticket, done, cancel: (reason: string) => this.cancel(t, err('ABORTED', `cancelled: ${reason}`)) };
    if (this.closed || this.link.state === 'closed') this.settle(t, { error: closedError(this.closed ? 'transfer receiver closed' : 'link closed') });
    else if (this.tickets.size >= this.maxPending) this.settle(t, { error: err('BUSY', `${this.tickets.size} transfers outstanding (maxPending)`) });
    else {
      this.tickets.set(stream, t);
      t.timer = setTimeout(() => this.settle(t, { error: err('TIMEOUT', `no sender was admitted on stream ${stream} within ${timeoutMs} ms`) }), timeoutMs);
    }
    return expected;
  }

  /** Stops listening for channels and cancels every expected transfer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.offs) off();
    receiversOf.get(this.link)?.delete(this);
    this.shutdown(err('ABORTED', 'the transfer receiver closed'));
  }

  private shutdown(error: StxError): void {
    for (const t of [...this.tickets.values()]) this.cancel(t, error);
    for (const refuse of [...this.waiting.values()]) refuse(reasonOf(error));
  }

  private cancel(t: Ticket, error: StxError): void {
    if (t.state === 'pending') this.settle(t, { error });
    else if (t.state === 'active') t.inbound!.fail(error, true);
  }

  private settle(t: Ticket, outcome: Outcome): void {
    if (t.state === 'settled') return;
    t.state = 'settled';
    clearTimeout(t.timer);
    this.tickets.delete(t.stream);
    if ('error' in outcome) {
      this.stats.failed++;
      this.log.debug('transfer failed', { stream: t.stream, error: outcome.error.message });
      t.reject(outcome.error);
    } else {
      this.stats.completed++;
      this.log.debug('transfer done', { stream: t.stream, ...outcome.stats });
      t.resolve(outcome.stats);
    }
  }

  private newStream(): number {
    const peers = receiversOf.get(this.link) ?? [this];
    const r = new Uint32Array(1);
    for (;;) {
      globalThis.crypto.getRandomValues(r);
      const s = r[0] & MAX_STREAM;
      if (s !== 0 && ![...peers].some((p) => p.tickets.has(s))) return s;
    }
  }

  private onChannel(ch: Channel): void {
    if (this.closed || !ch.label.startsWith(TRANSFER_LABEL_PREFIX)) return; // not ours: other code listens too
    const stream = streamOfLabel(ch.label);
    const t = stream === undefined ? undefined : this.tickets.get(stream);
    if (t === undefined) {
      const peers = [...(receiversOf.get(this.link) ?? [])];
      if (stream !== undefined && peers.some((p) => p !== this && p.tickets.has(stream))) return; // another receiver's
      if (peers.length > 0 && peers[0] !== this) return; // the first receiver of the link refuses for all
      return this.refuse(ch, stream === undefined ? 'not a transfer label' : `unknown stream ${stream}`);
    }
    if (t.state !== 'pending') return this.refuse(ch, `the ticket of stream ${stream} was used`);
    if (this.waiting.size >= MAX_WAITING_CHANNELS) return this.refuse(ch, 'too many channels waiting to authenticate');
    this.authenticate(ch, t);
  }

  /** Waits for the channel's first frame, which must be AUTH with the ticket's key. */
  private authenticate(ch: Channel, t: Ticket): void {
    const offs: Unsubscribe[] = [];
    const stop = (): void => {
      clearTimeout(timer);
      for (const off of offs) off();
      this.waiting.delete(ch);
    };
    const timer = setTimeout(() => {
      stop();
      this.refuse(ch, `no AUTH within ${this.authTimeoutMs} ms`);
    }, this.authTimeoutMs);
    this.waiting.set(ch, (reason) => {
      stop();
      this.refuse(ch, reason);
    });
    offs.push(
      ch.onMessage((bytes) => {
        stop();
        this.authenticated(ch, t, bytes);
      }),
      ch.onClose(stop),
    );
  }

  private authenticated(ch: Channel, t: Ticket, bytes: Uint8Array): void {
    const r = decodeFrame(bytes);
    if (!r.ok) return this.refuse(ch, `a bad first frame: ${r.error.message}`);
    const f = r.value;
    if (f.type !== 'AUTH') return this.refuse(ch, `expected AUTH, got ${f.type}`);
    if (f.version !== TRANSFER_VERSION) return this.refuse(ch, `version ${f.version}; this side speaks ${TRANSFER_VERSION}`, 'BAD_VERSION');
    const keyOk = sameKey(f.key, t.key);
    if (!keyOk || f.stream !== t.stream) return this.refuse(ch, 'wrong key');
    if (t.state !== 'pending') return this.refuse(ch, `the ticket of stream ${t.stream} was used`);
    this.stats.admitted++;
    clearTimeout(t.timer);
    t.state = 'active';
    t.inbound = new Inbound(ch, t.opts, this.windowBytes, this.maxStuBytes, this.log, (outcome) => this.settle(t, outcome));
    this.log.debug('transfer admitted', { stream: t.stream });
    t.inbound.start();
  }

  private refuse(ch: Channel, reason: string, code = 'REFUSED'): void {
    this.stats.refused++;
    this.log.info('transfer channel refused', { label: ch.label.slice(0, 64), reason });
    trySend(ch, encodeAbort(code, reason));
    ch.close();
  }
}

const END_ITEM = 4;
type Item = { kind: DataRecord['kind'] | typeof END_ITEM; total: number; bytes: Uint8Array; cost: number; frameEnd: boolean };

/** The receiving end of one admitted transfer: checks frames, queues records (bounded by the credit it
 *  grants), consumes them in order (onStu one at a time, reassembly), grants credit back, answers END. */
class Inbound {
  private state: 'open' | 'done' | 'failed' = 'open';
  private readonly t0 = now();
  /** Frame bytes the sender may send in all (window + credits). */
  private granted: number;
  /** DATA frame bytes received. */
  private received = 0;
  private pendingCredit = 0;
  private readonly creditStep: number;
  // what arrived (checked as it arrives)
  private partLeft = 0;
  private ended = false;
  private readonly arrived: Totals = { stus: 0, bytes: 0 };
  // what was consumed
  private readonly consumed: Totals = { stus: 0, bytes: 0 };
  private queue: Item[] = [];
  private head = 0;
  private running = false;
  private buf: Uint8Array | undefined;
  private filled = 0;
  private readonly offs: Unsubscribe[];

  constructor(
    private readonly ch: Channel,
    private readonly opts: ExpectOptions,
    private readonly window: number,
    private readonly maxStu: number,
    private readonly log: Logger,
    private readonly settle: (o: Outcome) => void,
  ) {
    this.granted = window;
    this.creditStep = Math.max(1, Math.floor(window / 8));
    this.offs = [ch.onMessage((b) => this.onFrame(b)), ch.onClose((reason) => this.fail(closedError(`transfer channel ${reason}`)))];
  }

  start(): void {
    if (!trySend(this.ch, encodeOk(this.window, this.maxStu))) this.fail(closedError('transfer channel closed before OK'));
  }

  /** Ends the transfer with this error; `tell`: send the peer an ABORT first. */
  fail(error: StxError, tell = false): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    if (tell) trySend(this.ch, encodeAbort(error.code, reasonOf(error)));
    this.stop();
    this.settle({ error });
  }

  private stop(): void {
    for (const off of this.offs) off();
    this.ch.close();
    this.queue = [];
    this.head = 0;
    this.buf = undefined;
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.state !== 'open') return;
    try {
      this.frame(bytes);
    } catch (e) {
      this.fail(asStx(e, 'ABORTED', 'receiving a frame'), true);
    }
  }

  private frame(bytes: Uint8Array): void {
    const r = decodeFrame(bytes);
    if (!r.ok) return this.fail(r.error, true);
    const f = r.value;
    switch (f.type) {
      case 'DATA':
        return this.data(bytes.length, f.records);
      case 'END':
        return this.end(f);
      case 'ABORT':
        return this.fail(peerAbort(f.code, f.reason));
      case 'AUTH':
      case 'OK':
      case 'CREDIT':
      case 'DONE':
        return this.fail(err('BAD_FRAME', `a ${f.type} frame from the sender`), true);
      default:
        throw new TypeError(`unhandled frame ${JSON.stringify(f satisfies never)}`);
    }
  }

  private data(length: number, records: DataRecord[]): void {
    if (this.ended) return this.fail(err('BAD_FRAME', 'DATA after END'), true);
    this.received += length;
    if (this.received > this.granted) return this.fail(err('BAD_FRAME', `the sender exceeded its credit (${this.received} bytes sent, ${this.granted} granted)`), true);
    // check the whole frame before queueing any of it
    let left = this.partLeft;
    let stus = 0;
    let bytes = 0;
    for (const r of records) {
      const n = r.bytes.length;
      switch (r.kind) {
        case RECORD.WHOLE:
          if (left > 0) return this.fail(err('BAD_FRAME', 'a whole STU inside a cut one'), true);
          if (n > this.maxStu) return this.fail(err('TOO_LARGE', `an STU of ${n} bytes (limit ${this.maxStu})`), true);
          stus++;
          break;
        case RECORD.FIRST:
          if (left > 0) return this.fail(err('BAD_FRAME', 'a first part inside a cut STU'), true);
          if (r.total > this.maxStu) return this.fail(err('TOO_LARGE', `an STU of ${r.total} bytes (limit ${this.maxStu})`), true);
          left = r.total - n;
          break;
        case RECORD.MIDDLE:
          if (left === 0) return this.fail(err('BAD_FRAME', 'a middle part without a first'), true);
          if (n >= left) return this.fail(err('BAD_LENGTH', `a middle part of ${n} bytes, ${left} due`), true);
          left -= n;
          break;
        case RECORD.LAST:
          if (left === 0) return this.fail(err('BAD_FRAME', 'a last part without a first'), true);
          if (n !== left) return this.fail(err('BAD_LENGTH', `a last part of ${n} bytes, ${left} due`), true);
          left = 0;
          stus++;
          break;
        default:
          throw new TypeError(`unhandled record kind ${String(r.kind satisfies never)}`);
      }
      bytes += n;
    }
    this.partLeft = left;
    this.arrived.stus += stus;
    this.arrived.bytes += bytes;
    records.forEach((r, i) => {
      const header = (r.kind === RECORD.FIRST ? FIRST_HEADER : RECORD_HEADER) + (i === 0 ? DATA_HEADER : 0);
      this.queue.push({ ...r, cost: header + r.bytes.length, frameEnd: i === records.length - 1 });
    });
    this.kick();
  }

  private end(f: Totals): void {
    if (this.ended) return this.fail(err('BAD_FRAME', 'a second END'), true);
    if (this.partLeft > 0) return this.fail(err('BAD_FRAME', `END with ${this.partLeft} bytes of an STU due`), true);
    if (f.stus !== this.arrived.stus || f.bytes !== this.arrived.bytes) {
      return this.fail(err('BAD_FRAME', `END says ${f.stus} STUs, ${f.bytes} bytes; ${this.arrived.stus} STUs, ${this.arrived.bytes} bytes arrived`), true);
    }
    this.ended = true;
    this.queue.push({ kind: END_ITEM, total: 0, bytes: new Uint8Array(0), cost: 0, frameEnd: false });
    this.kick();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  /** Consumes queued records in order; never rejects. */
  private async run(): Promise<void> {
    try {
      while (this.state === 'open' && this.head < this.queue.length) {
        const item = this.queue[this.head++];
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        if (item.kind === END_ITEM) return this.finish();
        await this.consume(item);
        if (this.state !== 'open') return;
        this.release(item.cost);
        if (item.frameEnd) this.progress();
      }
    } catch (e) {
      this.fail(asStx(e, 'HANDLER_FAILED', 'onStu failed'), true);
    } finally {
      this.running = false;
    }
  }

  private async consume(item: Item): Promise<void> {
    switch (item.kind) {
      case RECORD.WHOLE:
        return this.deliver(new Uint8Array(item.bytes)); // a copy (Buffer#slice would be a view of the frame)
      case RECORD.FIRST:
        this.buf = new Uint8Array(item.total); // total was checked against maxStuBytes on arrival
        this.buf.set(item.bytes);
        this.filled = item.bytes.length;
        return;
      case RECORD.MIDDLE:
        this.buf!.set(item.bytes, this.filled);
        this.filled += item.bytes.length;
        return;
      case RECORD.LAST: {
        const stu = this.buf!;
        stu.set(item.bytes, this.filled);
        this.buf = undefined;
        return this.deliver(stu);
      }
      default:
        throw new TypeError(`unexpected item ${item.kind}`);
    }
  }

  private async deliver(stu: Uint8Array): Promise<void> {
    try {
      await this.opts.onStu(stu);
    } catch (e) {
      throw asStx(e, 'HANDLER_FAILED', 'onStu failed');
    }
    this.consumed.stus++;
    this.consumed.bytes += stu.length;
  }

  /** Credit back, in steps of window / 8, and whatever is owed whenever the queue runs dry. */
  private release(cost: number): void {
    this.pendingCredit += cost;
    if (this.ended) return; // the sender sends no more DATA
    if (this.pendingCredit < this.creditStep && this.head < this.queue.length) return;
    const n = this.pendingCredit;
    this.pendingCredit = 0;
    this.granted += n;
    if (!trySend(this.ch, encodeCredit(n))) this.fail(closedError('transfer channel closed'));
  }

  private finish(): void {
    if (!trySend(this.ch, encodeTotals('DONE', this.consumed))) return this.fail(closedError('transfer channel closed before DONE'));
    this.state = 'done';
    this.stop();
    this.settle({ stats: this.statsNow() });
  }

  private statsNow(): TransferStats {
    return { stus: this.consumed.stus, bytes: this.consumed.bytes, ms: now() - this.t0 };
  }

  private progress(): void {
    if (!this.opts.onProgress) return;
    try {
      this.opts.onProgress(this.statsNow());
    } catch (e) {
      this.log.warn('transfer onProgress threw', { error: messageOf(e) });
    }
  }
}

// --------------------------------------------------------------------------------------------- sender

/**
 * Opens the channel named by the ticket, authenticates with its key, sends every STU (cut to the channel's
 * maxMessageSize, many small STUs packed per message), paced, then ends and waits for the receiver to
 * confirm. Rejects with StxError: REFUSED (wrong key, unknown or used stream), CLOSED, ABORTED (the signal,
 * or the source threw), REMOTE_ERROR (the receiver aborted; remoteCode says why), TIMEOUT, TOO_LARGE (an STU
 * over the receiver's limit), BAD_FRAME (the receiver broke the protocol), BAD_PARAM (a malformed ticket).
 * Each STU is read until the next one is pulled.
 */
export async function sendStus(link: PeerLink, ticket: TransferTicket, stus: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, opts: SendStusOptions = {}): Promise<TransferStats> {
  const t0 = now();
  const key = checkTicket(ticket);
  const ch = await openWithin(link, transferLabel(ticket.stream), opts.timeoutMs ?? 10_000, opts.signal);
  return new Outbound(ch, ticket, key, opts, t0).run(stus);
}

function checkTicket(t: TransferTicket): Uint8Array {
  if (!Number.isInteger(t.stream) || t.stream < 1 || t.stream > MAX_STREAM) throw err('BAD_PARAM', `ticket stream ${t.stream}: 1 .. 2^31 - 1`);
  const key = keyBytes(t.key);
  if (!key) throw err('BAD_PARAM', 'ticket key: not 22 base64url characters');
  if (t.rate !== undefined && !(Number.isFinite(t.rate) && t.rate >= 0)) throw err('BAD_PARAM', `ticket rate ${t.rate}`);
  return key;
}

const abortError = (signal: AbortSignal): StxError => err('ABORTED', signal.reason === undefined ? 'aborted' : messageOf(signal.reason));

function openWithin(link: PeerLink, label: string, ms: number, signal: AbortSignal | undefined): Promise<Channel> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (finish()) reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      if (finish()) reject(err('TIMEOUT', `channel ${label} did not open within ${ms} ms`));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    link.openChannel(label, TRANSFER_CHANNEL_OPTIONS).then(
      (ch) => {
        if (finish()) resolve(ch);
        else ch.close(); // too late: nobody will use it
      },
      (e: unknown) => {
        if (finish()) reject(e instanceof StxError ? e : closedError(messageOf(e)));
      },
    );
  });
}

/** Token bucket: a frame may go when the bucket is not in debt; its bytes are then taken (possibly into
 *  debt). Holds at most `burst` bytes (50 ms at the rate, at least one frame). */
class TokenBucket {
  private tokens: number;
  private last = now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  /** Milliseconds until a frame may go; 0: now. */
  delay(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }
  take(n: number): void {
    this.refill();
    this.tokens -= n;
  }
  private refill(): void {
    const t = now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
  }
}

type Source = { async: true; it: AsyncIterator<Uint8Array> } | { async: false; it: Iterator<Uint8Array> };

/** The sending end of one transfer. One loop (run) waits on events through nap()/poke(). */
class Outbound {
  private readonly stats: TransferStats = { stus: 0, bytes: 0, ms: 0 };
  private error: StxError | undefined;
  private finished = false;
  private admitted: { window: number; maxStu: number } | undefined;
  /** Frame bytes the receiver still accepts. */
  private credit = 0;
  private endSent = false;
  private doneTotals: Totals | undefined;
  private heard = now();
  private wake: (() => void) | undefined;
  private readonly offs: Unsubscribe[] = [];
  private readonly log: Logger;
  private readonly highWater: number;
  private readonly frameMax: number;
  private frame = new Uint8Array(0);
  private frameLen = DATA_HEADER;
  private frameStus = 0;
  private frameBytes = 0;
  private bucket: TokenBucket | undefined;

  constructor(
    private readonly ch: Channel,
    private readonly ticket: TransferTicket,
    private readonly key: Uint8Array,
    private readonly opts: SendStusOptions,
    private readonly t0: number,
  ) {
    this.log = opts.log ?? silentLogger;
    this.highWater = opts.highWaterBytes ?? 1024 * 1024;
    this.frameMax = Math.min(ch.maxMessageSize, opts.maxFrameBytes ?? 256 * 1024);
    ch.bufferedAmountLowThreshold = Math.floor(this.highWater / 2);
    this.offs.push(
      ch.onMessage((b) => this.onFrame(b)),
      ch.onClose((reason) => this.fail(closedError(`transfer channel ${reason}`))),
      ch.onBufferedAmountLow(() => this.poke()),
    );
    const signal = opts.signal;
    if (signal) {
      const onAbort = (): void => this.fail(abortError(signal), true);
      signal.addEventListener('abort', onAbort, { once: true });
      this.offs.push(() => signal.removeEventListener('abort', onAbort));
    }
  }

  async run(stus: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<TransferStats> {
    let source: Source | undefined;
    try {
      if (this.opts.signal?.aborted) throw abortError(this.opts.signal);
      if (this.frameMax < MIN_FRAME) throw err('UNSUPPORTED', `a channel message limit of ${this.frameMax} bytes (at least ${MIN_FRAME})`);
      this.send(encodeAuth(this.ticket.stream, this.key));
      await this.waitAdmitted();
      const rate = this.ticket.rate ?? 0;
      if (rate > 0) this.bucket = new TokenBucket(rate, Math.max(this.frameMax, rate / 20));
      this.frame = new Uint8Array(this.frameMax);
      this.frameLen = startData(this.frame);
      source = Symbol.asyncIterator in stus ? { async: true, it: stus[Symbol.asyncIterator]() } : { async: false, it: stus[Symbol.iterator]() };
      for (;;) {
        const r = await this.pull(source);
        if (r.done) break;
        await this.add(r.value);
      }
      source = undefined;
      await this.flush();
      this.send(encodeTotals('END', this.stats));
      this.endSent = true;
      while (!this.doneTotals) await this.napIdle();
      const d = this.doneTotals;
      if (d.stus !== this.stats.stus || d.bytes !== this.stats.bytes) {
        throw err('BAD_FRAME', `DONE says ${d.stus} STUs, ${d.bytes} bytes; ${this.stats.stus} STUs, ${this.stats.bytes} bytes were sent`);
      }
      this.finished = true;
      this.stop();
      return this.statsNow();
    } catch (e) {
      this.fail(asStx(e, 'ABORTED', 'sending failed'), true);
      if (source) this.closeSource(source);
      throw this.error ?? asStx(e, 'ABORTED', 'sending failed');
    }
  }

  private fail(error: StxError, tell = false): void {
    if (this.error || this.finished) return;
    this.error = error;
    if (tell) trySend(this.ch, encodeAbort(error.code, reasonOf(error)));
    this.stop();
    this.poke();
  }

  private stop(): void {
    for (const off of this.offs.splice(0)) off();
    this.ch.close();
  }

  private check(): void {
    if (this.error) throw this.error;
  }

  private send(frame: Uint8Array): void {
    this.check();
    this.ch.send(frame);
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.error || this.finished) return;
    this.heard = now();
    try {
      this.frameIn(bytes);
    } catch (e) {
      this.fail(asStx(e, 'ABORTED', 'receiving a frame'), true);
    }
    this.poke();
  }

  private frameIn(bytes: Uint8Array): void {
    const r = decodeFrame(bytes);
    if (!r.ok) return this.fail(r.error, true);
    const f = r.value;
    switch (f.type) {
      case 'OK':
        if (this.admitted) return this.fail(err('BAD_FRAME', 'a second OK'), true);
        this.admitted = { window: f.window, maxStu: f.maxStu };
        this.credit = f.window;
        return;
      case 'CREDIT':
        if (!this.admitted) return this.fail(err('BAD_FRAME', 'CREDIT before OK'), true);
        this.credit += f.bytes;
        return;
      case 'DONE':
        if (!this.endSent || this.doneTotals) return this.fail(err('BAD_FRAME', this.endSent ? 'a second DONE' : 'DONE before END'), true);
        this.doneTotals = { stus: f.stus, bytes: f.bytes };
        return;
      case 'ABORT':
        return this.fail(peerAbort(f.code, f.reason));
      case 'AUTH':
      case 'DATA':
      case 'END':
        return this.fail(err('BAD_FRAME', `a ${f.type} frame from the receiver`), true);
      default:
        throw new TypeError(`unhandled frame ${JSON.stringify(f satisfies never)}`);
    }
  }

  // waiting: one nap at a time, ended by poke() (any event) or its timer

  private nap(ms?: number): Promise<undefined> {
    this.poke();
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wake = (): void => {
        clearTimeout(timer);
        if (this.wake === wake) this.wake = undefined;
        resolve(undefined);
      };
      if (ms !== undefined) timer = setTimeout(wake, ms);
      this.wake = wake;
    });
  }

  private poke(): void {
    this.wake?.();
  }

  /** Naps until an event, failing with TIMEOUT when the receiver has been silent for idleTimeoutMs. */
  private async napIdle(): Promise<void> {
    this.check();
    const idle = this.opts.idleTimeoutMs ?? 60_000;
    const left = this.heard + idle - now();
    if (left <= 0) throw err('TIMEOUT', `nothing from the receiver for ${idle} ms`);
    await this.nap(left);
  }

  private async waitAdmitted(): Promise<void> {
    const ms = this.opts.timeoutMs ?? 10_000;
    while (!this.admitted) {
      this.check();
      const left = this.t0 + ms - now();
      if (left <= 0) throw err('TIMEOUT', `the receiver did not admit the transfer within ${ms} ms`);
      await this.nap(left);
    }
  }

  private async waitCredit(n: number): Promise<void> {
    while (this.credit < n) await this.napIdle();
  }

  /** The next STU. An async source that is not ready at once gets the frame built so far sent first. */
  private async pull(source: Source): Promise<IteratorResult<Uint8Array>> {
    this.check();
    if (!source.async) return this.fromSource(() => source.it.next());
    const next = this.fromSource(() => source.it.next());
    markHandled(next); // if this transfer fails while waiting, nobody awaits it; the failure is reported
    let flushed = this.frameLen <= DATA_HEADER;
    for (;;) {
      const r = await Promise.race([next, this.nap(flushed ? undefined : 0)]);
      this.poke(); // end the nap if `next` won
      if (r !== undefined) return r;
      this.check();
      if (!flushed) {
        await this.flush();
        flushed = true;
      }
    }
  }

  private async fromSource(next: () => IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>>): Promise<IteratorResult<Uint8Array>> {
    try {
      return await next();
    } catch (e) {
      throw asStx(e, 'ABORTED', 'the STU source failed');
    }
  }

  private closeSource(source: Source): void {
    try {
      const r = source.it.return?.();
      if (r instanceof Promise) r.then(undefined, (e: unknown) => this.log.debug('closing the STU source failed', { error: messageOf(e) }));
    } catch (e) {
      this.log.debug('closing the STU source failed', { error: messageOf(e) });
    }
  }

  /** Room for the frame being built: the frame limit, or the credit if smaller. */
  private room(): number {
    return Math.min(this.frameMax, this.credit);
  }

  private async add(stu: Uint8Array): Promise<void> {
    if (!(stu instanceof Uint8Array) || stu.length === 0) throw err('BAD_LENGTH', 'an STU must be a non-empty Uint8Array');
    const { window, maxStu } = this.admitted!;
    if (stu.length > maxStu) throw err('TOO_LARGE', `an STU of ${stu.length} bytes; the receiver takes at most ${maxStu}`);
    if (DATA_HEADER + RECORD_HEADER + stu.length <= Math.min(this.frameMax, window)) {
      // whole, in this frame or the next one
      const need = RECORD_HEADER + stu.length;
      if (this.frameLen + need > this.room()) {
        await this.flush();
        await this.waitCredit(DATA_HEADER + need);
      }
      this.frameLen = writeRecord(this.frame, this.frameLen, RECORD.WHOLE, 0, stu);
      this.frameStus++;
      this.frameBytes += stu.length;
      return;
    }
    // cut: FIRST (with the total), MIDDLE*, LAST, each as large as the room allows
    let off = 0;
    while (off < stu.length) {
      const header = off === 0 ? FIRST_HEADER : RECORD_HEADER;
      const left = stu.length - off;
      if (this.frameLen + header + Math.min(MIN_PART, left) > this.room()) {
        await this.flush();
        await this.waitCredit(DATA_HEADER + header + Math.min(MIN_PART, left));
        continue;
      }
      const n = Math.min(this.room() - this.frameLen - header, off === 0 ? left - 1 : left);
      const kind = off === 0 ? RECORD.FIRST : n === left ? RECORD.LAST : RECORD.MIDDLE;
      this.frameLen = writeRecord(this.frame, this.frameLen, kind, stu.length, stu.subarray(off, off + n));
      this.frameBytes += n;
      off += n;
      if (kind === RECORD.LAST) this.frameStus++;
    }
  }

  /** Sends the frame built so far, once bufferedAmount and the token bucket allow. */
  private async flush(): Promise<void> {
    if (this.frameLen <= DATA_HEADER) return;
    while (this.ch.bufferedAmount >= this.highWater) {
      this.check();
      await this.nap(BUFFER_POLL_MS); // onBufferedAmountLow pokes; the timer is a safety net
    }
    for (let d = this.bucket?.delay() ?? 0; d > 0; d = this.bucket!.delay()) {
      this.check();
      await this.nap(d);
    }
    const n = this.frameLen;
    this.send(this.frame.subarray(0, n)); // the channel copies: the buffer is reused
    this.bucket?.take(n);
    this.credit -= n;
    this.stats.stus += this.frameStus;
    this.stats.bytes += this.frameBytes;
    this.frameStus = 0;
    this.frameBytes = 0;
    this.frameLen = startData(this.frame);
    if (this.opts.onProgress) {
      try {
        this.opts.onProgress(this.statsNow());
      } catch (e) {
        this.log.warn('transfer onProgress threw', { error: messageOf(e) });
      }
    }
  }

  private statsNow(): TransferStats {
    return { stus: this.stats.stus, bytes: this.stats.bytes, ms: now() - this.t0 };
  }
}
