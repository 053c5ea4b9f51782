// RTSP: the request parser and header readers directly (node-peer/gateways/rtsp/parser.ts, headers.ts).
import fc from 'fast-check';
import { DEFAULT_LIMITS, parseMessage } from '../../node-peer/gateways/rtsp/parser.ts';
import { parseRange, parseTransport, sessionId, STATUS } from '../../node-peer/gateways/rtsp/headers.ts';
import { expect, hex, target } from '../lib/harness.ts';
import { bytesOf, hostileBytes, tokenSoup } from '../lib/mutate.ts';

export const RTSP_METHODS = ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER', 'ANNOUNCE', 'RECORD', 'REDIRECT', 'GET', 'X'];
export const HEADER_VALUES: Record<string, string[]> = {
  Transport: ['RTP/AVP/TCP;unicast;interleaved=0-1', 'RTP/AVP;unicast;client_port=5000-5001', 'RTP/AVP;multicast', 'RTP/AVP/TCP;interleaved=255-256', 'RTP/AVP;client_port=65535', 'RTP/AVP/TCP;mode=record', 'x,y,RTP/AVP/TCP', ''],
  Range: ['npt=0-', 'npt=3-50', 'npt=now-', 'npt=-5', 'npt=5-3', 'npt=1:02:03.5-', 'npt=999999999.999999999-', 'smpte=0-', 'npt=', 'clock=19961108T142300Z-'],
  Session: ['12345678', '12345678;timeout=60', '', ';', 'x'.repeat(200)],
  'Content-Length': ['0', '5', '65536', '65537', '999999999999', '-1', 'x'],
  CSeq: ['1', '2', '999999999', '1000000000', '-1', '', 'x'],
  Accept: ['application/sdp', '*/*'],
};

const line = (k: string, v: string) => `${k}: ${v}\r\n`;
/** A request: method, URI, the headers above in any order and any values, and a body of the length said (or not). */
export const requestText = fc
  .record({
    method: fc.constantFrom(...RTSP_METHODS),
    uri: fc.oneof(fc.constantFrom('rtsp://127.0.0.1:8554/media/x', '*', 'rtsp://h/channel/lobby', 'rtsp://h/media/x/trackID=0', 'http://h/', '/relative', 'rtsp://[::1/'), fc.webUrl()),
    version: fc.constantFrom('RTSP/1.0', 'RTSP/1.0', 'RTSP/2.0', 'HTTP/1.1', 'RTSP/1.00'),
    headers: fc.array(fc.constantFrom(...Object.keys(HEADER_VALUES)).chain((k) => fc.tuple(fc.constant(k), fc.oneof(fc.constantFrom(...HEADER_VALUES[k]), fc.string({ maxLength: 12 })))), { maxLength: 6 }),
    body: fc.string({ maxLength: 12 }),
    eol: fc.constantFrom('\r\n', '\n'),
  })
  .map((r) => `${r.method} ${r.uri} ${r.version}${r.eol}${r.headers.map(([k, v]) => line(k, v)).join('')}${r.eol}${r.body}`);

const SEEDS = [
  'OPTIONS rtsp://127.0.0.1:8554/media/x RTSP/1.0\r\nCSeq: 1\r\n\r\n',
  'SETUP rtsp://127.0.0.1:8554/media/x/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n',
  'SET_PARAMETER * RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 5\r\n\r\nhello',
  '$\x00\x00\x04abcdOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n',
].map(bytesOf);

export const rtspParser = target({
  name: 'rtsp-parser',
  what: 'parseMessage, parseTransport, parseRange, sessionId (node-peer/gateways/rtsp/parser.ts, headers.ts)',
  cases: 100_000,
  ci: 8_000,
  prepare: () => ({
    arb: fc.tuple(
      fc.oneof({ weight: 4, arbitrary: hostileBytes(SEEDS, { maxLength: 300 }) }, { weight: 4, arbitrary: requestText.map(bytesOf) }, { weight: 1, arbitrary: tokenSoup(['\r\n', 'CSeq: 1', ':', ' ', 'RTSP/1.0', 'OPTIONS * ', '$'], 30).map(bytesOf) }),
      fc.boolean(),
      fc.string({ maxLength: 60 }),
    ),
    show: ([b, ended, h]) => `ended=${ended} header=${JSON.stringify(h)} ${hex(b)} ${JSON.stringify(new TextDecoder().decode(b))}`,
    check: ([b, ended, h]) => {
      const r = parseMessage(b, DEFAULT_LIMITS, ended);
      switch (r.kind) {
        case 'more':
          break;
        case 'error':
          expect(r.status in STATUS && r.status >= 400, `status ${r.status}`);
          break;
        case 'interleaved':
          expect(r.size > 0 && r.size <= b.length && r.data.length <= 0xffff, 'interleaved frame bounds');
          break;
        case 'request': {
          const q = r.request;
          expect(r.size > 0 && r.size <= b.length, 'request size');
          expect(q.uri.length <= DEFAULT_LIMITS.maxUriLength && q.headers.size <= DEFAULT_LIMITS.maxHeaders && q.body.length <= DEFAULT_LIMITS.maxBodyBytes, 'request over a limit');
          expect(Number.isSafeInteger(q.cseq) && q.cseq >= 0, 'cseq');
          // more bytes after a whole request never change it
          const more = new Uint8Array(b.length + 7);
          more.set(b);
          more.set(bytesOf('OPTIONS'), b.length);
          const again = parseMessage(more, DEFAULT_LIMITS, false);
          expect(again.kind === 'request' && again.size === r.size && again.request.uri === q.uri, 'the request changed when more bytes followed');
          break;
        }
        default:
          expect(false, 'unknown result kind');
      }
      const t = parseTransport(h);
      if (t.ok) expect(t.value.lower === 'tcp' ? true : t.value.clientPort !== undefined, 'UDP transport without client ports');
      const range = parseRange(h);
      if (range.ok) {
        const { start, end } = range.value;
        expect(start === 'now' || (Number.isFinite(start) && start >= 0), 'range start');
        expect(end === undefined || (Number.isFinite(end) && (start === 'now' || end > start)), 'range end');
      } else expect(range.status === 456 || range.status === 457, 'range status');
      sessionId(h);
    },
  }),
});
