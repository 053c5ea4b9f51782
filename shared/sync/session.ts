// One sync session: the signaling connection with one peer, from admission to Unregister (docs/PROTOCOL.md,
// "Sync"). In order:
//   1. Hello both ways: a server proves the cluster key bound to both DTLS fingerprints (admission.ts); a
//      viewer says it is one and brings no proof. Nothing else is handled, and nothing is sent, before the
//      peer's Hello checks out; a bad one is answered REFUSED and the link closed.
//   2. Register: each side that wants STUs sends its sync vector (binary body) and a transfer ticket; the
//      other answers how many metadata STUs the sender lacks and streams them over a data channel
//      (shared/stx/transfer.ts). Register is repeated every syncIntervalMs, which repairs anything lost.
//   3. Live: STUs stored here go out as UpdateSTU (batched by the connection), unless the peer is known to
//      hold them; an STU too large for one signaling message is announced and fetched with GetSTU. A hole
//      in a lane (an STU held above a missing one) is asked for with GetSTU after gapDelayMs.
//   4. Unregister when a side shuts down: the other does not reconnect.
// A viewer (a browser) receives metadata and may fetch data STUs; its UpdateSTU and Register tickets are
// the only things it sends, and a server never stores what a viewer sends.
import { silentLogger, type Logger } from '../log.ts';
import type { Loc } from '../ring/types.ts';
import { decodeHeader, type Guid, isData, type StuHeader } from '../stu/index.ts';
import { SignalingConnection, type ReplyInit } from '../stx/connection.ts';
import { err, isStxError } from '../stx/errors.ts';
import type { Message } from '../stx/message.ts';
import { Method } from '../stx/methods.ts';
import { sendStus, TransferReceiver, type TransferStats, type TransferTicket } from '../stx/transfer.ts';
import type { Channel, PeerLink } from '../stx/transport.ts';
import { Emitter } from '../util/emitter.ts';
import type { ClusterKey, FingerprintText } from './admission.ts';
import { behindBy, HeldIndex, type VectorEntry } from './held.ts';
import type { SyncStore } from './store.ts';
import { decodeVector, encodeVector, guidParam, intParam, ticketAttrs, ticketParam, typeAttr, typeParam } from './wire.ts';

export type Role = 'server' | 'viewer';
export const PROTOCOL_VERSION = '1';

/** What a server says about itself in Register (the seed: resources and applications). */
export interface ServerInfo {
  version: string;
  apps: string[];
  cores?: number;
  memoryBytes?: number;
  metaCapacity?: number;
  dataCapacity?: number;
  /** Where others can POST an offer to reach it (for operators; the mesh negotiates through peers). */
  url?: string;
  /** Clients it serves now (API clients and viewers): what a redirect to a less loaded server weighs. */
  load?: number;
}

export interface SessionOptions {
  store: SyncStore;
  role: Role;
  /** Required for a server; a viewer has none. */
  key?: ClusterKey;
  /** This side's and the peer's DTLS fingerprints, as seen in the two SDPs. */
  fingerprints: { local: FingerprintText; remote: FingerprintText };
  info: () => ServerInfo;
  /** Server side: may this metadata STU go to a viewer (access control: a viewer is anonymous)? Default: every one. */
  shareWithViewer?: (header: StuHeader) => boolean;
  /** Does this server accept viewers (Hello role="viewer")? Default true. */
  acceptViewers?: boolean;
  /** Register is repeated this often (the anti-entropy that repairs lost messages). Default 10 s. */
  syncIntervalMs?: number;
  /** A hole in a lane is asked for after this long (it may just be late). Default 250 ms. */
  gapDelayMs?: number;
  /** Peer's Hello must arrive within this. Default 10 s. */
  helloTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Rate (bytes/s) this side asks transfers to it to be paced at; 0 = as fast as it stores. */
  receiveRate?: number;
  /** Relay bytes queued per session before the session falls back to a full Register round. Default 8 MiB. */
  maxRelayBytes?: number;
  log?: Logger;
}

/** Stores of received STUs in flight at once. */
const MAX_PUTS = 256;
/** STUs read ahead from the ring while sending. */
const READ_AHEAD = 256;

export type SessionState = 'admitting' | 'live' | 'closed';

