// The network faces of a running server, fuzzed over loopback with raw sockets: the HTTP API, HLS gateway
// and static files (node-peer/http/, node-peer/gateways/hls*.ts, node:http's own parser in front), and
// the RTSP gateway (node-peer/gateways/rtsp/: raw bytes, and request dialogs that follow the server's
// session ids through SETUP, PLAY, PAUSE, TEARDOWN). Each case is one connection.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import fc from 'fast-check';
import { expect, hex, target } from '../lib/harness.ts';
import { bytesOf, hostileBytes, mutated } from '../lib/mutate.ts';
import { type FuzzServer, startFuzzServer } from '../lib/server.ts';
import { HEADER_VALUES } from './rtsp.ts';

const GUID = '0f5e2c1a-9b7d-4e3f-8a6b-1c2d3e4f5a6b';
const MEDIA = '@MEDIA@';

/** Sends `bytes` on a new connection, half-closes, and collects everything until the server closes. */
function exchange(port: number, bytes: Uint8Array, end = true, timeoutMs = 3000): Promise<{ data: Buffer; timedOut: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(chunks), timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    s.on('connect', () => {
      s.write(bytes);
      if (end) s.end();
    });
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
  });
}

function checkServer(srv: FuzzServer, data: Buffer): void {
  const errors = srv.takeErrors();
  expect(errors.length === 0, `the server logged an error or threw: ${errors.join(' | ').slice(0, 1500)}`);
  const text = data.toString('latin1');
  for (const s of srv.secrets) expect(!text.includes(s), 'a response carries the cluster key');
  expect(!/root:[x*]?:0:0:/.test(text), 'a response carries /etc/passwd');
}

// ------------------------------------------------------------------------------------------------ HTTP

const PATHS = [
  '/', '/api/health', '/api/objects', `/api/objects/${MEDIA}`, `/api/objects/${GUID}`, '/api/objects/', '/api/collisions', '/api/playlists', `/api/playlists/${GUID}`, '/api/playlists/x%2Fy',
  '/api/channels', '/api/channels/lobby', '/api/channels/%E0%A4%A', '/api/usage', '/api/peer', '/api/peers', '/api/push', '/api/pull', `/hls/media/${MEDIA}/index.m3u8`,
  `/hls/media/${MEDIA}/master.m3u8`, `/hls/media/${MEDIA}/init.mp4`, `/hls/media/${MEDIA}/seg-0.m4s`, `/hls/media/${MEDIA}/seg-3.m4s`, `/hls/media/${MEDIA}/seg-99999999999999999999.m4s`,
  `/hls/media/${MEDIA}/seg--1.m4s`, `/hls/media/${GUID}/index.m3u8`, '/hls/channel/lobby/index.m3u8', `/hls/channel/lobby/init-${MEDIA}.mp4`, '/hls/channel/lobby/seg-5.m4s', '/assets/index.js',
  '/canvas', '/system', '/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/.stateos/cluster.key', '/cluster.key', '/%00', '/a%5cb', '//etc/passwd',
  '/index.html/..', '/favicon.ico', '*', 'http://127.0.0.1/api/health', '/api/health?x=%ZZ',
];
const KEYS = ['title', 'clips', 'media', 'start', 'end', 'name', 'mode', 'playlist', 'playlists', 'position', 'op', 'ops', 'clip', 'at', 'type', 'origin', 'from', 'to', 'data', 'peer', 'sdp', '__proto__', 'constructor'];
const leaf = fc.oneof(
  fc.constantFrom(MEDIA, GUID, '0101', '0100', 'now', 'live', 'on-demand', '1.5s', '0:30', '2026-11-23T02:00:00Z', 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n', 'lobby', '', 'x'.repeat(2000)),
  fc.integer({ min: -2, max: 100 }),
  fc.constantFrom(2 ** 53, -0, 1e308, 0.5, true, false, null),
  fc.string({ maxLength: 12 }),
);
const jsonBody = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.dictionary(fc.constantFrom(...KEYS), tie('v'), { maxKeys: 5 }), fc.array(tie('v'), { maxLength: 4 })),
})).v;

interface HttpCase {
  method: string;
  path: string;
  query: string;
  headers: [string, string][];
  body: Uint8Array;
  length: 'right' | 'none' | 'more' | 'less' | 'huge' | 'chunked' | 'bad';
}

