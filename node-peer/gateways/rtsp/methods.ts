// The RTSP methods, one handler each (RFC 2326 §10): a handler reads the request and returns the reply, and
// maybe what to do once the reply is on the wire (PLAY starts sending then, never before).
import { randomInt } from 'node:crypto';
import { buildSdp } from '../../../shared/media/rtp/sdp.ts';
import { MediaUnavailableError } from '../../media/frames.ts';
import type { RtspRequest } from './parser.ts';
import { formatNpt, type HeaderList, parseRange, parseTransport, sessionId } from './headers.ts';
import { EmptyRangeError, Player } from './player.ts';
import { resolve, type Program } from './program.ts';
import { InterleavedSink, RtpSender, type Sink, UdpSink } from './rtp-out.ts';
import { RtspSession } from './session.ts';
import type { ServerContext } from './context.ts';

export interface Reply {
  status: number;
  headers?: HeaderList;
  body?: string;
  contentType?: string;
  session?: RtspSession;
  /** Runs once the reply has been written. */
  after?: () => void;
}

/** What a handler sees of the connection the request came on. */
export interface Caller {
  readonly remote: string;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly socket: import('node:net').Socket;
  readonly channels: Set<number>;
  /** Sessions made on this connection and still alive. */
  sessionCount(): number;
  adopt(session: RtspSession): void;
}

export type Handler = (ctx: ServerContext, caller: Caller, req: RtspRequest, url: URL | undefined) => Promise<Reply> | Reply;

export const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

const err = (status: number, body: string, session?: RtspSession): Reply => ({ status, body, session });

function needUrl(url: URL | undefined): url is URL {
  return url !== undefined;
}

/** The session a request names, touched; or the reply saying why not. */
function sessionOf(ctx: ServerContext, req: RtspRequest): RtspSession | Reply | undefined {
  const id = sessionId(req.headers.get('session'));
  if (id === undefined) return undefined;
  const s = ctx.sessions.get(id);
  if (!s || s.ended) return err(454, `no session ${id.slice(0, 32)}`);
  s.touch();
  return s;
}

/** The program at `url` if the request's caller may play it; otherwise 404, as for one that does not exist. */
function allowedProgram(ctx: ServerContext, req: RtspRequest, url: URL): ReturnType<typeof resolve> {
  const r = resolve(url.pathname, ctx.source, ctx.opts.schedules);
  const doors = ctx.opts.doors;
  if (!r.ok || !doors || !req.door) return r;
  const p = r.program;
  const ok = p.media !== undefined ? doors.media(req.door.caller, p.media) : p.channel !== undefined && doors.channel(req.door.caller, p.channel);
  return ok ? r : { ok: false, status: 404, reason: p.media !== undefined ? `no media ${p.media}` : `no channel ${JSON.stringify(p.channel)}` };
}

const isReply = (x: unknown): x is Reply => typeof x === 'object' && x !== null && 'status' in x;

/** Is `url` the session's aggregate URL (Content-Base, with or without the slash)? Otherwise which stream. */
function target(session: RtspSession, url: URL): { aggregate: boolean; stream?: number } | undefined {
  const path = url.pathname.replace(/\/$/, '');
  if (path === session.program.path) return { aggregate: true };
  const m = /^(.*)\/trackID=(\d{1,3})$/.exec(path);
  if (m && m[1] === session.program.path) return { aggregate: false, stream: Number(m[2]) };
  return undefined;
}

const OPTIONS: Handler = (ctx, _caller, req) => {
  const s = sessionOf(ctx, req);
  if (isReply(s)) return s;
  return { status: 200, headers: [['Public', PUBLIC]], session: s };
};

const DESCRIBE: Handler = (ctx, caller, req, url) => {
  if (!needUrl(url)) return err(400, 'DESCRIBE needs an rtsp:// URL');
  const r = allowedProgram(ctx, req, url);
  if (!r.ok) return err(r.status, r.reason);
  const p = r.program;
  const sdp = buildSdp({
    id: String(randomInt(1, 2 ** 47)),
    version: '1',
    address: caller.localAddress,
    name: p.title,
    range: p.live ? 'npt=now-' : `npt=0-${formatNpt(p.duration ?? 0)}`,
    tool: 'stateos',
    streams: p.streams.map((s) => ({ format: s.format, payloadType: s.payloadType, control: `trackID=${s.id}` })),
  });
  const base = `rtsp://${url.host}${req.door?.prefix ?? ''}${p.path}/`;
  return { status: 200, headers: [['Content-Base', base]], body: sdp, contentType: 'application/sdp' };
};

