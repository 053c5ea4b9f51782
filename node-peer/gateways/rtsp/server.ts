// The RTSP gateway: rtsp://HOST:PORT/media/<id> and /channel/<name>, RTP over TCP (interleaved) and UDP.
// Connections are read with the strict parser; a request that does not parse is answered with its error
// status and the connection closed. Requests on one connection are handled one at a time, in order.
import { createServer, type Server, type Socket } from 'node:net';
import type { MediaSource } from '../../media/frames.ts';
import { packageVersion } from '../../cli/main.ts';
import type { RtspOptions, ResolvedOptions, ServerContext } from './context.ts';
import { refusal } from '../../http/address-guard.ts';
import { splitTicketPath } from '../../../shared/api/ticket.ts';
import { AuthError } from '../../../shared/api/token.ts';
import { Gate } from './gate.ts';
import { formatResponse, type HeaderList } from './headers.ts';
import { type Caller, METHODS, NOT_ALLOWED, PUBLIC, type Reply } from './methods.ts';
import { DEFAULT_LIMITS, parseMessage, type RtspRequest } from './parser.ts';
import { openUdpPair } from './rtp-out.ts';
import type { RtspSession } from './session.ts';

export type { RtspOptions } from './context.ts';

export interface RtspServer {
  port: number;
  /** rtsp://HOST:PORT */
  url: string;
  /** UDP RTP/RTCP ports, when RTP over UDP is offered. */
  udpPorts?: [number, number];
  stats(): { connections: number; sessions: number; playing: number };
  close(): Promise<void>;
}

/** Bytes a connection may hold unparsed: one whole request with its body, or one interleaved frame, and some. */
const MAX_BUFFERED = 256 * 1024;