export interface CatchUp {
  direction: 'in' | 'out';
  expected: number;
  stus: number;
  bytes: number;
  done: boolean;
  ms: number;
}

export interface SessionEvents {
  admitted: void;
  progress: CatchUp;
  closed: { reason: string; code: string };
}

/** Why a session ended, deciding whether to reconnect. */
export type EndCode = 'refused' | 'unregistered' | 'duplicate' | 'closed' | 'shutdown' | 'lost';

export class PeerSession {
  state: SessionState = 'admitting';
  readonly conn: SignalingConnection;
  peer: Guid | undefined;
  peerRole: Role | undefined;
  peerInfo: ServerInfo | undefined;
  /** The peer's last Register vector (what it said it holds). */
  peerVector: VectorEntry[] = [];
  readonly connectedAt = Date.now();
  endCode: EndCode | undefined;
  endReason: string | undefined;
  readonly stats = { stusIn: 0, stusOut: 0, bytesIn: 0, bytesOut: 0, duplicatesIn: 0, badStus: 0, relayed: 0, announced: 0, gapRequests: 0, registers: 0, resyncs: 0 };
  lastIn: CatchUp | undefined;
  lastOut: CatchUp | undefined;
  readonly events = {
    admitted: new Emitter<void>(),
    progress: new Emitter<CatchUp>(),
    closed: new Emitter<{ code: EndCode; reason: string }>(),
  };

  private readonly store: SyncStore;
  private readonly log: Logger;
  private readonly receiver: TransferReceiver;
  private readonly peerHas = new HeldIndex();
  private readonly puts = new Set<Promise<void>>();
  private readonly relayQueue: Uint8Array[] = [];
  private relayBytes = 0;
  private relayRunning = false;
  private relayDropped = false;
  private outgoing: AbortController | undefined;
  private registering = false;
  private helloDone = { mine: false, theirs: false };
  private timers: ReturnType<typeof setTimeout>[] = [];
  private syncTimer: ReturnType<typeof setInterval> | undefined;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly offStored: () => void;
  private readonly admittedPromise: Promise<void>;

  constructor(
    readonly link: PeerLink,
    channel: Channel,
    readonly initiator: boolean,
    private readonly opts: SessionOptions,
  ) {
    if (opts.role === 'server' && !opts.key) throw new TypeError('a server session needs the cluster key');
    this.store = opts.store;
    this.log = opts.log ?? silentLogger;
    this.receiver = new TransferReceiver(link, { log: this.log, windowBytes: 16 * 1024 * 1024 });
    this.conn = new SignalingConnection(channel, { log: this.log, requestTimeoutMs: opts.requestTimeoutMs ?? 30_000 });
    this.conn.handle(Method.Hello, (m) => this.onHello(m));
    this.conn.handle(Method.Register, (m) => this.guard(m, () => this.onRegister(m)));
    this.conn.handle(Method.UpdateSTU, (m) => this.guard(m, () => this.onUpdate(m)));
    this.conn.handle(Method.GetSTU, (m) => this.guard(m, () => this.onGet(m)));
    this.conn.handle(Method.Unregister, (m) => this.guard(m, () => this.end('unregistered', m.attrs.reason?.slice(0, 200) ?? 'peer unregistered')));
    this.conn.onClose((reason) => this.end(this.endCode ?? 'lost', reason));
    link.onClose((reason) => this.end(this.endCode ?? 'lost', `link closed: ${reason}`));
    this.offStored = this.store.onStored((s) => {
      if (s.from !== this.peer || s.from === undefined) this.offer(s.header, s.bytes);
    });
    this.admittedPromise = new Promise<void>((resolve, reject) => {
      this.events.admitted.on(resolve);
      this.events.closed.on(({ code, reason }) => reject(err(code === 'refused' ? 'REFUSED' : 'CLOSED', reason)));
    });
    this.admittedPromise.catch(() => undefined);
    this.timers.push(
      setTimeout(() => {
        if (this.state === 'admitting') this.fail('refused', 'no admission in time');
      }, opts.helloTimeoutMs ?? 10_000),
    );
    void this.sayHello();
  }

  /** Resolves once both sides admitted each other; rejects (REFUSED, CLOSED) otherwise. */
  admitted(): Promise<void> {
    return this.admittedPromise;
  }

