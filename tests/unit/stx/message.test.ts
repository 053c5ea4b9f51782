import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StxError } from '../../../shared/stx/errors.ts';
import { decodeMessage, encodeMessage, headerXml, type Message, param, SEPARATOR, type StxMessage, type StxNode } from '../../../shared/stx/message.ts';
import { isXmlSafe } from '../../../shared/stx/xml.ts';
import { hex, toHex } from './helpers.ts';

const enc = new TextEncoder();
const raw = (header: string, body: Uint8Array = new Uint8Array(0)) => {
  const h = enc.encode(header);
  const out = new Uint8Array(h.length + SEPARATOR.length + body.length);
  out.set(h);
  out.set(SEPARATOR, h.length);
  out.set(body, h.length + SEPARATOR.length);
  return out;
};
const code = (bytes: Uint8Array, limits = {}) => {
  const r = decodeMessage(bytes, limits);
  return r.ok ? 'ok' : r.error.code;
};
const decoded = (bytes: Uint8Array): Message => {
  const r = decodeMessage(bytes);
  if (!r.ok) throw r.error;
  return r.value;
};
const norm = (n: StxNode): unknown => ({
  name: n.name,
  attrs: n.attrs ?? {},
  text: n.children?.length ? '' : (n.text ?? ''),
  children: (n.children ?? []).map(norm),
});

// The golden message (format v1): GetSTU, request id 42, one <range> element, and an 8-byte body that itself
// contains the separator (the body is opaque: only the first separator counts).
const GOLDEN = hex(`
  3c737478206d6574686f643d22476574535455222069643d223432223e3c7261
  6e676520747970653d223322206f726967696e3d2230663565326331612d3962
  37642d346533662d386136622d316332643365346635613662222066726f6d3d
  22313530312220746f3d2231363030222f3e3c2f7374783e001e1f00dead001e
  1f00beef`);

describe('message: golden bytes', () => {
  it('decodes the golden message and re-encodes it byte for byte', () => {
    const m = decoded(GOLDEN);
    expect(m.method).toBe('GetSTU');
    expect(m.id).toBe(42);
    expect(m.attrs).toEqual({});
    expect(m.children).toEqual([
      { name: 'range', attrs: { type: '3', origin: '0f5e2c1a-9b7d-4e3f-8a6b-1c2d3e4f5a6b', from: '1501', to: '1600' }, text: '', children: [] },
    ]);
    expect(toHex(m.body)).toBe('dead001e1f00beef');
    expect(m.body.buffer).toBe(GOLDEN.buffer); // a view, not a copy
    expect(toHex(encodeMessage(m))).toBe(toHex(GOLDEN));
  });
  it('writes the header as canonical XML', () => {
    expect(headerXml({ method: 'Reply', id: 7, attrs: { a: 'x"<&>\t\n\r' }, children: [{ name: 't', text: 'a<b & c\r\n' }, { name: 'e' }] })).toBe(
      '<stx method="Reply" id="7" a="x&quot;&lt;&amp;&gt;&#9;&#10;&#13;"><t>a&lt;b &amp; c&#13;\n</t><e/></stx>',
    );
    expect(headerXml({ method: 'Ack' })).toBe('<stx method="Ack"/>');
  });
});

