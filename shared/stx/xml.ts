// The XML of a message header: a tree of elements with attributes and text, a canonical serializer, and a
// parser for untrusted text. fast-xml-parser does the parsing; around it we refuse DTDs, entities beyond the
// five XML ones, comments, CDATA and processing instructions, and cap depth, elements and attributes.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { err, fail, ok, type StxResult } from './errors.ts';

export type Attrs = Record<string, string>;

/** One element: a name, attributes, and either text or child elements (never both: no mixed content). */
export interface StxNode {
  name: string;
  attrs?: Attrs;
  text?: string;
  children?: StxNode[];
}

/** A decoded element: every field present (text is '' when there are children or nothing). */
export interface XmlElement {
  name: string;
  attrs: Attrs;
  text: string;
  children: XmlElement[];
}

export interface XmlLimits {
  /** Deepest element below the root (the root's children are at depth 1). */
  maxDepth: number;
  /** Elements below the root, in all. */
  maxElements: number;
  /** Attributes on one element. */
  maxAttributes: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 8, maxElements: 1024, maxAttributes: 32 };

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** Element and attribute names: ASCII, no namespaces, at most 64 characters, no JS-reserved words. */
export const isName = (s: string): boolean => NAME_RE.test(s) && s !== 'constructor' && s !== 'prototype';

// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** True if XML 1.0 can carry the string (no control characters but tab, LF, CR; no lone surrogates). */
export const isXmlSafe = (s: string): boolean => !XML_INVALID.test(s);

const ATTR_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
const escapeAttr = (s: string): string => s.replace(/[&<>"\t\n\r]/g, (c) => ATTR_ESC[c]);
const escapeText = (s: string): string => s.replace(/[&<>\r]/g, (c) => ATTR_ESC[c]);

// ------------------------------------------------------------------------------------------- serializing

/** Canonical XML of a root element. Throws StxError BAD_PARAM / XML_LIMIT on what a peer would refuse. */
export function serializeRoot(name: string, attrs: Attrs, children: StxNode[], limits: XmlLimits): string {
  const count = { elements: 0 };
  return element({ name, attrs, children }, 0, limits, count);
}

function element(n: StxNode, depth: number, limits: XmlLimits, count: { elements: number }): string {
  if (!isName(n.name)) throw err('BAD_PARAM', `bad element name ${JSON.stringify(n.name)}`);
  if (depth > limits.maxDepth) throw err('XML_LIMIT', `elements nest deeper than ${limits.maxDepth}`);
  if (depth > 0 && ++count.elements > limits.maxElements) throw err('XML_LIMIT', `more than ${limits.maxElements} elements`);
  let s = `<${n.name}`;
  const names = Object.keys(n.attrs ?? {});
  if (names.length > limits.maxAttributes) throw err('XML_LIMIT', `more than ${limits.maxAttributes} attributes on <${n.name}>`);
  for (const a of names) {
    const v = n.attrs![a];
    if (!isName(a)) throw err('BAD_PARAM', `bad attribute name ${JSON.stringify(a)}`);
    if (typeof v !== 'string' || !isXmlSafe(v)) throw err('BAD_PARAM', `attribute ${a} is not a string XML can carry`);
    s += ` ${a}="${escapeAttr(v)}"`;
  }
  const kids = n.children ?? [];
  const text = n.text ?? '';
  if (typeof text !== 'string' || !isXmlSafe(text)) throw err('BAD_PARAM', `text of <${n.name}> is not a string XML can carry`);
  if (kids.length > 0 && text !== '') throw err('BAD_PARAM', `<${n.name}> has both text and child elements`);
  if (kids.length === 0 && text === '') return `${s}/>`;
  s += '>';
  s += kids.length > 0 ? kids.map((k) => element(k, depth + 1, limits, count)).join('') : escapeText(text);
  return `${s}</${n.name}>`;
}

// ---------------------------------------------------------------------------------------------- parsing

/** The parsed root: its attributes and children. */
export interface ParsedRoot {
  attrs: Attrs;
  children: XmlElement[];
}

const parserFor = (maxDepth: number) =>
  new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: false,
    htmlEntities: false,
    allowBooleanAttributes: false,
    ignoreDeclaration: false,
    ignorePiTags: false,
    maxNestedTags: maxDepth + 2,
    onDangerousProperty: (name: string) => name,
  });
const parsers = new Map<number, XMLParser>();