const SETUP: Handler = (ctx, caller, req, url) => {
  if (!needUrl(url)) return err(400, 'SETUP needs an rtsp:// URL');
  const found = sessionOf(ctx, req);
  if (isReply(found)) return found;
  const r = allowedProgram(ctx, req, url);
  if (!r.ok) return err(r.status, r.reason, found);
  let program: Program = r.program;
  if (found && found.program.path !== program.path) return err(459, `session ${found.id} plays ${found.program.path}; one session plays one program`, found);
  if (found) program = found.program;
  let id = r.stream;
  if (id === undefined) {
    if (program.streams.length !== 1) return err(459, `SETUP of ${program.path} needs a stream URL (trackID=N): it has ${program.streams.length} streams`, found);
    id = program.streams[0].id;
  }
  const spec = program.streams.find((s) => s.id === id);
  if (!spec) return err(404, `no stream ${id} in ${program.path}`, found);
  if (found?.streams.has(id)) return err(455, `stream ${id} is already set up in session ${found.id}`, found);
  if (found?.player) return err(455, 'streams cannot be added once the session has played', found);
  if (!found && caller.sessionCount() >= ctx.opts.maxSessionsPerConnection) return err(503, `at most ${ctx.opts.maxSessionsPerConnection} sessions per connection`);
  if (!found && ctx.sessions.size >= ctx.opts.maxSessions) return err(503, `at most ${ctx.opts.maxSessions} sessions`);

  const t = parseTransport(req.headers.get('transport'));
  if (!t.ok) return err(461, t.reason, found);
  let sink: Sink;
  if (t.value.lower === 'tcp') {
    let pair = t.value.interleaved;
    if (!pair) {
      let c = 0;
      while (caller.channels.has(c) || caller.channels.has(c + 1)) c += 2;
      if (c > 254) return err(461, 'no free interleaved channels', found);
      pair = [c, c + 1];
    }
    if (caller.channels.has(pair[0]) || caller.channels.has(pair[1])) return err(461, `interleaved channels ${pair[0]}-${pair[1]} are in use on this connection`, found);
    sink = new InterleavedSink(caller.socket, pair);
    caller.channels.add(pair[0]);
    caller.channels.add(pair[1]);
  } else {
    if (!ctx.udp) return err(461, 'RTP over UDP is not available on this server; use RTP/AVP/TCP', found);
    sink = new UdpSink(ctx.udp, caller.remoteAddress, t.value.clientPort as [number, number]);
  }
  const session = found ?? new RtspSession(program, caller, ctx.source, ctx.log);
  if (!found) {
    ctx.sessions.set(session.id, session);
    caller.adopt(session);
  }
  const sender = new RtpSender(spec.payloadType, spec.format.clockRate, `stateos-${session.id.slice(0, 8).toLowerCase()}`);
  session.streams.set(id, { spec, sender, sink, uri: req.uri });
  if (sink instanceof UdpSink) ctx.udpPeers.set(`${sink.address}|${sink.clientPorts[1]}`, session).set(`${sink.address}|${sink.clientPorts[0]}`, session);
  return {
    status: 200,
    headers: [['Transport', `${sink.describe()};ssrc=${sender.ssrc.toString(16).padStart(8, '0').toUpperCase()};mode="PLAY"`]],
    session,
  };
};

