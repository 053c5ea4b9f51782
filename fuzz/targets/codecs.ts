// Byte codecs of the core: STU header and body, STX batch, STX message (with its XML guard), transfer frames,
// the link control channel, SDP checks, the sync vector and parameters, ring records and superblocks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { crc32c } from '../../shared/stu/crc32c.ts';
import { StuError } from '../../shared/stu/errors.ts';
import { newGuid } from '../../shared/stu/guid.ts';
import { checkHeader, decodeHeader, decodeStu, encodeStu, HEADER_SIZE, Off, reencodeStu } from '../../shared/stu/header.ts';
import { decodeBatch, encodeBatch } from '../../shared/stx/batch.ts';
import { StxError, type StxErrorCode } from '../../shared/stx/errors.ts';
import { decodeMessage, encodeMessage, type Message, SEPARATOR, type StxNode } from '../../shared/stx/message.ts';
import type { XmlElement } from '../../shared/stx/xml.ts';
import {
  AUTH_BYTES,
  decodeFrame,
  encodeAbort,
  encodeAuth,
  encodeCredit,
  encodeOk,
  encodeTotals,
  RECORD,
  startData,
  writeRecord,
} from '../../shared/stx/transfer-frames.ts';
import { decodeControl, encodeBye, encodeClose, encodeClosed, encodePing, encodePong } from '../../shared/stx/link/control.ts';
import { checkRemoteSdp, parseFingerprint, parseMaxMessageSize, withMaxMessageSize } from '../../shared/stx/link/sdp.ts';
import { decodeVector, encodeVector, guidParam, intParam, ticketParam, typeParam } from '../../shared/sync/wire.ts';
import { decodeSuperblock, encodeSuperblock, PREFIX_SIZE, readPrefix, REC_MAGIC, WRAP_MAGIC, writePrefix } from '../../shared/ring/record.ts';
import { expect, hex, target, Unexpected } from '../lib/harness.ts';
import { bytesOf, type Field, hostileBytes, mutated, tokenSoup } from '../lib/mutate.ts';

const ROOT = join(import.meta.dirname, '../..');
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const isView = (part: Uint8Array, of: Uint8Array) => part.buffer === of.buffer;
const stxCode = (e: unknown, allowed: readonly StxErrorCode[], what: string) => {
  if (!(e instanceof StxError)) throw e;
  expect(allowed.includes(e.code), `${what}: unexpected StxError code ${e.code}: ${e.message}`);
};

// ------------------------------------------------------------------------------------------------- STU

const STU_FIELDS: Field[] = [
  { at: Off.version, width: 2 },
  { at: Off.headerLength, width: 2 },
  { at: Off.flags, width: 4 },
  { at: Off.type, width: 4 },
  { at: Off.ts, width: 8 },
  { at: Off.prevTs, width: 8 },
  { at: Off.seq, width: 8 },
  { at: Off.seq + 4, width: 4 },
  { at: Off.bodySize, width: 8 },
  { at: Off.bodySize, width: 4 },
  { at: Off.bodySize + 4, width: 4 },
  { at: Off.bodyCrc, width: 4 },
  { at: Off.reserved, width: 4 },
  { at: Off.reserved2 + 100, width: 1 },
];

/** Recomputes the header checksum and, when the size fits, the body checksum: the mutation reaches the field checks. */
function fixStu(b: Uint8Array): Uint8Array {
  if (b.length < HEADER_SIZE) return b;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = v.getUint32(Off.bodySize, true);
  if (v.getUint32(Off.bodySize + 4, true) === 0 && HEADER_SIZE + size <= b.length) v.setUint32(Off.bodyCrc, crc32c(b.subarray(HEADER_SIZE, HEADER_SIZE + size)), true);
  v.setUint32(Off.headerCrc, crc32c(b, 0, 0, Off.headerCrc), true);
  return b;
}

function stuSeeds(): Uint8Array[] {
  const dir = join(ROOT, 'tests/fixtures/stu/v1');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bin')).map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const made = [0, 1, 7, 300].map((n, i) =>
    encodeStu({ type: 0x100 + i, object: newGuid(), origin: newGuid(), ts: BigInt(1_700_000_000_000 + i) << 16n, prevTs: i ? 5n : 0n, seq: i + 1, flags: i % 8 === 3 ? 1 : 0 }, new Uint8Array(n).fill(0x41 + i)),
  );
  return [...files, ...made];
}