// A self-closing root with quoted attributes and nothing after it (the validator lets text after `<a/>` pass).
const EMPTY_ROOT = /^<[A-Za-z][A-Za-z0-9_.-]*(?:\s+[^\s=<>"'/]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*\/>$/;

/** Parses untrusted header text whose root must be `<rootName>`. Never throws. */
export function parseRoot(text: string, rootName: string, limits: XmlLimits): StxResult<ParsedRoot> {
  if (XML_INVALID.test(text)) return fail('BAD_XML', 'control character or non-character in the header');
  const bang = text.indexOf('<!');
  if (bang >= 0) {
    if (/<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i.test(text)) return fail('DTD_REFUSED', 'DOCTYPE and entity declarations are refused');
    return fail('BAD_XML', 'comments and CDATA sections are not allowed in a header');
  }
  if (text.includes('<?')) return fail('BAD_XML', 'processing instructions and XML declarations are not allowed in a header');
  if (!new RegExp(`^<${rootName}[\\s/>]`).test(text)) return fail('BAD_HEADER', `the header must start with <${rootName}>`);
  let lt = 0;
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
    if (++lt > 2 * limits.maxElements + 2) return fail('XML_LIMIT', `more than ${limits.maxElements} elements`);
  }
  const trimmed = text.trimEnd();
  if (!new RegExp(`</${rootName}\\s*>$`).test(trimmed) && !EMPTY_ROOT.test(trimmed)) return fail('BAD_XML', 'text after the root element');
  let doc: unknown;
  try {
    const valid = XMLValidator.validate(trimmed);
    if (valid !== true) return fail('BAD_XML', `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
    let parser = parsers.get(limits.maxDepth);
    if (!parser) parsers.set(limits.maxDepth, (parser = parserFor(limits.maxDepth)));
    doc = parser.parse(trimmed);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/nested/i.test(msg)) return fail('XML_LIMIT', msg);
    return fail(/\[SECURITY\] Invalid name/.test(msg) ? 'BAD_HEADER' : 'BAD_XML', msg); // constructor, prototype
  }
  if (!Array.isArray(doc) || doc.length !== 1) return fail('BAD_XML', 'the header must hold exactly one root element');
  const count = { elements: 0 };
  const root = convert(doc[0], 0, limits, count);
  if (!root.ok) return root;
  if (root.value.name !== rootName) return fail('BAD_HEADER', `root element <${root.value.name}>, expected <${rootName}>`);
  if (root.value.text !== '') return fail('BAD_HEADER', `<${rootName}> carries text; parameters are attributes or elements`);
  return ok({ attrs: root.value.attrs, children: root.value.children });
}

function convert(raw: unknown, depth: number, limits: XmlLimits, count: { elements: number }): StxResult<XmlElement> {
  if (typeof raw !== 'object' || raw === null) return fail('BAD_XML', 'unexpected node');
  const keys = Object.keys(raw).filter((k) => k !== ':@');
  if (keys.length !== 1) return fail('BAD_XML', 'unexpected node');
  const name = keys[0];
  if (!isName(name)) return fail('BAD_HEADER', `element name ${JSON.stringify(name.slice(0, 64))} is not allowed`);
  if (depth > limits.maxDepth) return fail('XML_LIMIT', `elements nest deeper than ${limits.maxDepth}`);
  if (depth > 0 && ++count.elements > limits.maxElements) return fail('XML_LIMIT', `more than ${limits.maxElements} elements`);
  const rec = raw as Record<string, unknown>;
  const attrs: Attrs = {};
  const rawAttrs = (rec[':@'] ?? {}) as Record<string, unknown>;
  const names = Object.keys(rawAttrs);
  if (names.length > limits.maxAttributes) return fail('XML_LIMIT', `more than ${limits.maxAttributes} attributes on <${name}>`);
  for (const a of names) {
    const v = rawAttrs[a];
    if (!isName(a)) return fail('BAD_HEADER', `attribute name ${JSON.stringify(a.slice(0, 64))} is not allowed`);
    if (typeof v !== 'string' || v.includes('<')) return fail('BAD_XML', `bad value of attribute ${a}`);
    const u = unescapeXml(v);
    if (u === undefined) return fail('BAD_XML', `bad entity or character reference in attribute ${a}`);
    attrs[a] = u;
  }
  const body = rec[name];
  if (!Array.isArray(body)) return fail('BAD_XML', `unexpected content in <${name}>`);
  const children: XmlElement[] = [];
  let text = '';
  for (const item of body) {
    if (typeof item === 'object' && item !== null && '#text' in item) {
      text += String((item as Record<string, unknown>)['#text']);
      continue;
    }
    const child = convert(item, depth + 1, limits, count);
    if (!child.ok) return child;
    children.push(child.value);
  }
  if (children.length > 0) {
    if (text.trim() !== '') return fail('BAD_XML', `<${name}> mixes text and elements`);
    text = '';
  }
  const t = unescapeXml(text);
  if (t === undefined) return fail('BAD_XML', `bad entity or character reference in <${name}>`);
  return ok({ name, attrs, children, text: t });
}

const REF = /&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));/y;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const isXmlChar = (c: number) => c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);

/** Replaces the five XML entities and character references; undefined for anything else after `&`. */
export function unescapeXml(s: string): string | undefined {
  let i = s.indexOf('&');
  if (i < 0) return s;
  let out = '';
  let last = 0;
  while (i >= 0) {
    REF.lastIndex = i;
    const m = REF.exec(s);
    if (!m) return undefined;
    let ch: string;
    if (m[3] !== undefined) ch = NAMED[m[3]];
    else {
      const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
      if (!isXmlChar(cp)) return undefined;
      ch = String.fromCodePoint(cp);
    }
    out += s.slice(last, i) + ch;
    last = REF.lastIndex;
    i = s.indexOf('&', last);
  }
  return out + s.slice(last);
}
