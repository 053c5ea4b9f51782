// The sync hub: every peer session of one server (or viewer), how they start and how they come back.
// - join(url): POST an SDP offer to another server's /api/peer, keep the session up, reconnect with
//   backoff when it drops (not after REFUSED: a wrong cluster key does not get better by retrying).
// - answer(offer): the HTTP side of the same (node-peer/serve.ts); the link is attached once connected.
// - the mesh: a server tells its server peers who else it is connected to (Peers); for each server it is
//   not connected to, the side with the lower GUID sends Offer through the peer that knows it, which
//   forwards it, and the answer comes back the same way: no HTTP needed beyond the first join.
// - one session per peer: when two exist (both sides dialled), the one dialled by the lower GUID stays.
// - a viewer asks its server which servers it is connected to (Servers) and reaches more of them with
//   Offer through it (reachServers): a player then takes segments from several servers at once.
import { silentLogger, type Logger } from '../log.ts';
import type { Guid } from '../stu/index.ts';
import { err } from '../stx/errors.ts';
import type { ReplyInit } from '../stx/connection.ts';
import type { Message } from '../stx/message.ts';
import { Method } from '../stx/methods.ts';
import { type Channel, type PeerLink, SIGNALING_LABEL, SIGNALING_OPTIONS } from '../stx/transport.ts';
import { Emitter } from '../util/emitter.ts';
import { fingerprintText } from './admission.ts';
import { type CatchUp, type EndCode, PeerSession, type SessionOptions } from './session.ts';
import { guidParam } from './wire.ts';

/** A WebRTC link before it connects (werift, node-datachannel, the browser's RTCPeerConnection). */
export interface Dialable extends PeerLink {
  readonly backend?: string;
  readonly localFingerprint: { algorithm: string; value: string } | undefined;
  readonly remoteFingerprint: { algorithm: string; value: string } | undefined;
  createOffer(): Promise<string>;
  acceptOffer(sdp: string): Promise<string>;
  acceptAnswer(sdp: string): Promise<void>;
  connected(): Promise<void>;
}

/** A method handled by the hub's owner on every session (data discovery, the segment service). */
export type HubHandler = (from: PeerSession, m: Message) => ReplyInit | void | Promise<ReplyInit | void>;

export interface HubOptions extends Omit<SessionOptions, 'fingerprints'> {
  newLink(): Dialable;
  /** Connect to the servers our peers know (default true for a server). */
  mesh?: boolean;
  /** Links negotiated but not yet admitted, at most. Default 16. */
  maxPending?: number;
  /** Reconnect backoff: first delay and ceiling. Default 500 ms and 30 s. */
  backoffMs?: [number, number];
  /** How long a new link may take to open its signaling channel. Default 10 s. */
  channelTimeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export interface PeerReport {
  server: Guid | undefined;
  role: string | undefined;
  state: string;
  initiator: boolean;
  how: string;
  backend: string | undefined;
  connectedAt: string;
  inSync: boolean;
  peerBehind: number;
  weBehind: number;
  info: PeerSession['peerInfo'];
  stats: PeerSession['stats'];
  catchUp: { in?: CatchUp; out?: CatchUp };
}

interface Entry {
  session: PeerSession;
  how: string;
  backend: string | undefined;
}

export class SyncHub {
  readonly events = { progress: new Emitter<{ peer: Guid | undefined; p: CatchUp }>(), admitted: new Emitter<PeerSession>(), ended: new Emitter<PeerSession>() };
  private readonly entries = new Set<Entry>();
  private readonly handlers = new Map<string, { handler: HubHandler; viewers: boolean }>();
  private readonly dialing = new Set<Guid>();
  private readonly joins = new Map<string, { stop: boolean; timer?: ReturnType<typeof setTimeout> }>();
  private pending = 0;
  private closed = false;
  private readonly log: Logger;
  private meshTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly opts: HubOptions) {
    this.log = opts.log ?? silentLogger;
    if (this.mesh) this.meshTimer = setInterval(() => this.announcePeers(), opts.syncIntervalMs ?? 10_000);
  }

  get guid(): Guid {
    return this.opts.store.guid;
  }

  private get mesh(): boolean {
    return this.opts.role === 'server' && this.opts.mesh !== false;
  }