export async function startRtsp(source: MediaSource, options: RtspOptions): Promise<RtspServer> {
  const opts: ResolvedOptions = {
    sessionTimeoutMs: 60_000,
    maxConnections: 256,
    maxSessionsPerConnection: 8,
    maxSessions: 1024,
    requestTimeoutMs: 10_000,
    ...options,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  };
  const log = opts.log;
  const udp = options.noUdp ? undefined : await openUdpPair(opts.host, (e) => log.debug('RTSP UDP send failed', { error: e.message }));
  const connections = new Set<Connection>();
  const ctx: ServerContext = {
    source,
    log,
    opts,
    sessions: new Map(),
    udp,
    udpPeers: new Map(),
    reads: new Gate(2),
    endSession(s, reason, bye) {
      ctx.sessions.delete(s.id);
      for (const [k, v] of ctx.udpPeers) if (v === s) ctx.udpPeers.delete(k);
      s.end(reason, bye);
    },
  };
  // RTCP (receiver reports) and NAT-opening packets from UDP clients keep their sessions alive.
  const heard = (_m: Buffer, r: { address: string; port: number }) => ctx.udpPeers.get(`${r.address}|${r.port}`)?.touch();
  udp?.rtp.on('message', heard);
  udp?.rtcp.on('message', heard);

  const server: Server = createServer((socket) => {
    if (connections.size >= opts.maxConnections) {
      socket.on('error', () => undefined);
      // said, then gone: an untracked socket must not hold the server's close
      socket.end(formatResponse(503, [['Server', serverName()]], `at most ${opts.maxConnections} connections`), () => socket.destroy());
      return;
    }
    const addr = socket.remoteAddress;
    const admitted = opts.guard?.admit(addr) ?? 'ok';
    if (admitted !== 'ok') {
      const r = refusal(admitted, addr, opts.guard!.limits);
      socket.on('error', () => undefined);
      socket.end(formatResponse(r.status === 429 ? 503 : r.status, [['Server', serverName()]], r.reason), () => socket.destroy());
      return;
    }
    const c = new Connection(socket, ctx, () => {
      connections.delete(c);
      opts.guard?.release(addr);
    });
    connections.add(c);
  });
  server.maxConnections = opts.maxConnections * 2;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await udp?.close(); // or its sockets keep the process alive
    throw e;
  }
  server.on('error', (e) => log.error('RTSP server error', { error: e.message }));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;

  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const s of [...ctx.sessions.values()]) if (now - s.lastSeen > opts.sessionTimeoutMs) ctx.endSession(s, 'session timeout', true);
      for (const c of connections) c.sweep(now);
    },
    Math.max(50, Math.min(1000, opts.sessionTimeoutMs / 4)),
  );
  sweep.unref();
  log.info('RTSP gateway listening', { host: opts.host, port, udp: udp?.ports });

  return {
    port,
    url: `rtsp://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    udpPorts: udp?.ports,
    stats: () => ({
      connections: connections.size,
      sessions: ctx.sessions.size,
      playing: [...ctx.sessions.values()].filter((s) => s.player?.state === 'playing').length,
    }),
    close: async () => {
      clearInterval(sweep);
      for (const s of [...ctx.sessions.values()]) ctx.endSession(s, 'server shutting down', true);
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const c of connections) c.close();
      await closed;
      await udp?.close();
    },
  };
}

const serverName = () => `stateos/${packageVersion()}`;

class Connection implements Caller {
  readonly remote: string;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly channels = new Set<number>();
  private readonly own = new Set<RtspSession>();
  private buf: Buffer = Buffer.alloc(0);
  private busy = false;
  private closing = false;
  /** When the bytes of the request being received started arriving (0: none pending). */
  private pendingSince = 0;
  private lastActive = performance.now();

  constructor(
    readonly socket: Socket,
    private readonly ctx: ServerContext,
    private readonly onClose: () => void,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remote = `${this.remoteAddress}:${socket.remotePort ?? 0}`;
    this.localAddress = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => ctx.log.debug('RTSP connection error', { client: this.remote, error: e.message }));
    socket.on('close', () => this.closed());
  }

  sessionCount(): number {
    let n = 0;
    for (const s of this.own) if (!s.ended) n++;
    return n;
  }

  adopt(session: RtspSession): void {
    this.own.add(session);
  }

  /** Timeouts of the connection itself: a request that never completes, an idle connection without sessions. */
  sweep(now: number): void {
    if (this.closing) return;
    if (this.pendingSince && !this.busy && now - this.pendingSince > this.ctx.opts.requestTimeoutMs) {
      this.fail(408, 'request not completed in time');
      return;
    }
    // Live sessions hold the connection open; once the last one ends, it gets a whole timeout of its own.
    if (this.sessionCount() > 0) this.lastActive = now;
    else if (now - this.lastActive > this.ctx.opts.sessionTimeoutMs) this.close();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private closed(): void {
    this.closing = true;
    // Interleaved streams die with their connection; UDP sessions live on until TEARDOWN or timeout.
    for (const s of this.own) if (!s.ended && s.interleaved) this.ctx.endSession(s, 'connection closed', false);
    this.onClose();
  }

  private onData(d: Buffer): void {
    if (this.closing) return;
    this.lastActive = performance.now();
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (this.buf.length > MAX_BUFFERED) {
      this.fail(400, 'too much unprocessed input');
      return;
    }
    this.pump();
  }

  /** Parses and handles what the buffer holds; interleaved frames (RTCP) are taken even while a request runs. */
  private pump(): void {
    while (!this.closing && this.buf.length) {
      const r = parseMessage(this.buf, this.ctx.opts.limits);
      if (r.kind === 'more') break;
      if (r.kind === 'error') {
        this.fail(r.status, r.reason, r.cseq);
        return;
      }
      if (r.kind === 'interleaved') {
        this.buf = this.buf.subarray(r.size);
        this.interleaved(r.channel);
        continue;
      }
      if (this.busy) break;
      this.buf = this.buf.subarray(r.size);
      this.busy = true;
      this.handle(r.request).then(
        () => {
          this.busy = false;
          this.pump();
        },
        (e: unknown) => {
          this.ctx.log.error('RTSP request failed', { client: this.remote, method: r.request.method, error: (e as Error).stack ?? String(e) });
          this.fail(500, 'internal error', r.request.cseq);
        },
      );
    }
    this.pendingSince = this.buf.length && !this.busy ? this.pendingSince || performance.now() : 0;
  }

  private interleaved(channel: number): void {
    for (const s of this.own) {
      if (s.ended) continue;
      for (const st of s.streams.values()) if ('channels' in st.sink && (st.sink as { channels: number[] }).channels.includes(channel)) s.touch();
    }
  }

  private async handle(req: RtspRequest): Promise<void> {
    let url: URL | undefined;
    if (req.uri !== '*') {
      try {
        url = new URL(req.uri);
      } catch {
        url = undefined;
      }
      if (!url || url.protocol !== 'rtsp:') {
        this.fail(400, `not an rtsp:// URL: ${req.uri.slice(0, 64)}`, req.cseq);
        return;
      }
      if (this.ctx.opts.doors) {
        // rtsp://HOST:PORT/t/<ticket>/media/<id>: the handlers see /media/<id>, and who asks
        const { ticket, path } = splitTicketPath(url.pathname);
        try {
          req.door = { caller: await this.ctx.opts.doors.caller(ticket), prefix: ticket ? `/t/${ticket}` : '' };
        } catch (e) {
          if (!(e instanceof AuthError)) throw e;
          this.fail(401, e.message, req.cseq);
          return;
        }
        url.pathname = path;
      }
    } else if (req.method !== 'OPTIONS' && req.method !== 'GET_PARAMETER' && req.method !== 'SET_PARAMETER') {
      this.fail(400, `${req.method} * is not a request`, req.cseq);
      return;
    }
    const handler = Object.hasOwn(METHODS, req.method) ? METHODS[req.method] : undefined;
    let reply: Reply;
    if (handler) reply = await handler(this.ctx, this, req, url);
    else if (NOT_ALLOWED.has(req.method)) reply = { status: 405, headers: [['Allow', PUBLIC]], body: `${req.method} is not offered: this server plays stored media` };
    else reply = { status: 501, headers: [['Public', PUBLIC]], body: `method ${req.method.slice(0, 32)} is not implemented` };
    if (this.closing) return;
    this.write(req.cseq, reply);
    reply.after?.();
  }

  private write(cseq: number | undefined, reply: Reply): void {
    const headers: HeaderList = [];
    if (cseq !== undefined) headers.push(['CSeq', cseq]);
    headers.push(['Server', serverName()], ['Date', new Date().toUTCString()]);
    if (reply.session && !reply.session.ended) headers.push(['Session', `${reply.session.id};timeout=${Math.max(1, Math.round(this.ctx.opts.sessionTimeoutMs / 1000))}`]);
    headers.push(...(reply.headers ?? []));
    if (reply.status >= 400) this.ctx.log.debug('RTSP error reply', { client: this.remote, status: reply.status, reason: reply.body });
    this.socket.write(formatResponse(reply.status, headers, reply.body, reply.contentType));
  }

  /** Answers with an error status and closes the connection. */
  private fail(status: number, reason: string, cseq?: number): void {
    if (this.closing) return;
    this.ctx.log.info('RTSP request refused, closing the connection', { client: this.remote, status, reason });
    if (status === 400 && this.ctx.opts.guard?.invalid(this.remoteAddress)) this.ctx.log.warn('address refused: too many invalid RTSP requests', { address: this.remoteAddress });
    this.write(cseq, { status, body: reason });
    this.close();
  }
}