const httpCase: fc.Arbitrary<HttpCase> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PUT', 'TRACE', 'CONNECT', 'BREW'),
  path: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...PATHS) }, { weight: 1, arbitrary: fc.webPath() }, { weight: 1, arbitrary: fc.constantFrom(...PATHS).chain((p) => fc.string({ maxLength: 6 }).map((s) => p + encodeURIComponent(s))) }),
  query: fc.constantFrom('', '', '?play=x', '?_=1&_=2', '?%', '#frag'),
  headers: fc.array(
    fc.oneof(
      fc.constant<[string, string]>(['content-type', 'application/json']),
      fc.constantFrom<[string, string]>(['content-type', 'text/plain'], ['content-type', 'application/json; charset=utf-16'], ['if-match', '"1"'], ['if-match', '"99999999999999999999"'], ['if-match', 'x'], ['range', 'bytes=0-10'], ['range', 'bytes=-5'], ['range', 'bytes=999999999-'], ['range', 'bytes=5-1'], ['accept-encoding', 'gzip'], ['expect', '100-continue'], ['connection', 'upgrade'], ['upgrade', 'websocket'], ['x-forwarded-for', '1.2.3.4']),
    ),
    { maxLength: 4 },
  ),
  body: fc.oneof({ weight: 5, arbitrary: jsonBody.map((v) => bytesOf(JSON.stringify(v) ?? 'null')) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) }),
  length: fc.constantFrom('right', 'right', 'right', 'none', 'more', 'less', 'huge', 'chunked', 'bad'),
});