  /** Live, admitted sessions. */
  sessions(): PeerSession[] {
    return [...this.entries].map((e) => e.session).filter((s) => s.state === 'live');
  }

  session(peer: Guid): PeerSession | undefined {
    return this.sessions().find((s) => s.peer === peer);
  }

  peers(): PeerReport[] {
    return [...this.entries].map(({ session: s, how, backend }) => {
      const lag = s.lag();
      return {
        server: s.peer,
        role: s.peerRole,
        state: s.state,
        initiator: s.initiator,
        how,
        backend,
        connectedAt: new Date(s.connectedAt).toISOString(),
        inSync: s.state === 'live' && lag.peerBehind === 0 && lag.weBehind === 0,
        ...lag,
        info: s.peerInfo,
        stats: s.stats,
        catchUp: { in: s.lastIn, out: s.lastOut },
      };
    });
  }

  /** Answers an offer (from HTTP): the link is attached in the background once connected. */
  async answer(offer: string): Promise<string> {
    if (this.closed) throw err('CLOSED', 'shutting down');
    const link = this.takePending();
    let answer: string;
    try {
      answer = await link.acceptOffer(offer);
    } catch (e) {
      this.pending--;
      link.close('bad offer');
      throw e;
    }
    // subscribe for the signaling channel now: the peer may open it the moment the link is up
    const channel = this.signalingChannel(link);
    channel.catch(() => undefined);
    void link
      .connected()
      .then(() => this.attach(link, false, 'answered', channel))
      .catch((e: unknown) => this.log.info('incoming link did not come up', { error: (e as Error).message }))
      .finally(() => this.pending--);
    return answer;
  }

  /** Keeps a session with the server at `url` (POST url/api/peer), reconnecting with backoff until close(). */
  join(url: string): void {
    if (this.joins.has(url)) return;
    const state: { stop: boolean; timer?: ReturnType<typeof setTimeout> } = { stop: false };
    this.joins.set(url, state);
    const [first, ceiling] = this.opts.backoffMs ?? [500, 30_000];
    let delay = first;
    const attempt = async (): Promise<void> => {
      if (state.stop || this.closed) return;
      let s: PeerSession | undefined;
      try {
        s = await this.dialUrl(url);
        delay = first;
      } catch (e) {
        this.log.warn('could not reach peer', { url, error: (e as Error).message, retryMs: delay });
      }
      if (s) {
        const { code, reason } = await new Promise<{ code: EndCode; reason: string }>((r) => s.events.closed.on(r));
        if (code === 'refused') {
          this.log.error('peer refused us; not retrying (check --cluster-key)', { url, reason });
          return;
        }
        if (code === 'duplicate' || code === 'shutdown') return;
      }
      if (state.stop || this.closed) return;
      const jitter = delay * (0.8 + Math.random() * 0.4);
      delay = Math.min(ceiling, delay * 2);
      state.timer = setTimeout(() => void attempt(), jitter);
    };
    void attempt();
  }

  /** One attempt: offer over HTTP, attach, wait for admission. */
  async dialUrl(url: string): Promise<PeerSession> {
    const link = this.takePending();
    try {
      const offer = await link.createOffer();
      const res = await (this.opts.fetchImpl ?? fetch)(new URL('/api/peer', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sdp: offer, role: this.opts.role }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json().catch(() => ({}))) as { sdp?: unknown; error?: unknown };
      if (!res.ok || typeof body.sdp !== 'string') throw err('REFUSED', `POST ${url}/api/peer: ${res.status} ${typeof body.error === 'string' ? body.error : ''}`.trim());
      await link.acceptAnswer(body.sdp);
      await link.connected();
      const s = await this.attach(link, true, `joined ${url}`);
      await s.admitted();
      return s;
    } catch (e) {
      link.close('dial failed');
      throw e;
    } finally {
      this.pending--;
    }
  }