const STU_CODES = new Set(['TRUNCATED', 'BAD_MAGIC', 'BAD_VERSION', 'BAD_HEADER_LENGTH', 'BAD_HEADER_CHECKSUM', 'BAD_BODY_CHECKSUM', 'TOO_LARGE', 'BAD_FIELD']);

export const stu = target({
  name: 'stu',
  what: 'decodeStu, decodeHeader, checkHeader (shared/stu/header.ts)',
  cases: 150_000,
  ci: 10_000,
  prepare: () => ({
    arb: fc.tuple(hostileBytes(stuSeeds(), { fields: STU_FIELDS, fix: fixStu, maxLength: 1200 }), fc.constantFrom(0, 0, 0, 1, 7), fc.constantFrom(undefined, 0, 100, 4096)),
    show: ([b, at, max]) => `at=${at} maxBody=${max} ${hex(b)}`,
    check: ([b, at, maxBody]) => {
      const limits = maxBody === undefined ? {} : { maxBody };
      const c = checkHeader(b, at, limits);
      const h = decodeHeader(b, at, limits);
      const s = decodeStu(b, at, limits);
      for (const r of [c, h, s]) {
        if (!r.ok) expect(r.error instanceof StuError && STU_CODES.has(r.error.code), `not a StuError: ${String(r.error)}`);
      }
      expect(c.ok === h.ok, 'checkHeader and decodeHeader disagree');
      if (s.ok) {
        expect(h.ok, 'decodeStu accepted what decodeHeader refused');
        const { header, body } = s.value;
        expect(isView(body, b), 'the body is a copy, not a view');
        expect(body.length === header.bodySize && header.bodySize <= (maxBody ?? 64 * 1024 * 1024), 'body size beyond the limit');
        expect(same(reencodeStu(s.value), b.subarray(at, at + HEADER_SIZE + header.bodySize)), 'a decoded STU does not re-encode to its bytes');
      }
    },
  }),
});

// ------------------------------------------------------------------------------------------------ batch

const te = new TextEncoder();
const msg = (s: string) => {
  const h = te.encode(s);
  const out = new Uint8Array(h.length + 4);
  out.set(h);
  out.set(SEPARATOR, h.length);
  return out;
};
const GOLDEN_PARTS = [msg('<stx method="Ack" id="42"/>'), msg('<stx method="Unregister" server="0f5e2c1a-9b7d-4e3f-8a6b-1c2d3e4f5a6b" reason="shutdown"/>')];

export const batch = target({
  name: 'stx-batch',
  what: 'decodeBatch (shared/stx/batch.ts)',
  cases: 100_000,
  ci: 8_000,
  prepare: () => {
    const seeds = [encodeBatch(GOLDEN_PARTS), encodeBatch([Uint8Array.of(1)]), encodeBatch([Uint8Array.of(1, 2, 3), new Uint8Array(40), Uint8Array.of(9)]), encodeBatch(Array.from({ length: 70 }, () => Uint8Array.of(7)))];
    const fields: Field[] = [{ at: 0, width: 1 }, { at: 1, width: 4 }, { at: 5, width: 4 }, { at: 9 + 27, width: 4 }];
    return {
      arb: fc.tuple(hostileBytes(seeds, { fields, maxLength: 600 }), fc.constantFrom(64, 4096), fc.constantFrom(200, 65536)),
      show: ([b, maxCount, maxBytes]) => `maxCount=${maxCount} maxBytes=${maxBytes} ${hex(b)}`,
      check: ([b, maxCount, maxBytes]) => {
        const r = decodeBatch(b, { maxCount, maxBytes });
        if (!r.ok) return stxCode(r.error, ['TRUNCATED', 'BAD_VERSION', 'TOO_LARGE', 'BAD_LENGTH', 'TOO_MANY'], 'decodeBatch');
        expect(r.value.length >= 1 && r.value.length <= maxCount, `${r.value.length} messages`);
        expect(b.length <= maxBytes, 'a batch over maxBytes accepted');
        expect(r.value.every((p) => p.length >= 1 && isView(p, b)), 'an empty part, or a copy');
        expect(same(encodeBatch(r.value), b), 'a decoded batch does not re-encode to its bytes');
      },
    };
  },
});

// ---------------------------------------------------------------------------------------------- message