  /** How many metadata STUs the peer lacks that we hold, and the reverse, by the last vectors exchanged. */
  lag(): { peerBehind: number; weBehind: number } {
    const mine = this.store.held.vector();
    return { peerBehind: behindBy(mine, this.peerHas.vector()), weBehind: behindBy(this.peerVector, mine) };
  }

  /** Sends Unregister and closes (a clean shutdown). */
  async unregister(reason = 'shutdown'): Promise<void> {
    if (this.state === 'closed') return;
    try {
      if (this.state === 'live') {
        this.conn.send(Method.Unregister, { attrs: { reason } });
        await Promise.race([this.conn.drain(), new Promise((r) => setTimeout(r, 500))]);
      }
    } catch {
      // closing anyway
    }
    this.end('shutdown', reason);
  }

  close(code: EndCode, reason: string): void {
    this.end(code, reason);
  }

  /** Asks the peer for STUs by id range (data STUs too) and stores them. Resolves with what arrived. */
  async fetch(type: number, origin: Guid, from: number, to: number, data: boolean, onProgress?: (s: TransferStats) => void): Promise<TransferStats & { expected: number }> {
    if (this.state !== 'live') throw err('CLOSED', 'session is not live');
    const peer = this.peer!;
    const exp = this.receiver.expect({
      rate: this.opts.receiveRate,
      onStu: (bytes) => this.received(bytes, peer),
      onProgress,
    });
    let expected: number;
    try {
      const reply = await this.conn.request(Method.GetSTU, {
        attrs: { type: typeAttr(type), origin, from: String(from), to: String(to), data: data ? '1' : '0', ...ticketAttrs(exp.ticket) },
      });
      expected = intParam(reply.attrs, 'count');
    } catch (e) {
      exp.cancel('request failed');
      throw e;
    }
    if (expected === 0) {
      exp.cancel('nothing to send');
      return { stus: 0, bytes: 0, ms: 0, expected };
    }
    const got = await exp.done;
    await this.settled();
    return { ...got, expected };
  }

  // ------------------------------------------------------------------------------------------ admission

  private async sayHello(): Promise<void> {
    const me = this.store.guid;
    const attrs: Record<string, string> = { server: me, role: this.opts.role, version: PROTOCOL_VERSION };
    if (this.opts.key) attrs.proof = await this.opts.key.prove(this.opts.role, me, this.opts.fingerprints.local, this.opts.fingerprints.remote);
    if (this.state === 'closed') return;
    try {
      await this.conn.request(Method.Hello, { attrs }, undefined, { timeoutMs: this.opts.helloTimeoutMs ?? 10_000 });
      this.helloDone.mine = true;
      this.maybeAdmitted();
    } catch (e) {
      const refused = isStxError(e, 'REMOTE_ERROR') && e.remoteCode === 'REFUSED';
      this.fail(refused ? 'refused' : 'lost', `our Hello was not accepted: ${(e as Error).message}`);
    }
  }

  private async onHello(m: Message): Promise<ReplyInit | void> {
    if (this.peer) throw err('BAD_PARAM', 'Hello twice');
    const server = guidParam(m.attrs, 'server');
    const role = m.attrs.role;
    if (role !== 'server' && role !== 'viewer') throw err('BAD_PARAM', 'role: server or viewer');
    if (m.attrs.version !== PROTOCOL_VERSION) return this.refuse(`protocol version ${m.attrs.version ?? '?'} (we speak ${PROTOCOL_VERSION})`);
    if (server === this.store.guid) return this.refuse('that is our own GUID');
    if (role === 'viewer') {
      if (this.opts.role === 'viewer') return this.refuse('two viewers have nothing to say to each other');
      if (this.opts.acceptViewers === false) return this.refuse('this server does not accept viewers');
    } else if (this.opts.key) {
      const proof = m.attrs.proof ?? '';
      const good = await this.opts.key.verify(proof, role, server, this.opts.fingerprints.remote, this.opts.fingerprints.local);
      if (!good) return this.refuse('cluster key proof does not match');
    }
    // a viewer cannot check a server's proof: it trusts the server it chose to connect to
    this.peer = server;
    this.peerRole = role;
    this.helloDone.theirs = true;
    queueMicrotask(() => this.maybeAdmitted());
  }

