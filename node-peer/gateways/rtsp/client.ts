// A minimal RTSP client with RTP interleaved on the connection: what the tests and the benchmark use to
// talk to the gateway byte by byte (requests, raw bytes) and to read the RTP/RTCP it sends.
import { connect, type Socket } from 'node:net';

export interface RtspResponse {
  status: number;
  reason: string;
  headers: Map<string, string>;
  body: string;
  /** Interleaved frames received on the connection before this response. */
  framesBefore: number;
}

export interface Interleaved {
  channel: number;
  data: Buffer;
  /** performance.now() when it arrived. */
  at: number;
}

export class RtspClient {
  session?: string;
  private cseq = 0;
  private frames = 0;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: Array<{ resolve: (r: RtspResponse) => void; reject: (e: Error) => void }> = [];
  private readonly listeners: Array<(p: Interleaved) => void> = [];
  readonly closed: Promise<void>;
  /** Responses that arrived with nobody waiting (errors to raw bytes), until next() takes them. */
  readonly unsolicited: RtspResponse[] = [];

  private constructor(
    readonly socket: Socket,
    readonly url: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.parse();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((r) =>
      socket.once('close', () => {
        for (const w of this.waiting.splice(0)) w.reject(new Error('connection closed before the response'));
        r();
      }),
    );
  }

  static connect(url: string): Promise<RtspClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const s = connect(Number(u.port || 554), u.hostname.replace(/^\[|\]$/g, ''), () => {
        s.off('error', reject);
        resolve(new RtspClient(s, url));
      });
      s.once('error', reject);
    });
  }

  onPacket(fn: (p: Interleaved) => void): void {
    this.listeners.push(fn);
  }

  /** Sends a request (CSeq and the current Session added) and waits for its response. */
  request(method: string, uri: string = this.url, headers: Record<string, string> = {}, body = ''): Promise<RtspResponse> {
    const h: Record<string, string> = { CSeq: String(++this.cseq), ...(this.session ? { Session: this.session } : {}), ...headers };
    if (body) h['Content-Length'] = String(Buffer.byteLength(body));
    const text = `${method} ${uri} RTSP/1.0\r\n${Object.entries(h)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n${body}`;
    const p = this.next();
    this.socket.write(text);
    return p.then((r) => {
      const s = r.headers.get('session');
      if (s) this.session = s.split(';')[0];
      return r;
    });
  }

  /** The next response: one that came unasked (an error to raw bytes), or the next to arrive. */
  next(): Promise<RtspResponse> {
    const early = this.unsolicited.shift();
    if (early) return Promise.resolve(early);
    if (this.socket.destroyed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  raw(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      if (this.buf.length === 0) return;
      if (this.buf[0] === 0x24) {
        if (this.buf.length < 4) return;
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < 4 + len) return;
        const p = { channel: this.buf[1], data: Buffer.from(this.buf.subarray(4, 4 + len)), at: performance.now() };
        this.buf = this.buf.subarray(4 + len);
        this.frames++;
        for (const l of this.listeners) l(p);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^RTSP\/1\.0 (\d{3}) ?(.*)$/.exec(lines[0]);
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      const len = Number(headers.get('content-length') ?? 0);
      if (this.buf.length < end + 4 + len) return;
      const body = this.buf.subarray(end + 4, end + 4 + len).toString('utf8');
      this.buf = this.buf.subarray(end + 4 + len);
      const r = { status: m ? Number(m[1]) : 0, reason: m?.[2] ?? lines[0], headers, body, framesBefore: this.frames };
      const w = this.waiting.shift();
      if (w) w.resolve(r);
      else this.unsolicited.push(r);
    }
  }
}

export interface StreamInfo {
  control: string;
  encoding: string;
  clockRate: number;
  channel: number;
}

/** The m= sections of an SDP: control URL (absolute, against `base`), encoding and clock. */
export function sdpStreams(sdp: string, base: string): StreamInfo[] {
  const out: StreamInfo[] = [];
  let cur: Partial<StreamInfo> | undefined;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      cur = {};
      out.push(cur as StreamInfo);
    } else if (cur && line.startsWith('a=rtpmap:')) {
      const m = /^a=rtpmap:\d+ ([^/]+)\/(\d+)/.exec(line);
      if (m) Object.assign(cur, { encoding: m[1], clockRate: Number(m[2]) });
    } else if (cur && line.startsWith('a=control:')) {
      const c = line.slice('a=control:'.length);
      cur.control = /^rtsp:\/\//.test(c) ? c : base + c;
    }
  }
  return out.map((s, i) => ({ ...s, channel: 2 * i }));
}

/** DESCRIBE, then SETUP of every stream interleaved on the connection. */
export async function setupAll(c: RtspClient): Promise<{ streams: StreamInfo[]; sdp: string; base: string }> {
  const d = await c.request('DESCRIBE', c.url, { Accept: 'application/sdp' });
  if (d.status !== 200) throw new Error(`DESCRIBE: ${d.status} ${d.body}`);
  const base = d.headers.get('content-base') ?? `${c.url}/`;
  const streams = sdpStreams(d.body, base);
  for (const s of streams) {
    const r = await c.request('SETUP', s.control, { Transport: `RTP/AVP/TCP;unicast;interleaved=${s.channel}-${s.channel + 1}` });
    if (r.status !== 200) throw new Error(`SETUP ${s.control}: ${r.status} ${r.body}`);
  }
  return { streams, sdp: d.body, base };
}