  /** Runs a session on a connected link: opens (initiator) or awaits the signaling channel. */
  async attach(link: Dialable, initiator: boolean, how: string, incoming?: Promise<Channel>): Promise<PeerSession> {
    const channel = initiator ? await link.openChannel(SIGNALING_LABEL, SIGNALING_OPTIONS) : await (incoming ?? this.signalingChannel(link));
    const session = new PeerSession(link, channel, initiator, {
      ...this.opts,
      fingerprints: { local: fingerprintText(link.localFingerprint), remote: fingerprintText(link.remoteFingerprint) },
    });
    session.conn.handle(Method.Peers, (m) => this.guarded(session, () => this.onPeers(session, m)));
    // a viewer may send Offer too, for a server we are connected to (we forward it; we answer only servers)
    session.conn.handle(Method.Offer, (m) => (session.peerRole === 'viewer' && this.opts.role === 'server' && m.attrs.to !== this.guid && session.state !== 'closed' ? this.onOffer(session, m) : this.guarded(session, () => this.onOffer(session, m))));
    session.conn.handle(Method.Servers, () => {
      if (session.state === 'closed' || session.peerRole === undefined || this.opts.role !== 'server') throw err('BAD_PARAM', 'Servers is answered by an admitted server');
      return { children: this.servers().map((s) => ({ name: 'peer', attrs: { id: s.peer! } })) };
    });
    for (const [method, h] of this.handlers) this.register(session, method, h);
    const entry: Entry = { session, how, backend: link.backend };
    this.entries.add(entry);
    session.events.progress.on((p) => this.events.progress.emit({ peer: session.peer, p }));
    session.events.admitted.on(() => this.admitted(entry));
    session.events.closed.on(() => {
      this.entries.delete(entry);
      this.events.ended.emit(session);
    });
    if (this.closed) session.close('shutdown', 'shutting down');
    return session;
  }

  /** Registers a method between admitted servers on every session, present and future (data discovery). */
  handle(method: string, handler: HubHandler, opts: { viewers?: boolean } = {}): void {
    const h = { handler, viewers: opts.viewers === true };
    this.handlers.set(method, h);
    for (const e of this.entries) this.register(e.session, method, h);
  }

  private register(s: PeerSession, method: string, h: { handler: HubHandler; viewers: boolean }): void {
    s.conn.handle(method, (m) => {
      if (h.viewers && s.peerRole === 'viewer' && s.state !== 'closed') return h.handler(s, m);
      return this.guarded(s, () => h.handler(s, m));
    });
  }

  /** Live sessions with servers. */
  servers(): PeerSession[] {
    return this.sessions().filter((s) => s.peerRole === 'server');
  }

  /** The group leader: the lowest GUID among this server and its live server peers. */
  leader(): Guid {
    return this.servers().reduce((min, s) => (s.peer! < min ? s.peer! : min), this.guid);
  }

  /** Asks a peer (or the first live server peer) for STUs by id range and stores them. */
  async fetch(type: number, origin: Guid, from: number, to: number, data: boolean, peer?: Guid, onProgress?: Parameters<PeerSession['fetch']>[5]) {
    const s = peer ? this.session(peer) : this.sessions().find((x) => x.peerRole === 'server');
    if (!s) throw err('CLOSED', peer ? `not connected to ${peer}` : 'no server peer connected');
    return s.fetch(type, origin, from, to, data, onProgress);
  }

  /**
   * Reaches more servers (a viewer): asks the first server session which servers it is connected to, and
   * dials those we have no session with through it (Offer, one hop), until `max` server sessions are live.
   * Resolves with the live server sessions; failures are logged and leave fewer.
   */
  async reachServers(max: number): Promise<PeerSession[]> {
    const via = this.servers()[0];
    if (!via || this.closed) return this.servers();
    const reply = await via.conn.request(Method.Servers, {});
    const ids = reply.children.slice(0, 1024).flatMap((c) => (c.name === 'peer' ? [guidParam(c.attrs, 'id')] : []));
    const wanted = ids.filter((id) => id !== this.guid && !this.session(id) && !this.dialing.has(id)).slice(0, Math.max(0, max - this.servers().length));
    await Promise.all(wanted.map((id) => this.dialVia(via, id)));
    return this.servers();
  }

  /** Unregisters from every peer and stops reconnecting. */
  async close(reason = 'shutdown'): Promise<void> {
    this.closed = true;
    clearInterval(this.meshTimer);
    for (const j of this.joins.values()) {
      j.stop = true;
      clearTimeout(j.timer);
    }
    await Promise.all([...this.entries].map((e) => e.session.unregister(reason)));
  }

  // ------------------------------------------------------------------------------------------ internals