describe('message: round trips', () => {
  const cases: StxMessage[] = [
    { method: 'Ack', id: 1 },
    { method: 'Unregister', attrs: { server: '0f5e2c1a-9b7d-4e3f-8a6b-1c2d3e4f5a6b', reason: 'shutdown' } },
    { method: 'Register', id: Number.MAX_SAFE_INTEGER, attrs: { version: '0.1.0' }, children: [{ name: 'app', attrs: { name: 'media' } }, { name: 'held', children: [{ name: 'o', attrs: { seq: '5' } }] }] },
    { method: 'X', children: [{ name: 'title', text: '  Ünïcödé 🎬 <&> "quoted" \'single\'  ' }, { name: 'ws', text: '\n\t ' }] },
    { method: 'UpdateSTU', body: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff) },
  ];
  for (const c of cases) {
    it(`${c.method} ${JSON.stringify(c.attrs ?? {}).slice(0, 40)}`, () => {
      const bytes = encodeMessage(c);
      const m = decoded(bytes);
      expect(m.method).toBe(c.method);
      expect(m.id).toBe(c.id);
      expect(m.attrs).toEqual(c.attrs ?? {});
      expect(m.children).toEqual((c.children ?? []).map(norm));
      expect(toHex(m.body)).toBe(toHex(c.body ?? new Uint8Array(0)));
      expect(toHex(encodeMessage(m))).toBe(toHex(bytes));
    });
  }
  it('reads a parameter from an attribute or a child element', () => {
    const m = decoded(encodeMessage({ method: 'A', attrs: { a: '1' }, children: [{ name: 'b', text: '2' }] }));
    expect([param(m, 'a'), param(m, 'b'), param(m, 'c')]).toEqual(['1', '2', undefined]);
  });
  it('accepts what other writers may send: whitespace between elements, single quotes, char references', () => {
    const m = decoded(raw(`<stx method='A' v="&#x41;&#66;&apos;">\n  <p a='1'/>\n  <q>x&amp;y</q>\n</stx>\n`));
    expect(m.attrs).toEqual({ v: "AB'" });
    expect(m.children.map((c) => [c.name, c.attrs, c.text])).toEqual([
      ['p', { a: '1' }, ''],
      ['q', {}, 'x&y'],
    ]);
  });
});