  private refuse(reason: string): never {
    this.log.warn('peer refused', { reason });
    this.endCode = 'refused'; // however the link goes down now, this is why
    // the error Reply goes out first, then the link closes
    setTimeout(() => this.fail('refused', reason), 50);
    throw err('REFUSED', reason);
  }

  private maybeAdmitted(): void {
    if (this.state !== 'admitting' || !this.helloDone.mine || !this.helloDone.theirs) return;
    this.state = 'live';
    this.log.info('peer admitted', { peer: this.peer, role: this.peerRole, initiator: this.initiator });
    this.events.admitted.emit();
    if (this.wantsStus()) {
      void this.register();
      const every = this.opts.syncIntervalMs ?? 10_000;
      if (every > 0) this.syncTimer = setInterval(() => void this.register(), every);
    }
  }

  /** A server wants what a server peer holds; a viewer wants what its server holds; a server wants nothing from a viewer. */
  private wantsStus(): boolean {
    return this.peerRole === 'server';
  }

  /** The peer's messages are handled once its Hello checked out (its Register may overtake our Hello's Ack). */
  private guard(m: Message, fn: () => ReplyInit | void | Promise<ReplyInit | void>): ReplyInit | void | Promise<ReplyInit | void> {
    if (!this.helloDone.theirs || this.state === 'closed') throw err('BAD_PARAM', `${m.method} before admission`);
    return fn();
  }

  // ------------------------------------------------------------------------------------------ Register

  /** Sends our vector and a ticket; the peer streams what we lack over it. */
  private async register(): Promise<void> {
    if (this.registering || this.state !== 'live') return;
    this.registering = true;
    const peer = this.peer!;
    const t0 = performance.now();
    const progress: CatchUp = { direction: 'in', expected: 0, stus: 0, bytes: 0, done: false, ms: 0 };
    const exp = this.receiver.expect({
      rate: this.opts.receiveRate,
      onStu: (bytes) => this.received(bytes, peer),
      onProgress: (s) => {
        progress.stus = s.stus;
        progress.bytes = s.bytes;
        progress.ms = performance.now() - t0;
        this.events.progress.emit(progress);
      },
    });
    try {
      this.stats.registers++;
      const info = this.opts.info();
      const reply = await this.conn.request(Method.Register, { attrs: { ...infoAttrs(this.opts.role, info), ...ticketAttrs(exp.ticket) } }, encodeVector(this.store.held.vector()));
      progress.expected = intParam(reply.attrs, 'count');
      if (progress.expected === 0) exp.cancel('nothing to send');
      else {
        this.lastIn = progress;
        this.events.progress.emit(progress);
        await exp.done;
        await this.settled();
      }
      progress.done = true;
      progress.ms = performance.now() - t0;
      if (progress.expected > 0) {
        this.events.progress.emit(progress);
        this.log.info('caught up', { peer, stus: progress.stus, bytes: progress.bytes, ms: Math.round(progress.ms) });
      }
    } catch (e) {
      exp.cancel('register failed');
      if (this.state === 'live') this.log.info('register round failed; the next one retries', { peer, error: (e as Error).message });
    } finally {
      this.registering = false;
    }
  }

  private onRegister(m: Message): ReplyInit {
    if (this.peerRole === 'server' && this.opts.role === 'viewer') throw err('BAD_PARAM', 'a viewer sends no STUs');
    const vector = decodeVector(m.body);
    const ticket = ticketParam(m.attrs);
    this.peerInfo = infoParam(m.attrs);
    this.peerVector = vector;
    for (const e of vector) this.peerHas.raise(e.type, e.origin, e.upTo);
    // what it lacks; a new Register supersedes a catch-up still running
    this.outgoing?.abort();
    let locs = this.store.held.missingFrom(vector);
    // a viewer's vector stops below what it may not read: what this session already sent or withheld is
    // not sent again (docs/API.md, "Viewers")
    if (this.peerRole === 'viewer' && !this.relayDropped) {
      locs = locs.filter((l) => {
        const id = this.store.held.metaIdAt(l);
        return id === undefined || !this.peerHas.has(id);
      });
    }
    this.relayDropped = false;
    if (locs.length > 0) void this.sendLocs(locs, ticket, 'out');
    return { attrs: { count: String(locs.length) } };
  }

