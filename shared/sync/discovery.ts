// Data discovery: finding the frames of a media stream that this server lacks on the servers of its group,
// and having every holder send its part (docs/PROTOCOL.md, "Data discovery"). The seed's message flow,
// by sample number rather than time (every server numbers a stream's samples the same way at ingest):
//   requester R ── DownloadMedia(rid, media, stream, ranges) ──▶ every server peer
//   each holder ── AvailableMedia(rid, the ranges it holds) ──▶ group leader (lowest GUID of the group)
//   a server that wants the same media ── DownloadMedia(rid, mirror=1) ──▶ leader: one more receiver
//   leader: after every peer answered (or answerWindowMs), splits what is needed among the holders
//     (a range held by k servers is cut in k parts, so several sources feed one receiver at once) and sends
//     SendMedia(rid, range, receivers) to each source, or NoMedia(rid, missing ranges) to the receivers
//   source ── ReservePath(rid, range, count, bytes) ──▶ each receiver, which answers with a transfer
//     ticket (stream id, auth key) if it has room, and the source streams the frame STUs over a data
//     channel (shared/stx/transfer.ts). Received STUs are stored and indexed like any other.
// Group = this server and its live server peers (a full mesh here); routing through servers that do not
// consume the data is not done: a source sends only to receivers it has a session with.
import { silentLogger, type Logger } from '../log.ts';
import type { Loc } from '../ring/types.ts';
import type { Guid } from '../stu/index.ts';
import { err, StxError } from '../stx/errors.ts';
import type { Message, StxNode } from '../stx/message.ts';
import type { ReplyInit } from '../stx/connection.ts';
import type { SyncHub } from './hub.ts';
import type { PeerSession } from './session.ts';
import { guidParam, intParam, ticketAttrs, ticketParam } from './wire.ts';

export interface Range {
  from: number;
  to: number;
}

/** What a server holds of a media (the time index). */
export interface MediaHolder {
  heldRanges(media: Guid, stream: number, from: number, to: number): Range[];
  samples(media: Guid, stream: number, from: number, to: number): { loc: Loc; size: number }[];
}

export interface DiscoveryOptions {
  hub: SyncHub;
  holder: MediaHolder;
  /** Does this server want to hold this media (a mirror)? Default: no. */
  wants?: (media: Guid) => boolean;
  /** Every stream's whole sample range, from the media's metadata (what a push copies). */
  wholeMedia?: (media: Guid) => { stream: number; ranges: Range[] }[];
  /** The leader waits this long for AvailableMedia answers before it assigns. Default 300 ms. */
  answerWindowMs?: number;
  /** Transfers this server accepts at once (ReservePath beyond is refused BUSY). Default 16. */
  maxIncoming?: number;
  log?: Logger;
}

export class NoMediaError extends Error {
  readonly code = 'NO_MEDIA';
  constructor(
    message: string,
    readonly missing: Range[],
  ) {
    super(message);
    this.name = 'NoMediaError';
  }
}

interface Want {
  media: Guid;
  stream: number;
  ranges: Range[];
  resolve: () => void;
  reject: (e: Error) => void;
  sources: Set<Guid>;
}

interface LeaderJob {
  rid: string;
  media: Guid;
  stream: number;
  ranges: Range[];
  receivers: Set<Guid>;
  answers: Map<Guid, Range[]>;
  expected: Set<Guid>;
  timer: ReturnType<typeof setTimeout>;
}

const MAX_RANGES = 64;

export class Discovery {
  readonly stats = { requested: 0, answered: 0, assigned: 0, sentStus: 0, receivedStus: 0, refused: 0, noMedia: 0 };
  private readonly hub: SyncHub;
  private readonly holder: MediaHolder;
  private readonly log: Logger;
  private readonly wanting = new Map<string, Want>();
  private readonly jobs = new Map<string, LeaderJob>();
  private readonly pushed = new Set<Guid>();
  private incoming = 0;
  private seq = 0;

  constructor(private readonly opts: DiscoveryOptions) {
    this.hub = opts.hub;
    this.holder = opts.holder;
    this.log = opts.log ?? silentLogger;
    this.hub.handle('DownloadMedia', (_from, m) => this.onDownload(m));
    this.hub.handle('AvailableMedia', (from, m) => this.onAvailable(from, m));
    this.hub.handle('SendMedia', (from, m) => this.onSend(from, m));
    this.hub.handle('ReservePath', (from, m) => this.onReserve(from, m));
    this.hub.handle('NoMedia', (_from, m) => this.onNoMedia(m));
    this.hub.handle('PushMedia', (_from, m) => this.onPush(m));
  }

