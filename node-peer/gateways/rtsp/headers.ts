// The RTSP header fields the gateway reads: Transport (RFC 2326 §12.39), Range (§12.29, npt only) and
// Session (§12.37); and the response writer. Pure functions over strings.

export interface TransportRequest {
  lower: 'udp' | 'tcp';
  /** RTP/RTCP channel pair on the RTSP connection (TCP). */
  interleaved?: [number, number];
  /** The client's RTP/RTCP port pair (UDP). */
  clientPort?: [number, number];
}

export type TransportChoice = { ok: true; value: TransportRequest } | { ok: false; reason: string };

/** The first acceptable alternative of a Transport header: unicast RTP/AVP over UDP or TCP, mode PLAY. */
export function parseTransport(header: string | undefined): TransportChoice {
  if (!header) return { ok: false, reason: 'Transport header missing' };
  const reasons: string[] = [];
  for (const alt of header.split(',').slice(0, 16)) {
    const [spec, ...params] = alt.trim().split(';').map((s) => s.trim());
    const up = spec.toUpperCase();
    const lower = up === 'RTP/AVP' || up === 'RTP/AVP/UDP' ? 'udp' : up === 'RTP/AVP/TCP' ? 'tcp' : undefined;
    if (!lower) {
      reasons.push(`${spec.slice(0, 32)} is not RTP/AVP`);
      continue;
    }
    const t: TransportRequest = { lower };
    let bad: string | undefined;
    for (const p of params) {
      const [k, v = ''] = p.split('=', 2).map((s) => s.trim());
      const key = k.toLowerCase();
      if (key === 'multicast') bad = 'multicast is not offered';
      else if (key === 'mode' && v.replace(/"/g, '').toUpperCase() !== 'PLAY') bad = `mode ${v.slice(0, 16)} is not offered`;
      else if (key === 'interleaved') {
        const pair = portPair(v, 0, 255);
        if (!pair) bad = `bad interleaved=${v.slice(0, 16)}`;
        else t.interleaved = pair;
      } else if (key === 'client_port') {
        const pair = portPair(v, 1, 65535);
        if (!pair) bad = `bad client_port=${v.slice(0, 16)}`;
        else t.clientPort = pair;
      }
    }
    if (!bad && lower === 'udp' && !t.clientPort) bad = 'RTP over UDP needs client_port';
    if (bad) {
      reasons.push(bad);
      continue;
    }
    return { ok: true, value: t };
  }
  return { ok: false, reason: reasons.join('; ') || 'no transport offered' };
}

function portPair(v: string, min: number, max: number): [number, number] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a + 1;
  if (a < min || b > max || b !== a + 1) return undefined;
  return [a, b];
}

/** A Range request: start in seconds or "now" (live), optional end. */
export interface NptRange {
  start: number | 'now';
  end?: number;
}

export type RangeResult = { ok: true; value: NptRange } | { ok: false; status: 456 | 457; reason: string };

const NPT_TIME = /^(?:(\d{1,9})(?:\.(\d{0,9}))?|(\d{1,6}):([0-5]?\d):([0-5]?\d)(?:\.(\d{0,9}))?)$/;

function nptTime(s: string): number | undefined {
  const m = NPT_TIME.exec(s);
  if (!m) return undefined;
  if (m[1] !== undefined) return Number(m[1]) + (m[2] ? Number(`0.${m[2]}`) : 0);
  return Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5]) + (m[6] ? Number(`0.${m[6]}`) : 0);
}

/** Parses `npt=A-`, `npt=A-B`, `npt=-B`, `npt=now-`; other units are 456, malformed or empty ranges 457. */
export function parseRange(header: string): RangeResult {
  const spec = header.split(';')[0].trim();
  const eq = spec.indexOf('=');
  if (eq < 0) return { ok: false, status: 457, reason: 'malformed Range' };
  const unit = spec.slice(0, eq).trim().toLowerCase();
  if (unit !== 'npt') return { ok: false, status: 456, reason: `Range unit ${unit.slice(0, 16)} is not supported (npt is)` };
  const value = spec.slice(eq + 1).trim();
  const dash = value.indexOf('-');
  if (dash < 0) return { ok: false, status: 457, reason: 'malformed npt range' };
  const a = value.slice(0, dash).trim();
  const b = value.slice(dash + 1).trim();
  const start = a === '' ? 0 : a === 'now' ? 'now' : nptTime(a);
  const end = b === '' ? undefined : nptTime(b);
  if (start === undefined || (b !== '' && end === undefined)) return { ok: false, status: 457, reason: 'malformed npt range' };
  if (end !== undefined && typeof start === 'number' && end <= start) return { ok: false, status: 457, reason: 'empty npt range' };
  return { ok: true, value: end !== undefined ? { start, end } : { start } };
}

/** npt seconds as RTSP writes them: up to millisecond precision. */
export const formatNpt = (s: number): string => (Math.round(Math.max(0, s) * 1000) / 1000).toFixed(3);

/** The session id of a Session header (the part before any ";timeout="). */
export const sessionId = (header: string | undefined): string | undefined => header?.split(';')[0].trim() || undefined;

export const STATUS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  456: 'Header Field Not Valid for Resource',
  457: 'Invalid Range',
  459: 'Aggregate Operation Not Allowed',
  460: 'Only Aggregate Operation Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  505: 'RTSP Version Not Supported',
};

export type HeaderList = Array<[string, string | number]>;

/** An RTSP response: status line, headers, Content-Length, body. Values must not contain CR or LF. */
export function formatResponse(status: number, headers: HeaderList, body?: string, contentType = 'text/plain; charset=utf-8'): Buffer {
  const lines = [`RTSP/1.0 ${status} ${STATUS[status] ?? 'Error'}`];
  for (const [k, v] of headers) lines.push(`${k}: ${String(v).replace(/[\r\n]+/g, ' ')}`);
  const payload = body !== undefined ? Buffer.from(body, 'utf8') : undefined;
  if (payload) lines.push(`Content-Type: ${contentType}`, `Content-Length: ${payload.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return payload ? Buffer.concat([head, payload]) : head;
}