describe('message: refusals', () => {
  const billionLaughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><stx method="A">&lol3;</stx>`;
  const table: [string, Uint8Array, string][] = [
    ['billion laughs', raw(billionLaughs), 'DTD_REFUSED'],
    ['billion laughs without the XML declaration', raw(billionLaughs.replace('<?xml version="1.0"?>', '')), 'DTD_REFUSED'],
    ['an ENTITY declaration alone', raw('<stx method="A"><!ENTITY x "y"></stx>'), 'DTD_REFUSED'],
    ['external entity', raw('<!DOCTYPE stx SYSTEM "file:///etc/passwd"><stx method="A"/>'), 'DTD_REFUSED'],
    ['an undeclared entity', raw('<stx method="A"><p>&lol;</p></stx>'), 'BAD_XML'],
    ['an HTML entity', raw('<stx method="A" a="&nbsp;"/>'), 'BAD_XML'],
    ['a bare ampersand', raw('<stx method="A"><p>a & b</p></stx>'), 'BAD_XML'],
    ['a reference to a control character', raw('<stx method="A" a="&#1;"/>'), 'BAD_XML'],
    ['a comment', raw('<stx method="A"><!-- hi --></stx>'), 'BAD_XML'],
    ['CDATA', raw('<stx method="A"><p><![CDATA[x]]></p></stx>'), 'BAD_XML'],
    ['a processing instruction', raw('<stx method="A"><?pi x?></stx>'), 'BAD_XML'],
    ['a control character', raw('<stx method="A" a="\u0001"/>'), 'BAD_XML'],
    ['< in an attribute', raw('<stx method="A" a="<"/>'), 'BAD_XML'],
    ['text after a self-closing root', raw('<stx method="A"/>junk/>'), 'BAD_XML'],
    ['text after the root', raw('<stx method="A"></stx>junk'), 'BAD_XML'],
    ['two roots', raw('<stx method="A"></stx><stx method="B"></stx>'), 'BAD_XML'],
    ['an unclosed element', raw('<stx method="A"><p></stx>'), 'BAD_XML'],
    ['a repeated attribute', raw('<stx method="A" method="B"/>'), 'BAD_XML'],
    ['a boolean attribute', raw('<stx method="A" flag/>'), 'BAD_XML'],
    ['mixed content', raw('<stx method="A"><p>x<q/>y</p></stx>'), 'BAD_XML'],
    ['text in the root', raw('<stx method="A">x</stx>'), 'BAD_HEADER'],
    ['another root', raw('<stux method="A"/>'), 'BAD_HEADER'],
    ['leading whitespace', raw(' <stx method="A"/>'), 'BAD_HEADER'],
    ['a byte-order mark', raw('\ufeff<stx method="A"/>'), 'BAD_HEADER'],
    ['no method', raw('<stx id="1"/>'), 'BAD_HEADER'],
    ['a bad method name', raw('<stx method="a b"/>'), 'BAD_HEADER'],
    ['a namespaced element', raw('<stx method="A"><x:p/></stx>'), 'BAD_HEADER'],
    ['a JS-reserved element name', raw('<stx method="A"><constructor/></stx>'), 'BAD_HEADER'],
    ['a JS-reserved attribute name', raw('<stx method="A" prototype="1"/>'), 'BAD_HEADER'],
    ['id 0', raw('<stx method="A" id="0"/>'), 'BAD_HEADER'],
    ['an id with a leading zero', raw('<stx method="A" id="07"/>'), 'BAD_HEADER'],
    ['an id past 2^53', raw('<stx method="A" id="9007199254740993"/>'), 'BAD_HEADER'],
    ['a negative id', raw('<stx method="A" id="-1"/>'), 'BAD_HEADER'],
    ['no separator', enc.encode('<stx method="A"/>'), 'NO_SEPARATOR'],
    ['a broken separator', Uint8Array.of(...enc.encode('<stx method="A"/>'), 0, 0x1e, 0x1e, 0), 'NO_SEPARATOR'],
    ['a separator cut short', Uint8Array.of(...enc.encode('<stx method="A"/>'), 0, 0x1e), 'NO_SEPARATOR'],
    ['an empty header', SEPARATOR, 'BAD_HEADER'],
    ['a header that is not UTF-8', Uint8Array.of(0x3c, 0xff, 0xfe, ...SEPARATOR), 'BAD_UTF8'],
    ['an empty buffer', new Uint8Array(0), 'NO_SEPARATOR'],
  ];
  for (const [name, bytes, want] of table) it(`refuses ${name} with ${want}`, () => expect(code(bytes)).toBe(want));

  it('refuses a header past maxHeaderBytes without looking further', () => {
    const big = raw(`<stx method="A" a="${'x'.repeat(200)}"/>`);
    expect(code(big, { maxHeaderBytes: 100 })).toBe('TOO_LARGE');
    expect(code(big, { maxHeaderBytes: 300 })).toBe('ok');
  });
  it('refuses a body past maxBodyBytes', () => {
    const m = encodeMessage({ method: 'A', body: new Uint8Array(101) });
    expect(code(m, { maxBodyBytes: 100 })).toBe('TOO_LARGE');
  });
  it('caps depth, elements and attributes', () => {
    const deep = (n: number): string => (n === 0 ? '' : `<d>${deep(n - 1)}</d>`);
    expect(code(raw(`<stx method="A">${deep(8)}</stx>`))).toBe('ok');
    expect(code(raw(`<stx method="A">${deep(9)}</stx>`))).toBe('XML_LIMIT');
    expect(code(raw(`<stx method="A">${deep(5000)}</stx>`), { maxHeaderBytes: 64 * 1024, maxElements: 10_000 })).toBe('XML_LIMIT');
    expect(code(raw(`<stx method="A">${'<e/>'.repeat(1024)}</stx>`))).toBe('ok');
    expect(code(raw(`<stx method="A">${'<e/>'.repeat(1025)}</stx>`))).toBe('XML_LIMIT');
    expect(code(raw(`<stx method="A">${'<e></e>'.repeat(1025)}</stx>`), { maxHeaderBytes: 64 * 1024 })).toBe('XML_LIMIT');
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="1"`).join('');
    expect(code(raw(`<stx method="A"${attrs(31)}/>`))).toBe('ok'); // method + 31
    expect(code(raw(`<stx method="A"><p${attrs(33)}/></stx>`))).toBe('XML_LIMIT');
  });
});

