// The signaling connection: STX messages over one ordered reliable channel. Outgoing messages are batched
// (batcher.ts); requests get ids and wait for their Reply/Ack (requests.ts); incoming messages are decoded
// (batch.ts, message.ts) and dispatched through a table of handlers, one per method, asynchronously. Bytes
// from the peer never throw: a bad batch, a bad message, an unknown method or an unknown reply id counts as
// invalid, and past maxInvalid the connection closes with TOO_MANY_INVALID.
import { silentLogger, type Logger } from '../log.ts';
import { Emitter } from '../util/emitter.ts';
import { Batcher, type BatcherOptions } from './batcher.ts';
import { decodeBatch } from './batch.ts';
import { closedError, err, remoteError, StxError, type StxErrorCode } from './errors.ts';
import { type Attrs, decodeMessage, encodeMessage, type Message, type MessageLimits, type StxNode } from './message.ts';
import { isAnswer, Method } from './methods.ts';
import { type OpenOptions, RequestTable } from './requests.ts';
import type { Channel, Unsubscribe } from './transport.ts';

/** Parameters of a message: attributes of <stx> and child elements. */
export interface Params {
  attrs?: Attrs;
  children?: StxNode[];
}
/** What a handler returns for a request: nothing (an Ack goes back) or the Reply's parameters and body. */
export interface ReplyInit extends Params {
  body?: Uint8Array;
}
export type Handler = (message: Message, connection: SignalingConnection) => ReplyInit | void | Promise<ReplyInit | void>;

export interface ConnectionOptions extends BatcherOptions {
  handlers?: Record<string, Handler>;
  /** Invalid messages tolerated; one more closes the connection. Default 16. */
  maxInvalid?: number;
  /** Handlers running at once; further messages wait in arrival order. Default 1024. */
  maxInFlight?: number;
  /** Messages waiting for a handler slot, by count (default 4096) and body bytes (default 4 MiB). Past
   *  either, requests are answered BUSY and one-way messages dropped (both counted in stats.busy). */
  maxWaiting?: number;
  maxWaitingBytes?: number;
  maxOutstanding?: number;
  requestTimeoutMs?: number;
  limits?: Partial<MessageLimits>;
  log?: Logger;
}

export interface ConnectionStats {
  messagesIn: number;
  messagesOut: number;
  batchesIn: number;
  invalid: number;
  unknownMethods: number;
  unknownReplies: number;
  staleReplies: number;
  duplicateIds: number;
  busy: number;
  handlerErrors: number;
}

/** Codes of handler errors that blame the peer's message (and count as invalid): a malformed request, and
 *  a State API request before registering or with a refused identity. */
const PEER_FAULTS: ReadonlySet<StxErrorCode> = new Set(['BAD_PARAM', 'BAD_HEADER', 'UNAUTHENTICATED']);

export class SignalingConnection {
  readonly stats: ConnectionStats = {
    messagesIn: 0,
    messagesOut: 0,
    batchesIn: 0,
    invalid: 0,
    unknownMethods: 0,
    unknownReplies: 0,
    staleReplies: 0,
    duplicateIds: 0,
    busy: 0,
    handlerErrors: 0,
  };
  readonly batcher: Batcher;
  private readonly handlers = new Map<string, Handler>();
  private readonly requests: RequestTable<Message>;
  private readonly maxInvalid: number;
  private readonly maxInFlight: number;
  private readonly maxCount: number | undefined;
  private readonly maxWaiting: number;
  private readonly maxWaitingBytes: number;
  private readonly waiting: { handler: Handler; m: Message }[] = [];
  private waitingBytes = 0;
  private readonly limits: Partial<MessageLimits>;
  private readonly log: Logger;
  private readonly closed = new Emitter<{ reason: string; error: StxError }>();
  private readonly subs: Unsubscribe[];
  private inFlight = 0;
  private lastPeerId = 0;
  private closedWith: StxError | undefined;