  private async sendLocs(locs: Loc[], ticket: TransferTicket, direction: 'out'): Promise<void> {
    const ac = new AbortController();
    this.outgoing = ac;
    const t0 = performance.now();
    const progress: CatchUp = { direction, expected: locs.length, stus: 0, bytes: 0, done: false, ms: 0 };
    this.lastOut = progress;
    const store = this.store;
    const peerHas = this.peerHas;
    const hidden = (h: StuHeader) => this.hidden(h);
    async function* stus(): AsyncGenerator<Uint8Array> {
      for await (const bytes of readAhead(store, locs)) {
        const h = decodeHeader(bytes);
        if (h.ok) peerHas.add(h.value);
        if (h.ok && hidden(h.value)) continue;
        yield bytes;
      }
    }
    try {
      const s = await sendStus(this.link, ticket, stus(), {
        signal: ac.signal,
        onProgress: (s) => {
          progress.stus = s.stus;
          progress.bytes = s.bytes;
          progress.ms = performance.now() - t0;
          this.events.progress.emit(progress);
        },
      });
      this.stats.stusOut += s.stus;
      this.stats.bytesOut += s.bytes;
      progress.done = true;
      this.events.progress.emit(progress);
    } catch (e) {
      if (!ac.signal.aborted) this.log.info('catch-up transfer failed', { peer: this.peer, error: (e as Error).message });
    } finally {
      if (this.outgoing === ac) this.outgoing = undefined;
    }
  }

  // ------------------------------------------------------------------------------------------ live updates

  /**
   * Stores an STU from the peer. Up to MAX_PUTS stores run at once (the ring commits them as one write), so
   * this resolves as soon as there is room; settled() waits for all of them. An invalid STU throws here (it
   * is checked before it is queued), which aborts the transfer it came in.
   */
  private async received(bytes: Uint8Array, peer: Guid): Promise<void> {
    const h = decodeHeader(bytes);
    if (!h.ok) throw err('BAD_PARAM', `not a valid STU: ${h.error.message}`);
    this.peerHas.add(h.value);
    this.stats.stusIn++;
    this.stats.bytesIn += bytes.length;
    while (this.puts.size >= MAX_PUTS) await Promise.race(this.puts);
    const p: Promise<void> = this.store.put(bytes, peer).then(
      (r) => {
        if (r === 'duplicate') this.stats.duplicatesIn++;
      },
      (e: unknown) => {
        this.stats.badStus++;
        // the code lets a page tell a full browser storage (QUOTA) from the rest
        this.log.warn('STU from peer not stored', { peer, error: (e as Error).message, code: (e as { code?: unknown }).code });
      },
    );
    this.puts.add(p);
    void p.finally(() => this.puts.delete(p));
  }

  /** Waits until every STU received so far is stored. */
  private async settled(): Promise<void> {
    while (this.puts.size > 0) await Promise.all(this.puts);
  }

  private async onUpdate(m: Message): Promise<void> {
    if (this.peerRole !== 'server') throw err('BAD_PARAM', 'a viewer may not write STUs');
    if (m.body.length === 0) return this.onAnnounce(m);
    await this.received(m.body, this.peer!);
    await this.settled();
    this.scheduleGaps();
  }

  /** An STU too large for a signaling message: fetch it unless held. */
  private async onAnnounce(m: Message): Promise<void> {
    const type = typeParam(m.attrs);
    const origin = guidParam(m.attrs, 'origin');
    const seq = intParam(m.attrs, 'seq');
    const data = m.attrs.data === '1';
    const flags = data ? 1 : 0;
    this.peerHas.add({ type, origin, seq, flags });
    if (this.store.held.has({ type, origin, seq, flags })) return;
    this.stats.gapRequests++;
    await this.fetch(type, origin, seq, seq, data);
  }