const PLAY: Handler = async (ctx, _caller, req, url) => {
  if (!needUrl(url)) return err(400, 'PLAY needs an rtsp:// URL');
  const s = sessionOf(ctx, req);
  if (isReply(s)) return s;
  if (!s) return err(454, 'PLAY needs the Session of a SETUP');
  const at = target(s, url);
  if (!at) return err(459, `session ${s.id} plays ${s.program.path}`, s);
  if (!at.aggregate && s.streams.size > 1) return err(460, `PLAY the aggregate URL ${s.program.path}`, s);
  if (s.streams.size === 0) return err(455, 'no stream is set up', s);
  const rangeHeader = req.headers.get('range');
  const range = rangeHeader !== undefined ? parseRange(rangeHeader) : undefined;
  if (range && !range.ok) return err(range.status, range.reason, s);
  const want = range?.ok ? range.value : undefined;
  const p = s.program;
  if (want && !p.live) {
    if (want.start === 'now') return err(457, `${p.path} is not live: give an npt start`, s);
    if (p.duration !== undefined && want.start >= p.duration) return err(457, `npt ${want.start} is past the end (${formatNpt(p.duration)})`, s);
  }
  return s.serial(async () => {
    if (s.ended) return err(454, `session ${s.id} has ended`);
    const streams = [...s.streams.values()].sort((a, b) => a.spec.id - b.spec.id);
    const player = (s.player ??= new Player(ctx.source, p, streams, {
      log: ctx.log,
      gate: ctx.reads,
      onEnd: (reason) => ctx.log.info('RTSP play reached its end', { session: s.id, reason }),
    }));
    let start;
    if (player.state === 'playing' && !want) {
      const pos = player.position();
      return { status: 200, headers: [['Range', p.live ? 'npt=now-' : `npt=${formatNpt(pos)}-`]], session: s };
    }
    try {
      // A paused play resumes where it stopped; a live channel rejoins where the schedule is now.
      start = player.state === 'paused' && !want && !p.live ? player.resume() : await player.seek(typeof want?.start === 'number' ? want.start : 0, want?.end);
    } catch (e) {
      if (e instanceof MediaUnavailableError) return err(504, `media unavailable: ${e.message}`, s);
      if (e instanceof EmptyRangeError) return err(457, e.message, s);
      if (e instanceof RangeError) return err(404, e.message, s);
      throw e;
    }
    const rtpInfo = start.rtpInfo.map((i) => `url=${s.streams.get(i.id)?.uri};seq=${i.seq};rtptime=${i.rtptime}`).join(',');
    const rangeOut = start.live ? 'npt=now-' : `npt=${formatNpt(start.start)}-${start.end !== undefined && Number.isFinite(start.end) ? formatNpt(start.end) : ''}`;
    return { status: 200, headers: [['Range', rangeOut], ['RTP-Info', rtpInfo]], session: s, after: () => player.start() };
  });
};

const PAUSE: Handler = (ctx, _caller, req, url) => {
  if (!needUrl(url)) return err(400, 'PAUSE needs an rtsp:// URL');
  const s = sessionOf(ctx, req);
  if (isReply(s)) return s;
  if (!s) return err(454, 'PAUSE needs a Session');
  const at = target(s, url);
  if (!at) return err(459, `session ${s.id} plays ${s.program.path}`, s);
  if (!at.aggregate && s.streams.size > 1) return err(460, `PAUSE the aggregate URL ${s.program.path}`, s);
  if (!s.player) return err(455, 'PAUSE before PLAY', s);
  const pos = s.player.pause();
  return { status: 200, headers: s.program.live ? [] : [['Range', `npt=${formatNpt(pos)}-`]], session: s };
};

const TEARDOWN: Handler = (ctx, _caller, req, url) => {
  if (!needUrl(url)) return err(400, 'TEARDOWN needs an rtsp:// URL');
  const s = sessionOf(ctx, req);
  if (isReply(s)) return s;
  if (!s) return err(454, 'TEARDOWN needs a Session');
  const at = target(s, url);
  if (!at) return err(459, `session ${s.id} plays ${s.program.path}`, s);
  if (!at.aggregate && s.streams.size > 1) {
    if (s.player) return err(460, `TEARDOWN the aggregate URL ${s.program.path} once playing`, s);
    const one = s.streams.get(at.stream as number);
    if (!one) return err(404, `stream ${at.stream} is not set up`, s);
    s.streams.delete(at.stream as number);
    if ('channels' in one.sink) for (const c of (one.sink as InterleavedSink).channels) s.owner.channels.delete(c);
    return { status: 200, session: s };
  }
  ctx.endSession(s, 'teardown', false);
  return { status: 200 };
};

/** GET_PARAMETER and SET_PARAMETER: keep-alives; no parameters are offered. */
const PARAMETER: Handler = (ctx, _caller, req) => {
  const s = sessionOf(ctx, req);
  if (isReply(s)) return s;
  if (req.body.length > 0 && !/^\s*$/.test(Buffer.from(req.body).toString('latin1'))) return err(451, 'no parameters are offered', s);
  return { status: 200, session: s };
};

export const METHODS: Record<string, Handler> = {
  OPTIONS,
  DESCRIBE,
  SETUP,
  PLAY,
  PAUSE,
  TEARDOWN,
  GET_PARAMETER: PARAMETER,
  SET_PARAMETER: PARAMETER,
};

/** Methods RTSP defines that a server of stored media does not take (recording, redirecting). */
export const NOT_ALLOWED = new Set(['ANNOUNCE', 'RECORD', 'REDIRECT']);
