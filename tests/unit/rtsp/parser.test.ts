// The RTSP request parser and header readers: what a well-formed request gives, the status each kind of bad
// input gets, and fuzzing (random and mutated requests never throw; every input ends in a request, an
// interleaved frame or an error status).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatNpt, formatResponse, parseRange, parseTransport, sessionId } from '../../../node-peer/gateways/rtsp/headers.ts';
import { DEFAULT_LIMITS, parseMessage, type Parsed } from '../../../node-peer/gateways/rtsp/parser.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const ERROR_STATUSES = new Set([400, 408, 413, 414, 505]);

const DESCRIBE = 'DESCRIBE rtsp://127.0.0.1:8554/media/11111111-2222-4333-8444-555555555555 RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\nUser-Agent: Lavf59.27.100\r\n\r\n';
const SET_PARAMETER = 'SET_PARAMETER rtsp://h/media/x RTSP/1.0\r\nCSeq: 9\r\nSession: ABCDEF;timeout=60\r\nContent-Type: text/parameters\r\nContent-Length: 11\r\n\r\nvolume: 10\n';

/** Parses everything in `bytes` as a connection would, the stream having ended. */
function parseAll(bytes: Uint8Array): Parsed[] {
  const out: Parsed[] = [];
  let buf = bytes;
  for (let guard = 0; guard < 10_000; guard++) {
    const r = parseMessage(buf, DEFAULT_LIMITS, true);
    out.push(r);
    if (r.kind === 'request' || r.kind === 'interleaved') {
      expect(r.size).toBeGreaterThan(0);
      expect(r.size).toBeLessThanOrEqual(buf.length);
      buf = buf.subarray(r.size);
      continue;
    }
    return out;
  }
  throw new Error('the parser did not make progress');
}

function checkOutcome(bytes: Uint8Array): void {
  const results = parseAll(bytes);
  const last = results[results.length - 1];
  for (const r of results) {
    if (r.kind === 'error') {
      expect(ERROR_STATUSES.has(r.status), `status ${r.status}`).toBe(true);
      expect(r.reason.length).toBeGreaterThan(0);
      expect(r.reason).not.toMatch(/[\r\n]/);
    }
    if (r.kind === 'request') {
      expect(r.request.method).toMatch(/^[A-Za-z_-]{1,32}$/);
      expect(Number.isSafeInteger(r.request.cseq)).toBe(true);
      expect(r.request.body.length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxBodyBytes);
    }
  }
  // a parse that stops without an error stops only at whitespace
  if (last.kind === 'more') {
    const rest = bytes.subarray(results.slice(0, -1).reduce((n, r) => n + ('size' in r ? r.size : 0), 0));
    expect([...rest].every((b) => b === 13 || b === 10)).toBe(true);
  }
}