const XML_TOKENS = [
  '<stx', '<stx ', '</stx>', '/>', '>', '<', '</', ' method="', 'method=', '"', "'", ' id="', '42"', '1"', '0"', '9007199254740992"', 'Ack"', 'GetSTU"',
  '<range', ' from="1"', ' to="9"', '</range>', '<peer id="x"/>', 'a="', 'b=\'', '&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#9;', '&#x41;', '&#0;', '&#x110000;',
  '&#xD800;', '&#65;', '&foo;', '&', '&#', '<!DOCTYPE stx [<!ENTITY a "b">]>', '<!ENTITY', '<!--', '-->', '<![CDATA[', ']]>', '<?xml version="1.0"?>', '<?pi?>',
  'constructor', 'prototype', '__proto__', 'hasOwnProperty', 'toString', 'x:y', ' xmlns="a"', '\u00e9', '\u{1F600}', '  ', '\t', '\n',
  '<a><b><c><d><e><f><g><h><i><j>', '</j></i></h></g></f></e></d></c></b></a>', 'text',
];

const toNode = (e: XmlElement): StxNode => ({ name: e.name, attrs: e.attrs, text: e.text, children: e.children.map(toNode) });
const shape = (m: Message) => JSON.stringify([m.method, m.id ?? null, m.attrs, m.children]);

const nameArb = fc.oneof(fc.constantFrom('a', 'range', 'peer', 'x.y', 'A-1', 'to', 'id', 'method'), fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,6}$/));
const valueArb = fc.oneof(fc.constantFrom('', '1', 'a&b', '<', '"\'', '\t\n\r', '\u00e9\u{1F600}', ']]>'), fc.string({ maxLength: 12 }));
const nodeArb: fc.Arbitrary<StxNode> = fc
  .letrec<{ node: StxNode }>((tie) => ({
    node: fc.record({
      name: nameArb,
      attrs: fc.dictionary(nameArb, valueArb, { maxKeys: 3 }),
      text: fc.oneof(fc.constant(''), valueArb),
      children: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant<StxNode[]>([]), fc.array(tie('node'), { maxLength: 3 })),
    }),
  }))
  .node.map((n) => (n.children?.length ? { ...n, text: '' } : n));

/** Well-formed messages, encoded (or undefined when the encoder refuses the random parts). */
const encodedMessages = fc
  .record({
    method: nameArb,
    id: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
    attrs: fc.dictionary(nameArb.filter((n) => n !== 'method' && n !== 'id'), valueArb, { maxKeys: 4 }),
    children: fc.array(nodeArb, { maxLength: 3 }),
    body: fc.uint8Array({ maxLength: 16 }),
  })
  .map((m) => {
    try {
      return encodeMessage(m);
    } catch {
      return msg('<stx method="Ack" id="1"/>');
    }
  });

const MESSAGE_CODES: StxErrorCode[] = ['TRUNCATED', 'NO_SEPARATOR', 'BAD_HEADER', 'TOO_LARGE', 'BAD_UTF8', 'BAD_XML', 'DTD_REFUSED', 'XML_LIMIT'];

export function checkMessage(b: Uint8Array, limits: { maxHeaderBytes?: number; maxElements?: number } = {}): void {
  const r = decodeMessage(b, limits);
  if (!r.ok) return stxCode(r.error, MESSAGE_CODES, 'decodeMessage');
  const m = r.value;
  expect(isView(m.body, b) || m.body.length === 0, 'the body is a copy');
  let again: Uint8Array;
  try {
    // canonical XML may be longer than what was sent (&quot; for a quote): re-encode without the byte limit
    again = encodeMessage({ method: m.method, id: m.id, attrs: m.attrs, children: m.children.map(toNode), body: m.body }, { ...limits, maxHeaderBytes: 1 << 20 });
  } catch (e) {
    throw new Unexpected(`a decoded message does not re-encode: ${String(e)}`);
  }
  const r2 = decodeMessage(again, { ...limits, maxHeaderBytes: 1 << 20 });
  expect(r2.ok, `a re-encoded message does not decode: ${r2.ok ? '' : r2.error.message}`);
  expect(shape(r2.value) === shape(m) && same(r2.value.body, m.body), 'a decoded message re-encodes to a different message');
}