  constructor(
    readonly channel: Channel,
    opts: ConnectionOptions = {},
  ) {
    this.batcher = new Batcher(channel, { ...opts, onError: (e) => this.close(`send failed: ${e.message}`, e) });
    this.requests = new RequestTable({ maxOutstanding: opts.maxOutstanding, timeoutMs: opts.requestTimeoutMs });
    this.maxInvalid = opts.maxInvalid ?? 16;
    this.maxInFlight = opts.maxInFlight ?? 1024;
    this.maxCount = opts.maxCount;
    this.maxWaiting = opts.maxWaiting ?? 4096;
    this.maxWaitingBytes = opts.maxWaitingBytes ?? 4 * 1024 * 1024;
    this.limits = opts.limits ?? {};
    this.log = opts.log ?? silentLogger;
    for (const [method, h] of Object.entries(opts.handlers ?? {})) this.handle(method, h);
    this.subs = [channel.onMessage((bytes) => this.receive(bytes)), channel.onClose((reason) => this.close(`channel closed: ${reason}`))];
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  get outstanding(): number {
    return this.requests.outstanding;
  }

  /** Registers the handler of a method (replacing any). Ack and Reply are the connection's own. */
  handle(method: string, handler: Handler): this {
    if (isAnswer(method)) throw new TypeError(`${method} is answered by the connection, not by a handler`);
    this.handlers.set(method, handler);
    return this;
  }

  /** A one-way message. Returns false past the high-water mark (await drain()). Throws StxError. */
  send(method: string, params: Params = {}, body?: Uint8Array): boolean {
    if (isAnswer(method)) throw new TypeError(`${method} is sent by the connection only`);
    return this.push({ method, ...params, body });
  }

  /** A request: resolves with the peer's Reply or Ack, rejects with StxError (REMOTE_ERROR, TIMEOUT, CLOSED, …). */
  request(method: string, params: Params = {}, body?: Uint8Array, opts: OpenOptions = {}): Promise<Message> {
    if (isAnswer(method)) return Promise.reject(new TypeError(`${method} is sent by the connection only`));
    let opened: { id: number; reply: Promise<Message> };
    try {
      opened = this.requests.open(opts);
    } catch (e) {
      return Promise.reject(e);
    }
    try {
      this.push({ method, id: opened.id, ...params, body });
    } catch (e) {
      this.requests.reject(opened.id, e instanceof StxError ? e : err('BAD_PARAM', String(e)));
    }
    return opened.reply;
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  onClose(fn: (reason: string, error: StxError) => void): Unsubscribe {
    return this.closed.on(({ reason, error }) => fn(reason, error));
  }

  /** Flushes what is queued, closes the channel, rejects every outstanding request with CLOSED. */
  close(reason = 'closed', error: StxError = closedError(reason)): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const off of this.subs) off();
    this.batcher.flush();
    this.batcher.close(error);
    this.requests.closeAll(error);
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.channel.close();
    this.log.info('stx connection closed', { reason, code: error.code });
    this.closed.emit({ reason, error });
  }

  private push(m: Parameters<typeof encodeMessage>[0]): boolean {
    if (this.closedWith) throw this.closedWith;
    const writable = this.batcher.push(encodeMessage(m, this.limits));
    this.stats.messagesOut++;
    return writable;
  }

  // ------------------------------------------------------------------------------------------ receiving

  private receive(bytes: Uint8Array): void {
    if (this.closedWith) return;
    const batch = decodeBatch(bytes, { maxBytes: this.channel.maxMessageSize, maxCount: this.maxCount });
    if (!batch.ok) return this.invalid(batch.error);
    this.stats.batchesIn++;
    for (const part of batch.value) {
      if (this.closedWith) return;
      const m = decodeMessage(part, this.limits);
      if (!m.ok) this.invalid(m.error);
      else this.dispatch(m.value);
    }
  }

