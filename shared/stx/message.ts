// One STX message: an XML header `<stx method=".." id="..">`, the separator 00 1E 1F 00, an opaque body.
// Layout and rules in docs/PROTOCOL.md. Encoding throws StxError on caller mistakes; decoding takes
// untrusted bytes, returns a typed Result, never throws, and allocates only the header text and its tree
// (both bounded by maxHeaderBytes and the XML caps): the body is a view into the input.
import { err, fail, ok, type StxResult } from './errors.ts';
import { type Attrs, DEFAULT_XML_LIMITS, isName, parseRoot, serializeRoot, type StxNode, type XmlElement, type XmlLimits } from './xml.ts';

export type { Attrs, StxNode, XmlElement } from './xml.ts';

/** Between header and body. 00 cannot occur in UTF-8 XML text, so the first 00 of a message starts it. */
export const SEPARATOR = Uint8Array.of(0x00, 0x1e, 0x1f, 0x00);
export const ROOT = 'stx';
/** Request ids are 1 .. 2^53-1, written in decimal without leading zeros. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

export interface MessageLimits extends XmlLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}
export const DEFAULT_MESSAGE_LIMITS: MessageLimits = { ...DEFAULT_XML_LIMITS, maxHeaderBytes: 16 * 1024, maxBodyBytes: 1024 * 1024 };

/** The defaults, overridden by every limit given (an undefined field keeps its default). */
export function messageLimits(given: Partial<MessageLimits> = {}): MessageLimits {
  const d = DEFAULT_MESSAGE_LIMITS;
  return {
    maxHeaderBytes: given.maxHeaderBytes ?? d.maxHeaderBytes,
    maxBodyBytes: given.maxBodyBytes ?? d.maxBodyBytes,
    maxDepth: given.maxDepth ?? d.maxDepth,
    maxElements: given.maxElements ?? d.maxElements,
    maxAttributes: given.maxAttributes ?? d.maxAttributes,
  };
}

/** A message to encode. Parameters are `attrs` (attributes of <stx>) and `children` (elements). */
export interface StxMessage {
  method: string;
  /** Request id: on a request (a reply is expected), and on the Reply/Ack that answers it. */
  id?: number;
  attrs?: Attrs;
  children?: StxNode[];
  body?: Uint8Array;
}

/** A decoded message: every field present; `body` is a view into the decoded buffer. */
export interface Message {
  method: string;
  id: number | undefined;
  attrs: Attrs;
  children: XmlElement[];
  body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ID_RE = /^[1-9][0-9]{0,15}$/;
const EMPTY = new Uint8Array(0);

export const isRequestId = (id: unknown): id is number => typeof id === 'number' && Number.isSafeInteger(id) && id >= 1 && id <= MAX_ID;

/** The header text of a message (canonical XML). Throws StxError BAD_PARAM / XML_LIMIT. */
export function headerXml(m: StxMessage, limits: XmlLimits = DEFAULT_XML_LIMITS): string {
  if (typeof m.method !== 'string' || !isName(m.method)) throw err('BAD_PARAM', `bad method name ${JSON.stringify(m.method)}`);
  const attrs: Attrs = { method: m.method };
  if (m.id !== undefined) {
    if (!isRequestId(m.id)) throw err('BAD_PARAM', `bad request id ${m.id}`);
    attrs.id = String(m.id);
  }
  for (const [k, v] of Object.entries(m.attrs ?? {})) {
    if (k === 'method' || k === 'id') throw err('BAD_PARAM', `attribute ${k} is reserved`);
    attrs[k] = v;
  }
  return serializeRoot(ROOT, attrs, m.children ?? [], limits);
}

/** Bytes of the message; one allocation. Throws StxError (BAD_PARAM, XML_LIMIT, TOO_LARGE). */
export function encodeMessage(m: StxMessage, limits: Partial<MessageLimits> = {}): Uint8Array {
  const l = messageLimits(limits);
  const xml = headerXml(m, l);
  const body = m.body ?? EMPTY;
  const hlen = utf8Length(xml);
  if (hlen > l.maxHeaderBytes) throw err('TOO_LARGE', `header of ${hlen} bytes exceeds ${l.maxHeaderBytes}`);
  if (body.length > l.maxBodyBytes) throw err('TOO_LARGE', `body of ${body.length} bytes exceeds ${l.maxBodyBytes}`);
  const out = new Uint8Array(hlen + SEPARATOR.length + body.length);
  encoder.encodeInto(xml, out.subarray(0, hlen));
  out.set(SEPARATOR, hlen);
  out.set(body, hlen + SEPARATOR.length);
  return out;
}

/** Decodes one message from untrusted bytes (the whole buffer is the message). Never throws. */
export function decodeMessage(buf: Uint8Array, limits: Partial<MessageLimits> = {}): StxResult<Message> {
  const l = messageLimits(limits);
  if (!(buf instanceof Uint8Array)) return fail('TRUNCATED', 'not a byte array');
  const window = Math.min(buf.length, l.maxHeaderBytes + SEPARATOR.length);
  const at = buf.subarray(0, window).indexOf(0);
  if (at < 0) {
    if (buf.length >= l.maxHeaderBytes + SEPARATOR.length) return fail('TOO_LARGE', `no separator in the first ${l.maxHeaderBytes} bytes (header limit)`, 0);
    return fail('NO_SEPARATOR', 'no header/body separator', 0);
  }
  for (let k = 1; k < SEPARATOR.length; k++) {
    if (at + k >= buf.length) return fail('NO_SEPARATOR', 'message ends inside the separator', at);
    if (buf[at + k] !== SEPARATOR[k]) return fail('NO_SEPARATOR', 'a 00 byte that does not start the separator', at);
  }
  if (at === 0) return fail('BAD_HEADER', 'empty header', 0);
  const bodyAt = at + SEPARATOR.length;
  if (buf.length - bodyAt > l.maxBodyBytes) return fail('TOO_LARGE', `body of ${buf.length - bodyAt} bytes exceeds ${l.maxBodyBytes}`, bodyAt);
  let text: string;
  try {
    text = decoder.decode(buf.subarray(0, at));
  } catch {
    return fail('BAD_UTF8', 'header is not UTF-8', 0);
  }
  const root = parseRoot(text, ROOT, l);
  if (!root.ok) return root;
  const { method, id, ...attrs } = root.value.attrs;
  if (method === undefined || !isName(method)) return fail('BAD_HEADER', 'missing or bad method');
  if (id !== undefined && (!ID_RE.test(id) || Number(id) > MAX_ID)) return fail('BAD_HEADER', `bad request id ${JSON.stringify(id.slice(0, 24))}`);
  return ok({ method, id: id === undefined ? undefined : Number(id), attrs, children: root.value.children, body: buf.subarray(bodyAt) });
}

/** A parameter: the attribute of that name, else the text of the first child element of that name. */
export function param(m: Pick<Message, 'attrs' | 'children'>, name: string): string | undefined {
  if (Object.hasOwn(m.attrs, name)) return m.attrs[name];
  return m.children.find((c) => c.name === name)?.text;
}

/** UTF-8 length of a well-formed string (no lone surrogates: the serializer refuses them). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