export const message = target({
  name: 'stx-message',
  what: 'decodeMessage and the XML guard (shared/stx/message.ts, xml.ts)',
  cases: 200_000,
  ci: 6_000,
  prepare: () => {
    const seeds = [...GOLDEN_PARTS, msg('<stx method="GetSTU" id="42"><range type="3" origin="0f5e2c1a-9b7d-4e3f-8a6b-1c2d3e4f5a6b" from="1501" to="1600"/></stx>'), msg("<stx method='A' x='&amp;&#x41;'  >\n<b  />\n</stx>  ")];
    const soup = fc.tuple(tokenSoup(XML_TOKENS, 30), fc.uint8Array({ maxLength: 8 }), fc.boolean()).map(([s, body, sep]) => {
      const h = bytesOf(s);
      const out = new Uint8Array(h.length + (sep ? 4 : 0) + body.length);
      out.set(h);
      if (sep) out.set(SEPARATOR, h.length);
      out.set(body, h.length + (sep ? 4 : 0));
      return out;
    });
    return {
      arb: fc.tuple(
        fc.oneof({ weight: 3, arbitrary: hostileBytes(seeds, { maxLength: 300 }) }, { weight: 3, arbitrary: soup }, { weight: 2, arbitrary: encodedMessages }, { weight: 2, arbitrary: encodedMessages.chain((b) => mutated([b])) }),
        fc.constantFrom(undefined, 64),
      ),
      show: ([b, max]) => `maxHeaderBytes=${max ?? 'default'} ${hex(b)} ${JSON.stringify(new TextDecoder().decode(b).slice(0, 400))}`,
      check: ([b, max]) => checkMessage(b, max === undefined ? {} : { maxHeaderBytes: max, maxElements: 4 }),
    };
  },
});

// ------------------------------------------------------------------------------------- transfer frames

function dataFrame(records: [number, number, Uint8Array][]): Uint8Array {
  const out = new Uint8Array(1 + records.reduce((n, [k, , p]) => n + (k === RECORD.FIRST ? 9 : 5) + p.length, 0));
  let at = startData(out);
  for (const [k, total, p] of records) at = writeRecord(out, at, k as 0 | 1 | 2 | 3, total, p);
  return out;
}

export const frames = target({
  name: 'transfer-frames',
  what: 'decodeFrame (shared/stx/transfer-frames.ts)',
  cases: 100_000,
  ci: 8_000,
  prepare: () => {
    const seeds = [
      encodeAuth(7, new Uint8Array(16).fill(3)),
      encodeOk(4 << 20, 64 << 20),
      encodeCredit(512),
      encodeTotals('END', { stus: 3, bytes: 9000 }),
      encodeTotals('DONE', { stus: 2 ** 40, bytes: 2 ** 52 }),
      encodeAbort('TOO_LARGE', 'the reason \u00e9'),
      dataFrame([[RECORD.WHOLE, 0, te.encode('abc')], [RECORD.FIRST, 5, Uint8Array.of(1, 2)]]),
      dataFrame([[RECORD.MIDDLE, 0, new Uint8Array(30)], [RECORD.LAST, 0, Uint8Array.of(9)]]),
    ];
    const fields: Field[] = [{ at: 0, width: 1 }, { at: 1, width: 4 }, { at: 2, width: 4 }, { at: 5, width: 4 }, { at: 9, width: 8 }, { at: 1, width: 1 }];
    return {
      arb: hostileBytes(seeds, { fields, maxLength: 300 }),
      show: (b) => hex(b),
      check: (b) => {
        const r = decodeFrame(b);
        if (!r.ok) return stxCode(r.error, ['TRUNCATED', 'BAD_FRAME', 'BAD_LENGTH'], 'decodeFrame');
        const f = r.value;
        let again: Uint8Array | undefined;
        switch (f.type) {
          case 'AUTH':
            expect(b.length === AUTH_BYTES, 'AUTH length');
            again = encodeAuth(f.stream, f.key);
            again[1] = f.version;
            break;
          case 'OK':
            again = encodeOk(f.window, f.maxStu);
            break;
          case 'CREDIT':
            again = encodeCredit(f.bytes);
            break;
          case 'END':
          case 'DONE':
            again = encodeTotals(f.type, f);
            break;
          case 'DATA':
            expect(f.records.every((x) => isView(x.bytes, b) && x.bytes.length >= 1), 'a record is empty or a copy');
            again = dataFrame(f.records.map((x) => [x.kind, x.total, x.bytes]));
            break;
          case 'ABORT':
            expect(/^[A-Z][A-Z0-9_]{0,31}$/.test(f.code) && f.reason.length <= 512, 'ABORT code or reason out of bounds');
            break;
        }
        if (again) expect(same(again, b), `a decoded ${f.type} does not re-encode to its bytes`);
      },
    };
  },
});

// ------------------------------------------------------------------------------------------ link control