  private dispatch(m: Message): void {
    this.stats.messagesIn++;
    if (isAnswer(m.method)) return this.answer(m);
    const id = m.id;
    if (id !== undefined) {
      if (id <= this.lastPeerId) {
        this.stats.duplicateIds++;
        return;
      }
      this.lastPeerId = id;
    }
    const handler = this.handlers.get(m.method);
    if (!handler) {
      this.stats.unknownMethods++;
      if (id !== undefined) this.replyError(id, 'UNKNOWN_METHOD', `no handler for ${m.method}`);
      return this.invalid(err('UNKNOWN_METHOD', `no handler for ${m.method}`));
    }
    if (this.inFlight < this.maxInFlight) return this.start(handler, m);
    if (this.waiting.length >= this.maxWaiting || this.waitingBytes + m.body.length > this.maxWaitingBytes) {
      this.stats.busy++;
      if (id !== undefined) this.replyError(id, 'BUSY', `${this.inFlight} messages in progress, ${this.waiting.length} waiting`);
      return;
    }
    // A waiting message keeps a copy of its body, not the whole batch it came in.
    this.waiting.push({ handler, m: { ...m, body: m.body.slice() } });
    this.waitingBytes += m.body.length;
  }

  private start(handler: Handler, m: Message): void {
    this.inFlight++;
    void this.run(handler, m).finally(() => {
      this.inFlight--;
      const next = this.closedWith ? undefined : this.waiting.shift();
      if (next) {
        this.waitingBytes -= next.m.body.length;
        this.start(next.handler, next.m);
      }
    });
  }

  private async run(handler: Handler, m: Message): Promise<void> {
    let result: ReplyInit | void;
    try {
      await Promise.resolve();
      result = await handler(m, this);
    } catch (e) {
      return this.handlerFailed(m, e);
    }
    if (m.id === undefined || this.closedWith) return;
    try {
      if (result && result.attrs && Object.hasOwn(result.attrs, 'error')) throw new TypeError('attribute error is reserved in a Reply');
      this.push(result ? { method: Method.Reply, id: m.id, ...result } : { method: Method.Ack, id: m.id });
    } catch (e) {
      this.handlerFailed(m, e);
    }
  }

  private handlerFailed(m: Message, e: unknown): void {
    this.stats.handlerErrors++;
    const code: StxErrorCode = e instanceof StxError ? e.code : 'HANDLER_FAILED';
    const reason = e instanceof Error ? e.message : String(e);
    // a refusal the handler meant (an StxError) is the peer's business: info; a crash is ours: warn
    (code === 'HANDLER_FAILED' ? this.log.warn : this.log.info)('stx handler failed', { method: m.method, id: m.id, code, reason });
    if (m.id !== undefined) this.replyError(m.id, code, reason);
    if (PEER_FAULTS.has(code)) this.invalid(err(code, reason));
  }

  private replyError(id: number, code: string, reason: string): void {
    if (this.closedWith) return;
    try {
      this.push({ method: Method.Reply, id, attrs: { error: code, reason: reason.slice(0, 256) } });
    } catch (e) {
      this.log.warn('stx error reply not sent', { id, code, reason: e instanceof Error ? e.message : String(e) });
    }
  }

  private answer(m: Message): void {
    if (m.id === undefined) return this.invalid(err('BAD_HEADER', `${m.method} without an id`));
    const code = m.method === Method.Reply ? m.attrs.error : undefined;
    const settled = code !== undefined ? this.requests.reject(m.id, remoteError(code, m.attrs.reason ?? '')) : this.requests.resolve(m.id, m);
    if (settled === 'stale') this.stats.staleReplies++;
    else if (settled === 'unknown') {
      this.stats.unknownReplies++;
      this.invalid(err('UNKNOWN_REPLY', `${m.method} for request ${m.id}, which was never sent`));
    }
  }

  private invalid(e: StxError): void {
    this.stats.invalid++;
    this.log.debug('stx invalid message', { code: e.code, reason: e.message, invalid: this.stats.invalid });
    if (this.stats.invalid > this.maxInvalid) {
      this.close(`more than ${this.maxInvalid} invalid messages (last: ${e.message})`, err('TOO_MANY_INVALID', `more than ${this.maxInvalid} invalid messages`));
    }
  }
}