  private takePending(): Dialable {
    if (this.pending >= (this.opts.maxPending ?? 16)) throw err('BUSY', `${this.pending} links are being negotiated already`);
    this.pending++;
    try {
      return this.opts.newLink();
    } catch (e) {
      this.pending--;
      throw e;
    }
  }

  private signalingChannel(link: PeerLink): Promise<Channel> {
    return new Promise<Channel>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        link.close('no signaling channel');
        reject(err('TIMEOUT', 'the peer opened no signaling channel'));
      }, this.opts.channelTimeoutMs ?? 10_000);
      const off = link.onChannel((c) => {
        if (c.label !== SIGNALING_LABEL) return;
        clearTimeout(timer);
        off();
        resolve(c);
      });
      link.onClose((reason) => {
        clearTimeout(timer);
        off();
        reject(err('CLOSED', reason));
      });
    });
  }

  private guarded<T>(s: PeerSession, fn: () => T): T {
    if (s.state === 'closed' || s.peerRole !== 'server' || this.opts.role !== 'server') throw err('BAD_PARAM', 'mesh messages are between admitted servers');
    return fn();
  }

  private admitted(entry: Entry): void {
    const s = entry.session;
    const twin = [...this.entries].find((e) => e !== entry && e.session.peer === s.peer && e.session.state === 'live');
    if (twin) {
      // keep the session dialled by the lower GUID; if both were dialled by the same side, the newer one
      const dialer = (x: PeerSession) => (x.initiator ? this.guid : x.peer!);
      const loser = dialer(twin.session) < dialer(s) ? entry : twin;
      loser.session.close('duplicate', 'another session with this peer exists');
      if (loser === entry) return;
    }
    this.events.admitted.emit(s);
    if (s.peerRole === 'server') this.announcePeers();
  }

  /** Tells every server peer which servers we are connected to. */
  private announcePeers(): void {
    if (!this.mesh) return;
    const servers = this.sessions().filter((s) => s.peerRole === 'server');
    for (const s of servers) {
      const others = servers.filter((o) => o !== s).map((o) => ({ name: 'peer', attrs: { id: o.peer! } }));
      if (others.length === 0) continue;
      try {
        s.conn.send(Method.Peers, { children: others });
      } catch {
        // closing
      }
    }
  }

  private onPeers(via: PeerSession, m: Message): void {
    if (!this.mesh) return;
    for (const c of m.children.slice(0, 1024)) {
      if (c.name !== 'peer') continue;
      const id = guidParam(c.attrs, 'id');
      if (id === this.guid || this.guid > id || this.session(id) || this.dialing.has(id)) continue;
      void this.dialVia(via, id);
    }
  }

  private async dialVia(via: PeerSession, target: Guid): Promise<void> {
    this.dialing.add(target);
    let link: Dialable | undefined;
    try {
      link = this.takePending();
      const offer = await link.createOffer();
      const reply = await via.conn.request(Method.Offer, { attrs: { from: this.guid, to: target } }, new TextEncoder().encode(offer));
      await link.acceptAnswer(new TextDecoder().decode(reply.body));
      await link.connected();
      await (await this.attach(link, true, `mesh via ${via.peer}`)).admitted();
      this.log.info('mesh link up', { peer: target, via: via.peer });
    } catch (e) {
      link?.close('mesh dial failed');
      this.log.info('mesh dial failed', { peer: target, via: via.peer, error: (e as Error).message });
    } finally {
      if (link) this.pending--;
      this.dialing.delete(target);
    }
  }

  /** An offer for us (answer it) or for a server we are connected to (forward it, one hop). */
  private async onOffer(from: PeerSession, m: Message): Promise<{ body: Uint8Array }> {
    const to = guidParam(m.attrs, 'to');
    guidParam(m.attrs, 'from');
    if (m.body.length > 64 * 1024) throw err('BAD_PARAM', 'offer larger than 64 KiB');
    if (to === this.guid) return { body: new TextEncoder().encode(await this.answer(new TextDecoder().decode(m.body))) };
    if (m.attrs.hop === '1') throw err('CLOSED', 'offers are forwarded one hop only');
    const next = this.session(to);
    if (!next || next.peerRole !== 'server') throw err('CLOSED', `not connected to ${to}`);
    const reply = await next.conn.request(Method.Offer, { attrs: { from: from.peer!, to, hop: '1' } }, m.body);
    return { body: reply.body.slice() };
  }
}
