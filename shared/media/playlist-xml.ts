// The XML of playlist, channel and usage commands: `<ROOT version="1" object="GUID" …>` holding a list of
// empty op elements with attributes. Parsed as untrusted bytes, with the STX header parser
// (shared/stx/xml.ts): no DTD, no entities beyond the five XML ones and character references, no comments,
// CDATA or processing instructions, capped depth, element and attribute counts; UTF-8 (fatal) and a byte
// limit first. Every attribute is checked by its reader; unknown ones are refused. Format: docs/MEDIA.md.
import { isGuid, type Guid } from '../stu/guid.ts';
import { type Attrs, isXmlSafe, parseRoot, serializeRoot, type XmlElement, type XmlLimits } from '../stx/xml.ts';
import { badCommand, CommandError } from './playlist-errors.ts';

export const COMMAND_VERSION = 1;
/** Longest title of a playlist, clip or channel, in characters (as media titles). */
export const MAX_TITLE = 1024;
/** Largest time in milliseconds a command carries (about 285 years: beyond any media or schedule). */
export const MAX_MS = 2 ** 53 - 1;

export interface CommandLimits {
  maxBytes: number;
  maxOps: number;
}

export interface Op {
  name: string;
  attrs: Attrs;
}

export interface Command {
  object: Guid;
  /** The root's attributes other than version and object. */
  attrs: Attrs;
  ops: Op[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

/** Parses a command body whose root must be `<root>`. Throws CommandError (BAD_XML, BAD_COMMAND, TOO_LARGE). */
export function parseCommand(body: Uint8Array, root: string, limits: CommandLimits): Command {
  if (body.length > limits.maxBytes) throw new CommandError('TOO_LARGE', `a ${root} command of ${body.length} bytes (at most ${limits.maxBytes})`);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new CommandError('BAD_XML', `a ${root} command that is not UTF-8`);
  }
  const xmlLimits: XmlLimits = { maxDepth: 1, maxElements: limits.maxOps, maxAttributes: 16 };
  const r = parseRoot(text.trim(), root, xmlLimits);
  if (!r.ok) throw new CommandError(r.error.code === 'BAD_HEADER' ? 'BAD_COMMAND' : 'BAD_XML', r.error.message);
  const { version, object, ...rest } = r.value.attrs;
  if (version !== String(COMMAND_VERSION)) throw badCommand(`${root} command version ${String(version)}, this build reads ${COMMAND_VERSION}`);
  if (!isGuid(object)) throw badCommand(`<${root} object="${String(object)}">: not a GUID`);
  return { object, attrs: rest, ops: r.value.children.map(op) };
}

function op(el: XmlElement): Op {
  if (el.children.length > 0 || el.text.trim() !== '') throw badCommand(`<${el.name}> carries content; ops are empty elements with attributes`);
  return { name: el.name, attrs: el.attrs };
}

/** The bytes of a command. Throws CommandError TOO_LARGE over the limit, TypeError on a caller's mistake. */
export function buildCommand(root: string, object: Guid, attrs: Attrs, ops: Op[], limits: CommandLimits): Uint8Array {
  if (ops.length > limits.maxOps) throw new CommandError('TOO_LARGE', `${ops.length} ops in one ${root} command (at most ${limits.maxOps})`);
  const xml = serializeRoot(
    root,
    { version: String(COMMAND_VERSION), object, ...attrs },
    ops.map((o) => ({ name: o.name, attrs: o.attrs })),
    { maxDepth: 1, maxElements: limits.maxOps, maxAttributes: 16 },
  );
  const bytes = enc.encode(xml);
  if (bytes.length > limits.maxBytes) throw new CommandError('TOO_LARGE', `a ${root} command of ${bytes.length} bytes (at most ${limits.maxBytes})`);
  return bytes;
}

// --------------------------------------------------------------------------------------- attribute readers

/** Reads the attributes of one element; refuses any it does not know. */
export class AttrReader {
  constructor(
    private readonly where: string,
    private readonly attrs: Attrs,
    allowed: readonly string[],
  ) {
    for (const a of Object.keys(attrs)) if (!allowed.includes(a)) throw badCommand(`${where}: unknown attribute ${a}`);
  }

  has(name: string): boolean {
    return this.attrs[name] !== undefined;
  }

  str(name: string): string | undefined {
    return this.attrs[name];
  }

  need(name: string): string {
    const v = this.attrs[name];
    if (v === undefined) throw badCommand(`${this.where}: missing attribute ${name}`);
    return v;
  }

  guid(name: string): Guid {
    const v = this.need(name);
    if (!isGuid(v)) throw badCommand(`${this.where}: ${name}="${String(v).slice(0, 64)}" is not a GUID`);
    return v;
  }

  /** A non-negative integer number of milliseconds, decimal, no sign or leading zeros beyond "0". */
  ms(name: string): number {
    return this.uint(name, MAX_MS);
  }

  optMs(name: string): number | undefined {
    return this.has(name) ? this.ms(name) : undefined;
  }

  uint(name: string, max: number): number {
    const v = this.need(name);
    if (!/^(0|[1-9]\d{0,15})$/.test(v) || Number(v) > max) throw badCommand(`${this.where}: ${name}="${v.slice(0, 64)}" is not an integer from 0 to ${max}`);
    return Number(v);
  }

  title(name: string): string {
    const v = this.attrs[name] ?? '';
    if (v.length > MAX_TITLE) throw badCommand(`${this.where}: ${name} longer than ${MAX_TITLE} characters`);
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.need(name);
    if (!values.includes(v as T)) throw badCommand(`${this.where}: ${name}="${v.slice(0, 64)}" is not one of ${values.join(', ')}`);
    return v as T;
  }

  match(name: string, re: RegExp, what: string): string {
    const v = this.need(name);
    if (!re.test(v)) throw badCommand(`${this.where}: ${name}="${v.slice(0, 64)}" is not ${what}`);
    return v;
  }
}

// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** A title as a command carries it: characters XML cannot carry removed, trimmed, at most MAX_TITLE. */
export function cleanCommandTitle(title: string, what = 'title'): string {
  const t = title.replace(XML_INVALID, '').trim();
  if (t.length > MAX_TITLE) throw new CommandError('BAD_INPUT', `${what} longer than ${MAX_TITLE} characters`);
  if (!isXmlSafe(t)) throw new CommandError('BAD_INPUT', `${what} holds characters XML cannot carry`);
  return t;
}
