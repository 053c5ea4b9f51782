// RTSP/1.0 request parsing (RFC 2326 §6), pure and strict, for bytes from anyone. The connection's input is a
// stream of requests and, with RTP over TCP, interleaved binary frames ("$", channel, 16-bit length, data:
// RTCP receiver reports from the client). Every input gives a request, an interleaved frame, "need more
// bytes", or an error status to answer before closing the connection; nothing here throws.

export interface RtspRequest {
  method: string;
  uri: string;
  cseq: number;
  /** Header values by lower-case name; repeated headers joined with ", ". */
  headers: Map<string, string>;
  body: Uint8Array;
  /** Set by the server: who asks (a ticket in the path, or anonymous), and the /t/<ticket> prefix it came under. */
  door?: { caller: import('../../api/doors.ts').DoorCaller; prefix: string };
}

export interface ParseLimits {
  /** Request line and headers, with the blank line that ends them. */
  maxHeaderBytes: number;
  maxHeaders: number;
  maxUriLength: number;
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxHeaderBytes: 8192, maxHeaders: 64, maxUriLength: 2048, maxBodyBytes: 64 * 1024 };

export type Parsed =
  | { kind: 'more' }
  | { kind: 'request'; request: RtspRequest; size: number }
  | { kind: 'interleaved'; channel: number; data: Uint8Array; size: number }
  | { kind: 'error'; status: number; reason: string; cseq?: number };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([A-Za-z_-]{1,32}) (\S+) ([A-Za-z]+)\/(\d{1,3})\.(\d{1,3})$/;
const UNIQUE = new Set(['cseq', 'content-length', 'session']);
const CR = 13;
const LF = 10;

const fail = (status: number, reason: string, cseq?: number): Parsed => ({ kind: 'error', status, reason, ...(cseq !== undefined ? { cseq } : {}) });

/**
 * Parses the message at the start of `buf`. `ended`: no more bytes will come, so an incomplete message is an
 * error rather than "more". Blank lines before a message are skipped (counted in `size`); input that is only
 * blank lines is "more".
 */
export function parseMessage(buf: Uint8Array, limits: ParseLimits = DEFAULT_LIMITS, ended = false): Parsed {
  let start = 0;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  if (start === buf.length) return { kind: 'more' };
  if (buf[start] === 0x24) {
    if (buf.length - start < 4) return ended ? fail(400, 'truncated interleaved frame') : { kind: 'more' };
    const len = (buf[start + 2] << 8) | buf[start + 3];
    if (buf.length - start - 4 < len) return ended ? fail(400, 'truncated interleaved frame') : { kind: 'more' };
    return { kind: 'interleaved', channel: buf[start + 1], data: buf.subarray(start + 4, start + 4 + len), size: start + 4 + len };
  }

  // The header section ends at the first empty line (CRLF CRLF, or bare LF LF).
  const scanEnd = Math.min(buf.length, start + limits.maxHeaderBytes);
  let headEnd = -1;
  let bodyStart = -1;
  for (let i = start; i < scanEnd; i++) {
    if (buf[i] !== LF) continue;
    if (i + 1 < buf.length && buf[i + 1] === LF) {
      headEnd = i;
      bodyStart = i + 2;
      break;
    }
    if (i + 2 < buf.length && buf[i + 1] === CR && buf[i + 2] === LF) {
      headEnd = i;
      bodyStart = i + 3;
      break;
    }
  }
  if (headEnd < 0 || bodyStart - start > limits.maxHeaderBytes) {
    const cseq = sniffCseq(buf.subarray(start, scanEnd));
    if (buf.length - start >= limits.maxHeaderBytes) return fail(400, `request header larger than ${limits.maxHeaderBytes} bytes`, cseq);
    return ended ? fail(400, 'incomplete request', cseq) : { kind: 'more' };
  }

  let text = '';
  for (let i = start; i < headEnd; i++) {
    const c = buf[i];
    if (c === 9 || c === LF || c === CR || (c >= 0x20 && c < 0x7f)) text += String.fromCharCode(c);
    else return fail(400, `byte 0x${c.toString(16).padStart(2, '0')} in the request header`, sniffCseq(buf.subarray(start, headEnd)));
  }
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.some((l) => l.includes('\r'))) return fail(400, 'bare CR in the request header', sniffCseq(buf.subarray(start, headEnd)));

  const headers = new Map<string, string>();
  if (lines.length - 1 > limits.maxHeaders) return fail(400, `more than ${limits.maxHeaders} header fields`, sniffCseq(buf.subarray(start, headEnd)));
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (line[0] === ' ' || line[0] === '\t') return fail(400, 'folded header lines are not accepted');
    if (colon <= 0) return fail(400, `malformed header line ${i + 1}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return fail(400, `malformed header name on line ${i + 1}`);
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(key);
    if (prev !== undefined) {
      if (UNIQUE.has(key)) return fail(400, `repeated ${name} header`);
      headers.set(key, `${prev}, ${value}`);
    } else headers.set(key, value);
  }
  const cseqText = headers.get('cseq');
  const cseq = cseqText !== undefined && /^\d{1,9}$/.test(cseqText) ? Number(cseqText) : undefined;

  const m = REQUEST_LINE.exec(lines[0]);
  if (!m) return fail(400, 'malformed request line', cseq);
  const [, method, uri, proto, major, minor] = m;
  if (proto !== 'RTSP') return fail(400, `not an RTSP request (${proto.slice(0, 16)})`, cseq);
  if (major !== '1' || minor !== '0') return fail(505, `RTSP/${major}.${minor} is not supported (RTSP/1.0 is)`, cseq);
  if (uri.length > limits.maxUriLength) return fail(414, `request URI longer than ${limits.maxUriLength} characters`, cseq);
  if (cseqText === undefined) return fail(400, 'CSeq header missing');
  if (cseq === undefined) return fail(400, 'CSeq is not a number');

  const lengthText = headers.get('content-length');
  let bodyLength = 0;
  if (lengthText !== undefined) {
    if (!/^\d{1,12}$/.test(lengthText)) return fail(400, 'Content-Length is not a number', cseq);
    bodyLength = Number(lengthText);
    if (bodyLength > limits.maxBodyBytes) return fail(413, `body of ${bodyLength} bytes, more than ${limits.maxBodyBytes}`, cseq);
  }
  if (buf.length - bodyStart < bodyLength) return ended ? fail(400, 'body shorter than Content-Length', cseq) : { kind: 'more' };
  return {
    kind: 'request',
    request: { method, uri, cseq, headers, body: buf.subarray(bodyStart, bodyStart + bodyLength) },
    size: bodyStart + bodyLength,
  };
}

/** The CSeq of a request we refuse, when one can be seen, so the client can match the error to it. */
function sniffCseq(head: Uint8Array): number | undefined {
  const text = String.fromCharCode(...head.subarray(0, 8192));
  const m = /(?:^|\n)cseq[ \t]*:[ \t]*(\d{1,9})[ \t]*\r?\n/i.exec(text);
  return m ? Number(m[1]) : undefined;
}