function httpBytes(c: HttpCase, media: string): Uint8Array {
  const sub = (s: string) => s.split(MEDIA).join(media);
  const body = bytesOf(sub(new TextDecoder().decode(c.body)));
  const lines = [`${c.method} ${sub(c.path)}${c.query} HTTP/1.1`, 'host: 127.0.0.1', ...c.headers.map(([k, v]) => `${k}: ${v}`)];
  let payload = body;
  if (c.length === 'right') lines.push(`content-length: ${body.length}`);
  else if (c.length === 'more') lines.push(`content-length: ${body.length + 5}`);
  else if (c.length === 'less') lines.push(`content-length: ${Math.max(0, body.length - 3)}`);
  else if (c.length === 'huge') lines.push('content-length: 99999999999999');
  else if (c.length === 'bad') lines.push('content-length: -1');
  else if (c.length === 'chunked') {
    lines.push('transfer-encoding: chunked');
    const head = bytesOf(`${body.length.toString(16)}\r\n`);
    const tail = bytesOf('\r\n0\r\n\r\n');
    payload = new Uint8Array(head.length + body.length + tail.length);
    payload.set(head);
    payload.set(body, head.length);
    payload.set(tail, head.length + body.length);
  }
  const head = bytesOf(lines.join('\r\n') + '\r\n\r\n');
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

const ALLOWED_5XX = new Set([502, 503, 504]);

export const http = target({
  name: 'http',
  what: 'the HTTP server of stateos serve: node:http parsing, routes, JSON bodies, paths, HLS and static files (node-peer/http/, node-peer/gateways/hls*.ts, node-peer/serve.ts)',
  cases: 20_000,
  ci: 1_000,
  network: true,
  async: true,
  chunk: 100,
  prepare: async () => {
    const srv = await startFuzzServer();
    const seeds = [
      httpBytes({ method: 'POST', path: '/api/playlists', query: '', headers: [['content-type', 'application/json']], body: bytesOf(`{"title":"x","clips":[{"media":"${MEDIA}","start":"1s"}]}`), length: 'right' }, srv.media),
      httpBytes({ method: 'GET', path: `/hls/media/${MEDIA}/seg-1.m4s`, query: '', headers: [['range', 'bytes=0-99']], body: new Uint8Array(0), length: 'none' }, srv.media),
    ];
    let n = 0;
    return {
      // complete: a whole request, which must be answered; otherwise the server may wait for the rest (up to
      // its request timeout), and the case ends after 300 ms
      arb: fc.oneof(
        { weight: 6, arbitrary: httpCase.map((c) => ({ b: httpBytes(c, srv.media), complete: c.length !== 'more' && c.length !== 'huge' })) },
        { weight: 2, arbitrary: httpCase.chain((c) => mutated([httpBytes(c, srv.media)])).map((b) => ({ b, complete: false })) },
        { weight: 1, arbitrary: hostileBytes(seeds, { maxLength: 400 }).map((b) => ({ b, complete: false })) },
      ),
      show: ({ b, complete }) => `complete=${complete} ${hex(b, 2048)} ${JSON.stringify(new TextDecoder().decode(b).slice(0, 800))}`,
      check: async ({ b, complete }) => {
        const { data, timedOut } = await exchange(srv.http.port, b, true, complete ? 3000 : 300);
        expect(!timedOut || !complete, 'a whole request not answered within 3 s');
        checkServer(srv, data);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(data.toString('latin1'));
        if (status) expect(Number(status[1]) < 500 || ALLOWED_5XX.has(Number(status[1])), `status ${status[1]}: ${data.toString('latin1').slice(0, 300)}`);
        if (++n % 50 === 0) {
          const h = await exchange(srv.http.port, bytesOf('GET /api/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
          expect(/^HTTP\/1\.1 200/.test(h.data.toString('latin1')), 'the server stopped answering /api/health');
        }
      },
      close: () => srv.close(),
    };
  },
});

// ------------------------------------------------------------------------------------------------ RTSP

interface Step {
  method: string;
  target: 'aggregate' | 'stream0' | 'stream1' | 'stream9' | 'other' | 'channel' | 'star';
  transport: 'tcp' | 'udp' | 'bad' | 'none';
  range?: string;
  session: 'ours' | 'none' | 'bogus';
  extra: [string, string][];
  body: string;
}

const step: fc.Arbitrary<Step> = fc.record({
  method: fc.constantFrom('OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER', 'RECORD', 'ANNOUNCE', 'FOO'),
  target: fc.constantFrom('aggregate', 'stream0', 'stream1', 'stream9', 'other', 'channel', 'star'),
  transport: fc.constantFrom('tcp', 'udp', 'bad', 'none'),
  range: fc.option(fc.oneof(fc.constantFrom(...HEADER_VALUES.Range), fc.string({ maxLength: 10 })), { nil: undefined }),
  session: fc.constantFrom('ours', 'ours', 'none', 'bogus'),
  extra: fc.array(fc.constantFrom<[string, string]>(['Accept', 'application/sdp'], ['Scale', '2'], ['Speed', '-1'], ['Require', 'x'], ['Blocksize', '0'], ['Bandwidth', '99999999999']), { maxLength: 2 }),
  body: fc.constantFrom('', '', 'x', 'position\r\n'),
});

/** Parses one RTSP response at the start of `buf`, skipping interleaved frames. */
function takeResponse(buf: Buffer): { status: number; headers: Map<string, string>; size: number } | 'more' | 'garbage' {
  let at = 0;
  while (at < buf.length && buf[at] === 0x24) {
    if (buf.length - at < 4) return 'more';
    const len = buf.readUInt16BE(at + 2);
    if (buf.length - at - 4 < len) return 'more';
    at += 4 + len;
  }
  if (at >= buf.length) return 'more';
  const end = buf.indexOf('\r\n\r\n', at);
  if (end < 0) return buf.length - at > 16384 ? 'garbage' : 'more';
  const head = buf.toString('latin1', at, end).split('\r\n');
  const m = /^RTSP\/1\.0 (\d{3}) /.exec(head[0]);
  if (!m) return 'garbage';
  const headers = new Map(head.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
  const len = Number(headers.get('content-length') ?? 0);
  if (buf.length - end - 4 < len) return 'more';
  return { status: Number(m[1]), headers, size: end + 4 + len };
}

export async function dialog(port: number, media: string, udp: number, steps: Step[]): Promise<{ statuses: number[]; data: Buffer }> {
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let all = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (all.length < 1 << 20) all = Buffer.concat([all, d]);
    wake?.();
  });
  s.on('close', () => {
    closed = true;
    wake?.();
  });
  const statuses: number[] = [];
  let session: string | undefined;
  const base = `rtsp://127.0.0.1:${port}/media/${media}`;
  try {
    for (let i = 0; i < steps.length && !closed; i++) {
      const st = steps[i];
      const uri = { aggregate: base, stream0: `${base}/trackID=0`, stream1: `${base}/trackID=1`, stream9: `${base}/trackID=9`, other: `rtsp://127.0.0.1:${port}/media/${GUID}`, channel: `rtsp://127.0.0.1:${port}/channel/lobby`, star: '*' }[st.target];
      const lines = [`${st.method} ${uri} RTSP/1.0`, `CSeq: ${i + 1}`];
      if (st.transport === 'tcp') lines.push(`Transport: RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`);
      else if (st.transport === 'udp') lines.push(`Transport: RTP/AVP;unicast;client_port=${udp}-${udp + 1}`);
      else if (st.transport === 'bad') lines.push('Transport: RTP/AVP;multicast;mode=record');
      if (st.range !== undefined) lines.push(`Range: ${st.range.replace(/[\r\n]/g, '')}`);
      if (st.session === 'ours' && session) lines.push(`Session: ${session}`);
      else if (st.session === 'bogus') lines.push('Session: 0123456789abcdef');
      for (const [k, v] of st.extra) lines.push(`${k}: ${v}`);
      if (st.body) lines.push('Content-Type: text/parameters', `Content-Length: ${Buffer.byteLength(st.body)}`);
      s.write(lines.join('\r\n') + '\r\n\r\n' + st.body);
      for (;;) {
        const r = takeResponse(buf);
        if (r === 'garbage') throw new Error(`not an RTSP response: ${buf.toString('latin1', 0, 200)}`);
        if (r !== 'more') {
          buf = buf.subarray(r.size);
          statuses.push(r.status);
          const sid = r.headers.get('session')?.split(';')[0];
          if (sid) session = sid;
          break;
        }
        if (closed) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2000);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
        if (!closed && takeResponse(buf) === 'more' && buf.length === 0) throw new Error(`no answer to ${st.method} within 2 s`);
      }
    }
  } finally {
    s.destroy();
  }
  return { statuses, data: all };
}

export const rtsp = target({
  name: 'rtsp',
  what: 'the RTSP gateway of stateos serve over TCP: raw bytes, and request dialogs with SETUP/PLAY/PAUSE/TEARDOWN on the sample (node-peer/gateways/rtsp/)',
  cases: 20_000,
  ci: 1_000,
  network: true,
  async: true,
  chunk: 100,
  prepare: async () => {
    const srv = await startFuzzServer();
    // RTP over UDP goes to a pair of our own sockets, never to a port someone else uses
    let sinks: UdpSocket[] = [];
    let udp = 0;
    for (let tries = 0; tries < 50 && !udp; tries++) {
      const p = 20000 + 2 * Math.floor(Math.random() * 20000);
      const pair = [createSocket('udp4'), createSocket('udp4')];
      try {
        for (const [k, sock] of pair.entries()) {
          await new Promise<void>((resolve, reject) => {
            sock.once('error', reject);
            sock.bind(p + k, '127.0.0.1', () => resolve());
          });
          sock.on('error', () => undefined);
        }
        sinks = pair;
        udp = p;
      } catch {
        for (const sock of pair) sock.close();
      }
    }
    expect(udp, 'no UDP port pair for the RTP sink');
    const seeds = [
      `OPTIONS rtsp://127.0.0.1/media/${srv.media} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
      `DESCRIBE rtsp://127.0.0.1/media/${srv.media} RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n`,
      `SETUP rtsp://127.0.0.1/media/${srv.media}/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\nPLAY rtsp://127.0.0.1/media/${srv.media} RTSP/1.0\r\nCSeq: 4\r\nRange: npt=0-\r\n\r\n`,
    ].map(bytesOf);
    return {
      arb: fc.oneof({ weight: 3, arbitrary: fc.array(step, { minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: hostileBytes(seeds, { maxLength: 400 }) }),
      show: (x) => (x instanceof Uint8Array ? `${hex(x)} ${JSON.stringify(new TextDecoder().decode(x))}` : JSON.stringify(x)),
      check: async (x) => {
        if (x instanceof Uint8Array) {
          const { data, timedOut } = await exchange(srv.rtsp.port, x);
          expect(!timedOut, 'no answer and no close within 3 s');
          checkServer(srv, data);
          expect(!/^RTSP\/1\.0 500/m.test(data.toString('latin1')), '500 Internal Server Error');
          return;
        }
        let r: { statuses: number[]; data: Buffer };
        try {
          r = await dialog(srv.rtsp.port, srv.media, udp, x);
        } catch (e) {
          throw new Error(`dialog failed: ${(e as Error).message}`);
        }
        checkServer(srv, r.data);
        expect(!r.statuses.includes(500), `500 Internal Server Error (statuses ${r.statuses.join(', ')})`);
      },
      close: async () => {
        for (const sock of sinks) sock.close();
        await srv.close();
      },
    };
  },
});

export const netTargets = [http, rtsp];