describe('RTSP request parser', () => {
  it('parses a request: method, URI, CSeq, headers by lower-case name, the body by Content-Length', () => {
    const r = parseMessage(enc(DESCRIBE));
    expect(r.kind).toBe('request');
    if (r.kind !== 'request') return;
    expect(r.request.method).toBe('DESCRIBE');
    expect(r.request.uri).toBe('rtsp://127.0.0.1:8554/media/11111111-2222-4333-8444-555555555555');
    expect(r.request.cseq).toBe(2);
    expect(r.request.headers.get('accept')).toBe('application/sdp');
    expect(r.size).toBe(DESCRIBE.length);
    const p = parseMessage(enc(SET_PARAMETER));
    expect(p.kind === 'request' && new TextDecoder().decode(p.request.body)).toBe('volume: 10\n');
    expect(p.kind === 'request' && p.request.headers.get('session')).toBe('ABCDEF;timeout=60');
  });

  it('needs more bytes until a request is whole, at every split point', () => {
    const whole = enc(SET_PARAMETER);
    for (let i = 0; i < whole.length; i++) expect(parseMessage(whole.subarray(0, i)).kind, `at ${i}`).toBe('more');
    expect(parseMessage(whole).kind).toBe('request');
  });

  it('takes interleaved frames between requests, and pipelined requests one by one', () => {
    const rr = Buffer.from([0x24, 1, 0, 4, 0x81, 0xc9, 0, 0]);
    const input = Buffer.concat([Buffer.from('\r\n'), rr, Buffer.from(DESCRIBE), Buffer.from(SET_PARAMETER)]);
    const rs = parseAll(input);
    expect(rs.map((r) => r.kind)).toEqual(['interleaved', 'request', 'request', 'more']);
    expect(rs[0].kind === 'interleaved' && [rs[0].channel, rs[0].data.length]).toEqual([1, 4]);
  });

  it('accepts bare LF line ends', () => {
    const r = parseMessage(enc('OPTIONS * RTSP/1.0\nCSeq: 1\n\n'));
    expect(r.kind === 'request' && r.request.uri).toBe('*');
  });

  const cases: Array<[string, string | Uint8Array, number, RegExp?]> = [
    ['no CSeq', 'OPTIONS * RTSP/1.0\r\nUser-Agent: x\r\n\r\n', 400, /CSeq header missing/],
    ['CSeq not a number', 'OPTIONS * RTSP/1.0\r\nCSeq: one\r\n\r\n', 400, /CSeq/],
    ['CSeq twice', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n', 400, /repeated CSeq/],
    ['not RTSP', 'GET / HTTP/1.1\r\nCSeq: 1\r\n\r\n', 400, /not an RTSP request/],
    ['RTSP/2.0', 'OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n', 505],
    ['no version', 'OPTIONS *\r\nCSeq: 1\r\n\r\n', 400, /request line/],
    ['header line without a colon', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nbroken\r\n\r\n', 400],
    ['folded header', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-A: b\r\n c\r\n\r\n', 400, /folded/],
    ['control byte', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: \u0001\r\n\r\n', 400, /byte 0x01/],
    ['non-ASCII byte', Uint8Array.from([...enc('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: '), 0xc3, 0xa9, 13, 10, 13, 10]), 400],
    ['bare CR', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\rX: y\r\n\r\n', 400],
    ['Content-Length not a number', 'SET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n', 400],
    ['body over 64 KiB', 'SET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 65537\r\n\r\n', 413],
    ['URI over 2048', `DESCRIBE rtsp://h/${'a'.repeat(2100)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`, 414],
    ['65 headers', `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${Array.from({ length: 64 }, (_x, i) => `X-${i}: y\r\n`).join('')}\r\n`, 400, /more than 64 header/],
    ['header over 8 KiB', `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: ${'y'.repeat(9000)}\r\n\r\n`, 400, /larger than 8192/],
    ['header over 8 KiB, never ending', `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: ${'y'.repeat(9000)}`, 400, /larger than 8192/],
  ];
  for (const [name, input, status, reason] of cases) {
    it(`refuses ${name}: ${status}`, () => {
      const r = parseMessage(typeof input === 'string' ? enc(input) : input);
      expect(r.kind).toBe('error');
      if (r.kind !== 'error') return;
      expect(r.status).toBe(status);
      if (reason) expect(r.reason).toMatch(reason);
    });
  }

  it('keeps the CSeq of a refused request when it can see one', () => {
    const r = parseMessage(enc('OPTIONS * RTSP/2.0\r\nCSeq: 41\r\n\r\n'));
    expect(r.kind === 'error' && r.cseq).toBe(41);
    const big = parseMessage(enc(`OPTIONS * RTSP/1.0\r\nCSeq: 7\r\nX: ${'y'.repeat(9000)}`));
    expect(big.kind === 'error' && big.cseq).toBe(7);
  });

  it('an incomplete request at the end of the stream is an error; blank lines are not', () => {
    expect(parseMessage(enc('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n'), DEFAULT_LIMITS, true)).toMatchObject({ kind: 'error', status: 400 });
    expect(parseMessage(enc('\r\n\r\n'), DEFAULT_LIMITS, true).kind).toBe('more');
    expect(parseMessage(Uint8Array.from([0x24, 0, 0, 10, 1]), DEFAULT_LIMITS, true)).toMatchObject({ kind: 'error', status: 400 });
  });

  it('fuzz: random bytes never throw and end in a request, a frame or an error status', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => checkOutcome(b)), { numRuns: 2000 });
    // mostly-text random input, nearer to what a confused client sends
    const textish = fc.array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ abc:/.-_0123456789\r\n\t$;=*'.split('')), { maxLength: 400 }).map((a) => enc(a.join('')));
    fc.assert(fc.property(textish, (b) => checkOutcome(b)), { numRuns: 2000 });
  });

  it('fuzz: mutated requests (flips, insertions, deletions, cuts, repeats) never throw', () => {
    const seeds = [DESCRIBE, SET_PARAMETER, 'PLAY rtsp://h/media/x RTSP/1.0\r\nCSeq: 5\r\nSession: 1;timeout=60\r\nRange: npt=3-50\r\n\r\n', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'].map(enc);
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('repeat' as const), n: fc.integer({ min: 2, max: 200 }) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 }), (seed, ops) => {
        let b = [...seed];
        for (const m of ops) {
          const at = 'at' in m ? m.at % (b.length + 1) : 0;
          if (m.op === 'flip' && b.length) b[at % b.length] = m.byte;
          else if (m.op === 'insert') b.splice(at, 0, ...m.bytes);
          else if (m.op === 'delete') b.splice(at, m.n);
          else if (m.op === 'cut') b = b.slice(0, at);
          else if (m.op === 'repeat') b = Array.from({ length: Math.min(m.n, 20_000 / Math.max(1, b.length)) }, () => b).flat();
        }
        checkOutcome(Uint8Array.from(b));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('Transport, Range and Session headers', () => {
  it('Transport: the first acceptable alternative', () => {
    expect(parseTransport('RTP/AVP/TCP;unicast;interleaved=0-1')).toEqual({ ok: true, value: { lower: 'tcp', interleaved: [0, 1] } });
    expect(parseTransport('RTP/AVP;unicast;client_port=5000-5001')).toEqual({ ok: true, value: { lower: 'udp', clientPort: [5000, 5001] } });
    expect(parseTransport('RTP/AVP/UDP;unicast;client_port=6000;mode="PLAY"')).toEqual({ ok: true, value: { lower: 'udp', clientPort: [6000, 6001] } });
    expect(parseTransport('RTP/AVP;multicast,RTP/AVP/TCP;unicast')).toEqual({ ok: true, value: { lower: 'tcp' } });
    for (const bad of [undefined, '', 'RAW/RAW/UDP;unicast', 'RTP/AVP;unicast', 'RTP/AVP;multicast;client_port=1-2', 'RTP/AVP/TCP;interleaved=300-301', 'RTP/AVP/TCP;interleaved=4-9', 'RTP/AVP;client_port=0-1', 'RTP/AVP/TCP;mode=RECORD']) {
      expect(parseTransport(bad).ok, String(bad)).toBe(false);
    }
  });

  it('Range: npt forms; other units 456; malformed or empty 457', () => {
    expect(parseRange('npt=3-50')).toEqual({ ok: true, value: { start: 3, end: 50 } });
    expect(parseRange('npt=3.5-')).toEqual({ ok: true, value: { start: 3.5 } });
    expect(parseRange('npt = 0:01:02.5-')).toEqual({ ok: true, value: { start: 62.5 } });
    expect(parseRange('npt=-20')).toEqual({ ok: true, value: { start: 0, end: 20 } });
    expect(parseRange('npt=now-')).toEqual({ ok: true, value: { start: 'now' } });
    expect(parseRange('npt=2.000-;time=19970123T143720Z')).toEqual({ ok: true, value: { start: 2 } });
    expect(parseRange('clock=19961108T142300Z-')).toMatchObject({ ok: false, status: 456 });
    expect(parseRange('smpte=0:10:00-')).toMatchObject({ ok: false, status: 456 });
    for (const bad of ['npt=50-3', 'npt=3-3', 'npt=abc-', 'npt=3', 'npt', 'npt=1:99:00-', 'npt=--']) expect(parseRange(bad), bad).toMatchObject({ ok: false, status: 457 });
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => void parseRange(s)));
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (s) => void parseTransport(s)));
    expect(formatNpt(3.0004)).toBe('3.000');
    expect(formatNpt(-1)).toBe('0.000');
  });

  it('Session ids and responses', () => {
    expect(sessionId('ABC123;timeout=60')).toBe('ABC123');
    expect(sessionId(' ')).toBeUndefined();
    const r = formatResponse(454, [['CSeq', 3], ['X', 'a\r\nInjected: yes']], 'no session').toString();
    expect(r.startsWith('RTSP/1.0 454 Session Not Found\r\nCSeq: 3\r\nX: a Injected: yes\r\n')).toBe(true);
    expect(r.endsWith('Content-Length: 10\r\n\r\nno session')).toBe(true);
  });
});