export const control = target({
  name: 'link-control',
  what: 'decodeControl (shared/stx/link/control.ts)',
  cases: 50_000,
  ci: 4_000,
  prepare: () => {
    const seeds = [encodePing(), encodePong(), encodeBye('page closed'), encodeClose(5, 40), encodeClosed(5)];
    return {
      arb: hostileBytes(seeds, { maxLength: 400 }),
      show: (b) => hex(b),
      check: (b) => {
        const m = decodeControl(b);
        if (!m) return;
        if (m.type === 'close') expect(same(encodeClose(m.stream, m.count), b), 'CLOSE does not re-encode');
        if (m.type === 'closed') expect(same(encodeClosed(m.stream), b), 'CLOSED does not re-encode');
        if (m.type === 'bye') expect(te.encode(m.reason).length <= 3 * 200, 'BYE reason over its bound');
      },
    };
  },
});

// ------------------------------------------------------------------------------------------------- SDP

const SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':'),
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
  'a=candidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host',
  '',
].join('\r\n');
const SDP_TOKENS = [...SDP.split('\r\n').map((l) => l + '\r\n'), 'a=max-message-size:0\r\n', 'a=max-message-size:999999999999999\r\n', 'a=fingerprint:sha-1 AA:BB\n', 'm=application ', 'webrtc-datachannel', '\n'];

export const sdp = target({
  name: 'sdp',
  what: 'checkRemoteSdp, parseFingerprint, parseMaxMessageSize, withMaxMessageSize (shared/stx/link/sdp.ts)',
  cases: 30_000,
  ci: 2_000,
  prepare: () => ({
    arb: fc.oneof(
      tokenSoup(SDP_TOKENS, 20),
      mutated([te.encode(SDP)]).map((b) => new TextDecoder().decode(b)),
      fc.constant(SDP),
      fc.anything().map((x) => x as unknown as string),
    ),
    show: (s) => JSON.stringify(s),
    check: (s) => {
      let ok = true;
      try {
        checkRemoteSdp(s, 'offer');
      } catch (e) {
        ok = false;
        stxCode(e, ['BAD_PARAM'], 'checkRemoteSdp');
      }
      if (!ok) return;
      expect(typeof s === 'string' && s.startsWith('v=0') && s.length <= 64 * 1024, 'checkRemoteSdp let through what it should refuse');
      expect(parseFingerprint(s) !== undefined, 'checked, but no fingerprint');
      const max = parseMaxMessageSize(s);
      expect(Number.isSafeInteger(max) && max >= 0, `max-message-size ${max}`);
      try {
        expect(parseMaxMessageSize(withMaxMessageSize(s, 65536)) === 65536, 'withMaxMessageSize did not take');
      } catch (e) {
        stxCode(e, ['BAD_PARAM'], 'withMaxMessageSize');
      }
    },
  }),
});

// ------------------------------------------------------------------------------------------ sync wire

const GUIDS = ['0f5e2c1a-9b7d-4e3f-8a6b-1c2d3e4f5a6b', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '0F5E2C1A-9B7D-4E3F-8A6B-1C2D3E4F5A6B'];
const INTS = ['0', '1', '01', '-1', '255', '256', '2147483647', '2147483648', '9007199254740991', '9007199254740992', '1e3', '0x10', ' 1', '', '\u0661'];
const attrValue = fc.oneof(fc.constantFrom(...GUIDS, ...INTS, '0100', 'ffff', 'zzzz', 'A'.repeat(22), 'A'.repeat(65), 'a+b/c='), fc.string({ maxLength: 24 }));

export const wire = target({
  name: 'sync-wire',
  what: 'decodeVector, intParam, guidParam, typeParam, ticketParam (shared/sync/wire.ts)',
  cases: 60_000,
  ci: 5_000,
  prepare: () => {
    const seeds = [
      encodeVector([]),
      encodeVector([{ type: 0x100, origin: GUIDS[0], upTo: 5 }]),
      encodeVector([{ type: 0x101, origin: GUIDS[0], upTo: 2 ** 53 - 1 }, { type: 0x102, origin: GUIDS[2], upTo: 0 }]),
    ];
    const fields: Field[] = [{ at: 0, width: 4 }, { at: 4 + 18, width: 4 }, { at: 4 + 22, width: 4 }, { at: 4, width: 2 }];
    return {
      arb: fc.tuple(hostileBytes(seeds, { fields, maxLength: 200 }), fc.dictionary(fc.constantFrom('stream', 'key', 'rate', 'type', 'origin', 'from', 'to', 'x'), attrValue, { maxKeys: 6 })),
      show: ([b, attrs]) => `${hex(b)} ${JSON.stringify(attrs)}`,
      check: ([b, attrs]) => {
        try {
          const v = decodeVector(b);
          expect(same(encodeVector(v), b), 'a decoded vector does not re-encode to its bytes');
        } catch (e) {
          stxCode(e, ['BAD_PARAM'], 'decodeVector');
        }
        const params: [string, () => unknown][] = [
          ['intParam', () => expect(Number.isSafeInteger(intParam(attrs, 'from', 1000, 0)), 'intParam')],
          ['guidParam', () => guidParam(attrs, 'origin')],
          ['typeParam', () => expect(typeParam(attrs) <= 0xffff, 'typeParam')],
          ['ticketParam', () => {
            const t = ticketParam(attrs);
            expect(t.stream <= 2 ** 31 - 1 && Number.isSafeInteger(t.rate), 'ticketParam bounds');
          }],
        ];
        for (const [what, f] of params) {
          try {
            f();
          } catch (e) {
            stxCode(e, ['BAD_PARAM'], what);
          }
        }
      },
    };
  },
});