describe('message: encoder refuses what a peer would refuse', () => {
  const table: [string, StxMessage, string][] = [
    ['a bad method', { method: '1x' }, 'BAD_PARAM'],
    ['a bad id', { method: 'A', id: 0 }, 'BAD_PARAM'],
    ['a fractional id', { method: 'A', id: 1.5 }, 'BAD_PARAM'],
    ['a reserved attribute', { method: 'A', attrs: { id: '3' } }, 'BAD_PARAM'],
    ['a control character', { method: 'A', attrs: { a: 'x\u0000' } }, 'BAD_PARAM'],
    ['a lone surrogate', { method: 'A', children: [{ name: 'p', text: '\ud800' }] }, 'BAD_PARAM'],
    ['mixed content', { method: 'A', children: [{ name: 'p', text: 'x', children: [{ name: 'q' }] }] }, 'BAD_PARAM'],
    ['a reserved name', { method: 'A', children: [{ name: 'constructor' }] }, 'BAD_PARAM'],
    ['too many elements', { method: 'A', children: Array.from({ length: 1025 }, () => ({ name: 'e' })) }, 'XML_LIMIT'],
    ['a header too large', { method: 'A', attrs: { a: 'x'.repeat(17 * 1024) } }, 'TOO_LARGE'],
    ['a body too large', { method: 'A', body: new Uint8Array(1024 * 1024 + 1) }, 'TOO_LARGE'],
  ];
  for (const [name, m, want] of table) {
    it(`throws ${want} for ${name}`, () => {
      let thrown: unknown;
      try {
        encodeMessage(m);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(StxError);
      expect((thrown as StxError).code).toBe(want);
    });
  }
});

// ---------------------------------------------------------------------------------------------- fuzzing

const nameArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,8}$/).filter((s) => s !== 'constructor' && s !== 'prototype');
const valueArb = fc.string({ unit: 'binary', maxLength: 24 }).filter(isXmlSafe);
const attrsArb = fc.dictionary(nameArb, valueArb, { maxKeys: 4 });
const { node } = fc.letrec<{ node: StxNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ name: nameArb, attrs: attrsArb, text: valueArb }),
    fc.record({ name: nameArb, attrs: attrsArb, children: fc.array(tie('node'), { maxLength: 3 }) }),
  ),
}));
const messageArb: fc.Arbitrary<StxMessage> = fc.record({
  method: nameArb,
  id: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
  attrs: attrsArb.map((a) => {
    delete a.method;
    delete a.id;
    return a;
  }),
  children: fc.array(node, { maxLength: 4 }),
  body: fc.uint8Array({ maxLength: 64 }),
});

/** Decoding never throws, fails only with a StxError, and a success points into the input. */
function checkDecode(bytes: Uint8Array): void {
  let r: ReturnType<typeof decodeMessage>;
  try {
    r = decodeMessage(bytes);
  } catch (e) {
    throw new Error(`decodeMessage threw ${String(e)}`);
  }
  if (!r.ok) {
    expect(r.error).toBeInstanceOf(StxError);
    return;
  }
  expect(r.value.body.buffer).toBe(bytes.buffer);
  expect(r.value.body.byteOffset + r.value.body.length).toBe(bytes.byteOffset + bytes.length);
}

const mutate = (bytes: Uint8Array, edits: { at: number; op: number; v: number }[]): Uint8Array => {
  let b = Array.from(bytes);
  for (const { at, op, v } of edits) {
    const i = b.length === 0 ? 0 : at % b.length;
    if (op === 0) b[i] = v;
    else if (op === 1) b.splice(i, 0, v);
    else if (op === 2) b.splice(i, 1);
    else b = b.slice(0, i);
  }
  return Uint8Array.from(b);
};
const editsArb = fc.array(fc.record({ at: fc.nat(), op: fc.integer({ min: 0, max: 3 }), v: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 });

describe('message: fuzz', () => {
  it('round-trips any message the encoder accepts (1,500 cases)', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeMessage(m);
        } catch (e) {
          expect((e as StxError).code).toMatch(/XML_LIMIT|TOO_LARGE/);
          return;
        }
        const d = decoded(bytes);
        expect([d.method, d.id, d.attrs]).toEqual([m.method, m.id, m.attrs]);
        expect(d.children).toEqual((m.children ?? []).map(norm));
        expect(toHex(encodeMessage(d))).toBe(toHex(bytes));
      }),
      { numRuns: 1500 },
    );
  });
  it('never throws on random bytes (3,000 cases)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), checkDecode), { numRuns: 3000 });
  });
  it('never throws on random text around a separator (2,000 cases)', () => {
    const xmlish = fc.string({ unit: fc.constantFrom(...'<stx method="A" id=1/>&;#!-[]?\'\n'.split('')), maxLength: 80 });
    fc.assert(fc.property(xmlish, fc.uint8Array({ maxLength: 8 }), (h, b) => checkDecode(raw(h, b))), { numRuns: 2000 });
  });
  it('never throws on mutated valid messages (4,000 cases)', () => {
    fc.assert(
      fc.property(messageArb, editsArb, (m, edits) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeMessage(m);
        } catch {
          return;
        }
        checkDecode(mutate(bytes, edits));
      }),
      { numRuns: 4000 },
    );
  });
});