  private scheduleGaps(): void {
    if (this.gapTimer || this.state !== 'live') return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      void this.fillGaps();
    }, this.opts.gapDelayMs ?? 250);
  }

  private async fillGaps(): Promise<void> {
    for (const g of this.store.held.gaps()) {
      if (this.state !== 'live') return;
      this.stats.gapRequests++;
      try {
        await this.fetch(g.type, g.origin, g.from, g.to, false);
      } catch (e) {
        this.log.info('gap request failed; the next Register repairs it', { peer: this.peer, error: (e as Error).message });
      }
    }
  }

  private onGet(m: Message): ReplyInit {
    const type = typeParam(m.attrs);
    const origin = guidParam(m.attrs, 'origin');
    const from = intParam(m.attrs, 'from');
    const to = intParam(m.attrs, 'to');
    if (to < from) throw err('BAD_PARAM', `range ${from}..${to} is empty`);
    const data = m.attrs.data === '1';
    const ticket = ticketParam(m.attrs);
    const hits = this.store.held.range(type, origin, from, to, data);
    if (hits.length > 0) void this.sendRange(hits.map((h) => h.loc), ticket);
    return { attrs: { count: String(hits.length) } };
  }

  private async sendRange(locs: Loc[], ticket: TransferTicket): Promise<void> {
    try {
      if (this.peerRole === 'viewer' && this.opts.shareWithViewer) {
        // a viewer gets by id only what it may read (metadata and frames alike)
        const hidden = (h: StuHeader) => this.hidden(h);
        const store = this.store;
        const visible = async function* () {
          for await (const bytes of readAhead(store, locs)) {
            const h = decodeHeader(bytes);
            if (h.ok && !hidden(h.value)) yield bytes;
          }
        };
        const s = await sendStus(this.link, ticket, visible());
        this.stats.stusOut += s.stus;
        this.stats.bytesOut += s.bytes;
        return;
      }
      await this.sendLocsTo(ticket, locs);
    } catch (e) {
      this.log.info('GetSTU transfer failed', { peer: this.peer, error: (e as Error).message });
    }
  }

  /** Sends the STUs at `locs` (skipping any evicted since) over a transfer opened with the peer's ticket. */
  async sendLocsTo(ticket: TransferTicket, locs: Loc[], signal?: AbortSignal): Promise<TransferStats> {
    const s = await sendStus(this.link, ticket, readAhead(this.store, locs), { signal });
    this.stats.stusOut += s.stus;
    this.stats.bytesOut += s.bytes;
    return s;
  }

  /** A ticket for byte strings (not STUs: segments, files) the peer is about to send, handed to onItem. */
  expect(onItem: (bytes: Uint8Array) => void | Promise<void>, rate?: number): { ticket: TransferTicket; done: Promise<TransferStats>; cancel(reason: string): void } {
    if (this.state === 'closed') throw err('CLOSED', 'session closed');
    return this.receiver.expect({ rate, onStu: onItem });
  }

  /** Sends byte strings over a transfer opened with the peer's ticket. */
  async sendItems(ticket: TransferTicket, items: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<TransferStats> {
    const s = await sendStus(this.link, ticket, items, { signal });
    this.stats.bytesOut += s.bytes;
    return s;
  }

  /** A ticket for STUs the peer is about to send; `done` resolves once every one of them is stored. */
  receive(rate?: number): { ticket: TransferTicket; done: Promise<TransferStats>; cancel(reason: string): void } {
    if (this.state === 'closed') throw err('CLOSED', 'session closed');
    const peer = this.peer!;
    const exp = this.receiver.expect({ rate, onStu: (bytes) => this.received(bytes, peer) });
    const done = exp.done.then(async (s) => {
      await this.settled();
      return s;
    });
    done.catch(() => undefined);
    return { ticket: exp.ticket, done, cancel: (reason) => exp.cancel(reason) };
  }

  /** Offers an STU stored here to the peer: metadata only, and only what the peer is not known to hold. */
  offer(header: StuHeader, bytes: Uint8Array): void {
    if (this.state !== 'live' || this.opts.role === 'viewer' || isData(header) || this.peerHas.has(header)) return;
    this.peerHas.add(header);
    if (this.hidden(header)) return;
    this.relay(bytes);
  }

  /** Is this STU one the peer (a viewer) may not be given? */
  private hidden(header: StuHeader): boolean {
    return this.peerRole === 'viewer' && this.opts.shareWithViewer !== undefined && !this.opts.shareWithViewer(header);
  }

  /**
   * Gives a viewer an STU it was not given before (an ACL change opened its object): sent whether or not
   * the peer is known to hold it. Servers ignore it (they get everything anyway).
   */
  share(bytes: Uint8Array): void {
    if (this.state !== 'live' || this.peerRole !== 'viewer') return;
    this.relay(bytes);
  }

  private relay(bytes: Uint8Array): void {
    if (this.relayBytes + bytes.length > (this.opts.maxRelayBytes ?? 8 * 1024 * 1024)) {
      // the peer is far behind: drop the queue, a Register round catches it up over a data channel (and a
      // viewer's round sends again what this session thought it had sent)
      this.relayDropped = true;
      this.relayQueue.length = 0;
      this.relayBytes = 0;
      this.stats.resyncs++;
      return;
    }
    this.relayQueue.push(bytes);
    this.relayBytes += bytes.length;
    if (!this.relayRunning) void this.pumpRelay();
  }

  private async pumpRelay(): Promise<void> {
    this.relayRunning = true;
    try {
      while (this.relayQueue.length > 0 && this.state === 'live') {
        const bytes = this.relayQueue.shift()!;
        this.relayBytes -= bytes.length;
        let writable: boolean;
        if (bytes.length + 2048 > this.conn.channel.maxMessageSize) {
          const h = decodeHeader(bytes);
          if (!h.ok) continue;
          writable = this.conn.send(Method.UpdateSTU, { attrs: { type: typeAttr(h.value.type), origin: h.value.origin, seq: String(h.value.seq) } });
          this.stats.announced++;
        } else {
          writable = this.conn.send(Method.UpdateSTU, {}, bytes);
          this.stats.relayed++;
        }
        if (!writable) await this.conn.drain();
      }
    } catch (e) {
      if (this.state === 'live') this.log.info('relay stopped', { peer: this.peer, error: (e as Error).message });
    } finally {
      this.relayRunning = false;
    }
  }

  // ------------------------------------------------------------------------------------------ ending

  private fail(code: EndCode, reason: string): void {
    this.end(code, reason);
  }

  private end(code: EndCode, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.endCode = code;
    this.endReason = reason;
    for (const t of this.timers) clearTimeout(t);
    clearInterval(this.syncTimer);
    clearTimeout(this.gapTimer);
    this.offStored();
    this.outgoing?.abort();
    this.receiver.close();
    this.relayQueue.length = 0;
    this.conn.close(reason);
    this.link.close(reason);
    this.log.info('peer session ended', { peer: this.peer, code, reason });
    this.events.closed.emit({ code, reason });
  }
}