  /**
   * Gets the frames of `ranges` (sample numbers, [from, to)) of a stream from the group. Resolves when they
   * are all held here; rejects with NoMediaError when no server holds some of them, or when `signal` fires.
   */
  download(media: Guid, stream: number, ranges: Range[], signal?: AbortSignal): Promise<void> {
    const need = this.missing(media, stream, ranges);
    if (need.length === 0) return Promise.resolve();
    if (this.hub.servers().length === 0) return Promise.reject(new NoMediaError(`no server peer to ask for ${media} stream ${stream}`, need));
    const rid = `${this.hub.guid}.${++this.seq}`;
    this.stats.requested++;
    return new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        this.wanting.delete(rid);
        signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve();
      };
      const onAbort = () => done(new NoMediaError(`frames of ${media} stream ${stream} did not arrive in time`, this.missing(media, stream, need)));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wanting.set(rid, { media, stream, ranges: need, resolve: () => done(), reject: (e) => done(e), sources: new Set() });
      const msg = { attrs: { rid, requester: this.hub.guid, media, stream: String(stream), mirror: '0' }, children: rangeNodes(need) };
      if (this.hub.leader() === this.hub.guid) this.lead(rid, media, stream, need, this.hub.guid);
      for (const s of this.hub.servers()) this.sendTo(s, 'DownloadMedia', msg);
    });
  }

  /** Asks every server of the group to hold a copy of this media (each downloads what it lacks). */
  push(media: Guid): void {
    for (const s of this.hub.servers()) this.sendTo(s, 'PushMedia', { attrs: { media } });
  }

  /** Media this server was asked to hold by a push. */
  isPushed(media: Guid): boolean {
    return this.pushed.has(media);
  }

  // ------------------------------------------------------------------------------------------ every server

  private onDownload(m: Message): void {
    const rid = ridParam(m);
    const requester = guidParam(m.attrs, 'requester');
    const media = guidParam(m.attrs, 'media');
    const stream = intParam(m.attrs, 'stream', 255);
    const ranges = rangesParam(m);
    const mirror = m.attrs.mirror === '1';
    const leader = this.hub.leader();
    if (leader === this.hub.guid) {
      if (mirror) this.jobs.get(rid)?.receivers.add(requester);
      else this.lead(rid, media, stream, ranges, requester);
    }
    if (mirror) return;
    // a mirror that lacks it asks to receive the same data (before it answers, so the leader counts it)
    if ((this.opts.wants?.(media) || this.pushed.has(media)) && this.missing(media, stream, ranges).length > 0) {
      if (leader === this.hub.guid) this.jobs.get(rid)?.receivers.add(this.hub.guid);
      else {
        const to = this.hub.session(leader);
        if (to) this.sendTo(to, 'DownloadMedia', { attrs: { rid, requester: this.hub.guid, media, stream: String(stream), mirror: '1' }, children: rangeNodes(ranges) });
      }
    }
    // what we hold goes to the leader (which may be us)
    const held = ranges.flatMap((r) => this.holder.heldRanges(media, stream, r.from, r.to)).slice(0, MAX_RANGES);
    this.stats.answered++;
    if (leader === this.hub.guid) this.answer(rid, this.hub.guid, held);
    else {
      const to = this.hub.session(leader);
      if (to) this.sendTo(to, 'AvailableMedia', { attrs: { rid, media, stream: String(stream) }, children: rangeNodes(held) });
    }
  }

  private onPush(m: Message): void {
    const media = guidParam(m.attrs, 'media');
    if (this.pushed.has(media)) return;
    this.pushed.add(media);
    this.log.info('asked to hold a copy', { media });
    for (const { stream, ranges } of this.opts.wholeMedia?.(media) ?? []) {
      this.download(media, stream, ranges).catch((e: unknown) => this.log.warn('pushed media not copied', { media, stream, error: (e as Error).message }));
    }
  }

  private onNoMedia(m: Message): void {
    this.noMedia(ridParam(m), rangesParam(m));
  }

  private noMedia(rid: string, missing: Range[]): void {
    const w = this.wanting.get(rid);
    if (!w) return;
    this.stats.noMedia++;
    w.reject(new NoMediaError(`no server holds samples ${missing.map((r) => `${r.from}-${r.to - 1}`).join(', ')} of ${w.media} stream ${w.stream}`, missing));
  }

  // ------------------------------------------------------------------------------------------ the leader

  private lead(rid: string, media: Guid, stream: number, ranges: Range[], requester: Guid): void {
    if (this.jobs.has(rid)) return;
    const expected = new Set(this.hub.servers().map((s) => s.peer!).filter((g) => g !== requester));
    const job: LeaderJob = {
      rid,
      media,
      stream,
      ranges,
      receivers: new Set([requester]),
      answers: new Map(),
      expected,
      timer: setTimeout(() => this.assign(job), this.opts.answerWindowMs ?? 300),
    };
    this.jobs.set(rid, job);
    if (requester !== this.hub.guid) this.answer(rid, this.hub.guid, ranges.flatMap((r) => this.holder.heldRanges(media, stream, r.from, r.to)));
    else this.maybeAssign(job);
  }

  private onAvailable(from: PeerSession, m: Message): void {
    this.answer(ridParam(m), from.peer!, rangesParam(m));
  }

  private answer(rid: string, server: Guid, held: Range[]): void {
    const job = this.jobs.get(rid);
    if (!job) return;
    job.answers.set(server, held);
    this.maybeAssign(job);
  }

  private maybeAssign(job: LeaderJob): void {
    for (const g of job.expected) if (!job.answers.has(g)) return;
    this.assign(job);
  }

  private assign(job: LeaderJob): void {
    if (!this.jobs.has(job.rid)) return;
    this.jobs.delete(job.rid);
    clearTimeout(job.timer);
    const { parts, missing } = split(job.ranges, job.answers);
    this.stats.assigned += parts.length;
    const receivers = [...job.receivers];
    for (const p of parts) {
      const msg = { attrs: { rid: job.rid, media: job.media, stream: String(job.stream), from: String(p.from), to: String(p.to) }, children: receivers.map((id) => ({ name: 'to', attrs: { id } })) };
      if (p.source === this.hub.guid) void this.send(job.rid, job.media, job.stream, p, receivers);
      else {
        const s = this.hub.session(p.source);
        if (s) void s.conn.request('SendMedia', msg).catch((e: unknown) => this.log.info('SendMedia failed', { to: p.source, error: (e as Error).message }));
      }
    }
    if (missing.length > 0) {
      this.log.info('media not held by any server', { media: job.media, stream: job.stream, missing });
      for (const r of receivers) {
        if (r === this.hub.guid) this.noMedia(job.rid, missing);
        else {
          const s = this.hub.session(r);
          if (s) this.sendTo(s, 'NoMedia', { attrs: { rid: job.rid }, children: rangeNodes(missing) });
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------ sources

  private onSend(_from: PeerSession, m: Message): void {
    const rid = ridParam(m);
    const media = guidParam(m.attrs, 'media');
    const stream = intParam(m.attrs, 'stream', 255);
    const r = { from: intParam(m.attrs, 'from'), to: intParam(m.attrs, 'to') };
    const receivers = m.children
      .filter((c) => c.name === 'to')
      .slice(0, 64)
      .map((c) => guidParam(c.attrs, 'id'));
    void this.send(rid, media, stream, r, receivers);
  }

  /** Streams our frames of `r` to each receiver, after it reserved the path and gave a ticket. */
  private async send(rid: string, media: Guid, stream: number, r: Range, receivers: Guid[]): Promise<void> {
    const frames = this.holder.samples(media, stream, r.from, r.to);
    if (frames.length === 0) return;
    const bytes = frames.reduce((n, f) => n + f.size, 0);
    await Promise.all(
      receivers.map(async (to) => {
        if (to === this.hub.guid) return; // we hold it already
        const s = this.hub.session(to);
        if (!s) return this.log.info('no session with a receiver; routing is not done', { to });
        try {
          const reply = await s.conn.request('ReservePath', { attrs: { rid, media, stream: String(stream), from: String(r.from), to: String(r.to), count: String(frames.length), bytes: String(bytes) } });
          const got = await s.sendLocsTo(ticketParam(reply.attrs), frames.map((f) => f.loc));
          this.stats.sentStus += got.stus;
        } catch (e) {
          this.log.info('sending media failed', { rid, to, error: (e as Error).message });
        }
      }),
    );
  }

  // ------------------------------------------------------------------------------------------ receivers

  private async onReserve(from: PeerSession, m: Message): Promise<ReplyInit> {
    const rid = ridParam(m);
    const media = guidParam(m.attrs, 'media');
    const want = this.wanting.get(rid);
    if (!want && !(this.opts.wants?.(media) || this.pushed.has(media))) {
      this.stats.refused++;
      throw err('REFUSED', `not expecting ${media}`);
    }
    if (this.incoming >= (this.opts.maxIncoming ?? 16)) {
      this.stats.refused++;
      throw new StxError('BUSY', `${this.incoming} transfers coming in already`);
    }
    this.incoming++;
    const t = from.receive();
    want?.sources.add(from.peer!);
    void t.done
      .then((s) => {
        this.stats.receivedStus += s.stus;
        this.check();
      })
      .catch((e: unknown) => this.log.info('media transfer failed', { rid, from: from.peer, error: (e as Error).message }))
      .finally(() => this.incoming--);
    return { attrs: ticketAttrs(t.ticket) };
  }

  /** Resolves every download whose frames are all here now. */
  private check(): void {
    for (const w of this.wanting.values()) if (this.missing(w.media, w.stream, w.ranges).length === 0) w.resolve();
  }

  private missing(media: Guid, stream: number, ranges: Range[]): Range[] {
    const out: Range[] = [];
    for (const r of ranges) {
      let at = r.from;
      for (const h of this.holder.heldRanges(media, stream, r.from, r.to)) {
        if (h.from > at) out.push({ from: at, to: h.from });
        at = Math.max(at, h.to);
      }
      if (at < r.to) out.push({ from: at, to: r.to });
    }
    return out;
  }

  private sendTo(s: PeerSession, method: string, msg: { attrs: Record<string, string>; children?: StxNode[] }): void {
    try {
      s.conn.send(method, msg);
    } catch (e) {
      this.log.info('discovery message not sent', { method, to: s.peer, error: (e as Error).message });
    }
  }
}

/**
 * Splits the needed ranges among the servers that answered: each stretch held by k servers is cut into
 * k consecutive parts, one per holder (several sources at once); stretches nobody holds are missing.
 */
export function split(needed: Range[], answers: Map<Guid, Range[]>): { parts: (Range & { source: Guid })[]; missing: Range[] } {
  const points = new Set<number>();
  for (const r of needed) points.add(r.from).add(r.to);
  for (const rs of answers.values()) for (const r of rs) points.add(r.from).add(r.to);
  const sorted = [...points].sort((a, b) => a - b);
  const parts: (Range & { source: Guid })[] = [];
  const missing: Range[] = [];
  const servers = [...answers.keys()].sort();
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [a, b] = [sorted[i], sorted[i + 1]];
    if (!needed.some((r) => r.from <= a && b <= r.to)) continue;
    const holders = servers.filter((g) => answers.get(g)!.some((r) => r.from <= a && b <= r.to));
    if (holders.length === 0) {
      const last = missing[missing.length - 1];
      if (last && last.to === a) last.to = b;
      else missing.push({ from: a, to: b });
      continue;
    }
    const k = Math.min(holders.length, b - a);
    for (let j = 0; j < k; j++) {
      const from = a + Math.floor(((b - a) * j) / k);
      const to = a + Math.floor(((b - a) * (j + 1)) / k);
      const last = parts[parts.length - 1];
      if (last && last.source === holders[j] && last.to === from) last.to = to;
      else parts.push({ from, to, source: holders[j] });
    }
  }
  return { parts, missing };
}

function ridParam(m: Message): string {
  const rid = m.attrs.rid;
  if (!rid || !/^[0-9a-f-]{36}\.\d{1,12}$/.test(rid)) throw err('BAD_PARAM', 'rid: GUID.N');
  return rid;
}

function rangesParam(m: Message): Range[] {
  const out: Range[] = [];
  for (const c of m.children.slice(0, MAX_RANGES)) {
    if (c.name !== 'range') continue;
    const r = { from: intParam(c.attrs, 'from'), to: intParam(c.attrs, 'to') };
    if (r.to <= r.from) throw err('BAD_PARAM', `range ${r.from}-${r.to} is empty`);
    out.push(r);
  }
  return out;
}

const rangeNodes = (rs: Range[]): StxNode[] => rs.slice(0, MAX_RANGES).map((r) => ({ name: 'range', attrs: { from: String(r.from), to: String(r.to) } }));