// ------------------------------------------------------------------------------------------ ring records

function fixRecord(b: Uint8Array): Uint8Array {
  if (b.length >= 64) new DataView(b.buffer, b.byteOffset).setUint32(56, crc32c(b, 0, 0, 56), true);
  if (b.length >= PREFIX_SIZE + 64) new DataView(b.buffer, b.byteOffset + 64).setUint32(20, crc32c(b, 0, 64, 84), true);
  return b;
}

export const ringRecord = target({
  name: 'ring-record',
  what: 'readPrefix, decodeSuperblock (shared/ring/record.ts)',
  cases: 60_000,
  ci: 5_000,
  prepare: () => {
    // superblock at 0, a record prefix at 64
    const seed = (sb: Parameters<typeof encodeSuperblock>[0], magic: number, length: number, recSeq: number) => {
      const out = new Uint8Array(64 + PREFIX_SIZE + 8);
      out.set(encodeSuperblock(sb));
      writePrefix(out, 64, { magic, length, recSeq, check: 0xdeadbeef });
      return out;
    };
    const seeds = [
      seed({ generation: 1, capacity: 1 << 20, tail: 8192, tailRecSeq: 1, head: 9000, headRecSeq: 4 }, REC_MAGIC, 600, 3),
      seed({ generation: 2 ** 40, capacity: 2 ** 50, tail: 0, tailRecSeq: 0, head: 2 ** 50, headRecSeq: 2 ** 53 - 1 }, WRAP_MAGIC, 0, 2 ** 52),
    ];
    const fields: Field[] = [...[8, 16, 24, 32, 40, 48].map((at): Field => ({ at, width: 8 })), { at: 68, width: 4 }, { at: 72, width: 8 }, { at: 4, width: 2 }];
    return {
      arb: fc.tuple(hostileBytes(seeds, { fields, fix: fixRecord, maxLength: 200 }), fc.constantFrom(0, 64, 3, 200)),
      show: ([b, at]) => `at=${at} ${hex(b)}`,
      check: ([b, at]) => {
        const sb = decodeSuperblock(b);
        if (sb) {
          expect(Object.values(sb).every((x) => Number.isSafeInteger(x) && x >= 0), 'superblock fields out of range');
          // bytes 6-7 and 60-63 are not read (reserved; the checksum covers 6-7): the fields must re-encode
          const again = encodeSuperblock(sb);
          expect(same(again.subarray(8, 56), b.subarray(8, 56)) && same(again.subarray(0, 6), b.subarray(0, 6)), 'a decoded superblock does not re-encode');
        }
        const p = readPrefix(b, at);
        if (p) {
          expect(p.magic === REC_MAGIC || p.magic === WRAP_MAGIC, 'prefix magic');
          // recSeq is not range-checked (a u64 read as a double: above 2^53 it is inexact); the ring is local
          // storage, trusted (docs/SECURITY.md). Within the safe range a prefix re-encodes to its bytes.
          expect(Number.isFinite(p.recSeq) && p.recSeq >= 0 && p.length >= 0, 'prefix fields');
          if (Number.isSafeInteger(p.recSeq)) {
            const out = new Uint8Array(PREFIX_SIZE);
            writePrefix(out, 0, p);
            expect(same(out, b.subarray(at, at + PREFIX_SIZE)), 'a decoded prefix does not re-encode');
          }
        }
      },
    };
  },
});

export const codecTargets = [stu, batch, message, frames, control, sdp, wire, ringRecord];