/** The STUs at `locs`, in order, read READ_AHEAD at a time; ones gone since (evicted) are skipped. */
async function* readAhead(store: SyncStore, locs: Loc[]): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < locs.length; i += READ_AHEAD) {
    const batch = await store.readMany(locs.slice(i, i + READ_AHEAD));
    for (const b of batch) if (b) yield b;
  }
}

function infoAttrs(role: Role, info: ServerInfo): Record<string, string> {
  const a: Record<string, string> = { role, version: info.version, apps: info.apps.join(' ') };
  if (info.cores !== undefined) a.cores = String(info.cores);
  if (info.memoryBytes !== undefined) a.memory = String(info.memoryBytes);
  if (info.metaCapacity !== undefined) a.metaCapacity = String(info.metaCapacity);
  if (info.dataCapacity !== undefined) a.dataCapacity = String(info.dataCapacity);
  if (info.url !== undefined) a.url = info.url;
  if (info.load !== undefined) a.load = String(info.load);
  return a;
}

function infoParam(attrs: Record<string, string>): ServerInfo {
  const n = (name: string) => (attrs[name] === undefined ? undefined : intParam(attrs, name));
  const url = attrs.url;
  return {
    version: (attrs.version ?? '').slice(0, 64),
    apps: (attrs.apps ?? '').split(' ').filter(Boolean).slice(0, 32),
    cores: n('cores'),
    memoryBytes: n('memory'),
    metaCapacity: n('metaCapacity'),
    dataCapacity: n('dataCapacity'),
    url: url && url.length <= 256 && /^https?:\/\//.test(url) ? url : undefined,
    load: n('load'),
  };
}
