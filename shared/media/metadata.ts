// The body of a MEDIA_META STU: an XML command that inserts the media object's metadata (title, duration,
// tracks with codec and codec configuration). Built here, parsed back here; format in docs/MEDIA.md.
// Parsing is for untrusted bytes: no DTD, no entity expansion beyond the five XML ones and character
// references, every field checked; failures are MediaErrors (BAD_XML, BAD_METADATA), never throws.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Result } from '../stu/errors.ts';
import { type Guid, isGuid } from '../stu/guid.ts';
import { fromBase64, toBase64 } from '../util/base64.ts';
import type { ConfigFormat, DemuxTrack, TrackKind } from './demux/types.ts';
import { CONFIG_FORMATS } from './demux/types.ts';
import { MediaError } from './errors.ts';

export const METADATA_VERSION = 1;
/** Largest metadata body we parse. */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024;
export const MAX_TITLE_LENGTH = 1024;

/** A track as the metadata records it: what the demuxer found, and what the frames added up to. */
export interface MediaTrack extends Omit<DemuxTrack, 'hasDts' | 'sourceId'> {
  frames: number;
  /** First presentation time, in ticks (may be negative: an AAC priming frame). */
  start: number;
  /** Presentation span in ticks: largest pts + duration, minus start. */
  duration: number;
}

export interface MediaMetadata {
  id: Guid;
  title: string;
  /** Seconds, from 0 (the first video frame) to the end of the longest track. */
  duration: number;
  /** Container the media was ingested from: mp4, mov, webm, matroska. */
  container: string;
  /** Size of the ingested file in bytes. */
  size: number;
  /** Frames (frame STUs) in all tracks. */
  frames: number;
  /** Bytes of frame data (frame STU bodies) in all tracks. */
  bytes: number;
  tracks: MediaTrack[];
}

const CODEC_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const LANG_RE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
// eslint-disable-next-line no-control-regex
const XML_REFUSED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** Removes characters XML 1.0 cannot carry and checks the length. Throws MediaError BAD_INPUT. */
export function cleanTitle(title: string): string {
  const t = title.replace(XML_INVALID, '').trim();
  if (t.length > MAX_TITLE_LENGTH) throw new MediaError('BAD_INPUT', `title longer than ${MAX_TITLE_LENGTH} characters`);
  return t;
}

/** The XML text of a metadata command. Throws TypeError/MediaError on caller mistakes (bad codec, id). */
export function buildMetadataXml(m: MediaMetadata): string {
  if (!isGuid(m.id)) throw new TypeError(`not a GUID: ${m.id}`);
  const lines = [
    `<insert object="${m.id}">`,
    `  <media version="${METADATA_VERSION}">`,
    `    <title>${escapeText(cleanTitle(m.title))}</title>`,
    `    <duration>${fmtSeconds(m.duration)}</duration>`,
    `    <container>${escapeText(m.container)}</container>`,
    `    <size>${int(m.size)}</size>`,
    `    <frames>${int(m.frames)}</frames>`,
    `    <bytes>${int(m.bytes)}</bytes>`,
    `    <tracks>`,
  ];
  for (const t of m.tracks) {
    if (!CODEC_RE.test(t.codec)) throw new TypeError(`bad codec string ${t.codec}`);
    if (t.language !== undefined && !LANG_RE.test(t.language)) throw new TypeError(`bad language ${t.language}`);
    let a = `index="${int(t.index)}" kind="${t.kind}" codec="${t.codec}" timescale="${int(t.timescale)}" frames="${int(t.frames)}" start="${int(t.start)}" duration="${int(t.duration)}"`;
    if (t.kind === 'video') {
      if (t.width) a += ` width="${int(t.width)}"`;
      if (t.height) a += ` height="${int(t.height)}"`;
    } else {
      if (t.sampleRate) a += ` sampleRate="${int(t.sampleRate)}"`;
      if (t.channels) a += ` channels="${int(t.channels)}"`;
    }
    if (t.language) a += ` language="${t.language}"`;
    if (t.config) {
      lines.push(`      <track ${a}>`);
      lines.push(`        <config format="${t.config.format}">${toBase64(t.config.data)}</config>`);
      lines.push(`      </track>`);
    } else lines.push(`      <track ${a}/>`);
  }
  lines.push('    </tracks>', '  </media>', '</insert>', '');
  return lines.join('\n');
}

export const encodeMetadata = (m: MediaMetadata): Uint8Array => new TextEncoder().encode(buildMetadataXml(m));

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer: ${n}`);
  return String(n);
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) throw new TypeError(`bad duration ${s}`);
  return (Math.round(s * 1e6) / 1e6).toFixed(6).replace(/\.?0+$/, '') || '0';
}

// ---------------------------------------------------------------------------------------------- parsing

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  allowBooleanAttributes: false,
  isArray: (name) => name === 'track' || name === 'config',
});

const badXml = (msg: string): Result<never, MediaError> => ({ ok: false, error: new MediaError('BAD_XML', msg) });
class Bad extends Error {}
const bad = (msg: string): never => {
  throw new Bad(msg);
};

/** Parses a metadata body (bytes or text). Never throws. */
export function parseMetadata(body: Uint8Array | string): Result<MediaMetadata, MediaError> {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    if (body.length > MAX_METADATA_BYTES) return { ok: false, error: new MediaError('TOO_LARGE', `metadata of ${body.length} bytes`) };
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      return badXml('metadata is not UTF-8');
    }
  }
  if (text.length > MAX_METADATA_BYTES) return { ok: false, error: new MediaError('TOO_LARGE', `metadata of ${text.length} characters`) };
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) return badXml('DOCTYPE and entity declarations are refused');
  if (XML_REFUSED.test(text)) return badXml('a control character or non-character XML 1.0 cannot carry');
  let doc: any;
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) return badXml(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
    doc = parser.parse(text);
  } catch (e) {
    return badXml(e instanceof Error ? e.message : String(e));
  }
  try {
    return { ok: true, value: readDocument(doc) };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, error: new MediaError('BAD_METADATA', e.message) };
    return { ok: false, error: new MediaError('BAD_METADATA', e instanceof Error ? e.message : String(e)) };
  }
}

/** Parses or throws the MediaError (for callers that prefer exceptions). */
export function parseMetadataOrThrow(body: Uint8Array | string): MediaMetadata {
  const r = parseMetadata(body);
  if (!r.ok) throw r.error;
  return r.value;
}

function readDocument(doc: any): MediaMetadata {
  const keys = Object.keys(doc ?? {});
  if (keys.length !== 1 || keys[0] !== 'insert') bad(`expected one <insert> command, found ${keys.map((k) => `<${k}>`).join(', ') || 'nothing'}`);
  const insert = doc.insert;
  if (typeof insert !== 'object' || insert === null) bad('<insert> is empty');
  const id = attr(insert, 'object');
  if (!isGuid(id)) bad(`<insert object="${String(id)}"> is not a GUID`);
  const media = insert.media;
  if (typeof media !== 'object' || media === null || Array.isArray(media)) bad('<insert> holds no single <media>');
  const version = attr(media, 'version');
  if (version !== String(METADATA_VERSION)) bad(`media metadata version ${String(version)}, this build reads ${METADATA_VERSION}`);
  const title = decodeEntities(text(media.title, 'title', true));
  if (title.length > MAX_TITLE_LENGTH) bad('title too long');
  // a character reference can still name what the encoder never writes (U+FFFE, a leading space): refused,
  // so that every state re-encodes to itself (a summary gives the state back)
  if (cleanTitle(title) !== title) bad('the title holds characters a metadata title cannot carry');
  const duration = Number(text(media.duration, 'duration'));
  if (!/^\d+(\.\d+)?$/.test(text(media.duration, 'duration')) || !Number.isFinite(duration)) bad('bad <duration>');
  const container = decodeEntities(text(media.container, 'container'));
  if (!/^[a-z0-9]{1,16}$/.test(container)) bad(`bad <container> ${container}`);
  const tracksEl = media.tracks;
  const list: any[] = typeof tracksEl === 'object' && tracksEl !== null ? (tracksEl.track ?? []) : [];
  if (!Array.isArray(list) || list.length === 0) bad('no <track>');
  if (list.length > 64) bad('too many tracks');
  const tracks = list.map(readTrack);
  for (let i = 0; i < tracks.length; i++) if (tracks[i].index !== i) bad(`track indexes must be 0..${tracks.length - 1} in order`);
  return {
    id: id as Guid,
    title,
    duration,
    container,
    size: uint(text(media.size, 'size'), 'size'),
    frames: uint(text(media.frames, 'frames'), 'frames'),
    bytes: uint(text(media.bytes, 'bytes'), 'bytes'),
    tracks,
  };
}

function readTrack(t: any): MediaTrack {
  if (typeof t !== 'object' || t === null) bad('empty <track>');
  const kind = attr(t, 'kind');
  if (kind !== 'video' && kind !== 'audio') bad(`track kind ${String(kind)}`);
  const codec = attr(t, 'codec');
  if (typeof codec !== 'string' || !CODEC_RE.test(codec)) bad(`bad codec ${String(codec)}`);
  const out: MediaTrack = {
    index: uint(attr(t, 'index'), 'index'),
    kind: kind as TrackKind,
    codec: codec as string,
    timescale: uint(attr(t, 'timescale'), 'timescale'),
    frames: uint(attr(t, 'frames'), 'frames'),
    start: sint(attr(t, 'start'), 'start'),
    duration: uint(attr(t, 'duration'), 'duration'),
  };
  if (out.timescale < 1 || out.timescale > 0xffff_ffff) bad(`timescale ${out.timescale}`);
  // 0 reads as absent: the encoder leaves a 0 out, so a state re-encodes to itself
  const opt = (name: string) => (attr(t, name) === undefined ? undefined : uint(attr(t, name), name) || undefined);
  if (kind === 'video') {
    out.width = opt('width');
    out.height = opt('height');
  } else {
    out.sampleRate = opt('sampleRate');
    out.channels = opt('channels');
  }
  const lang = attr(t, 'language');
  if (lang !== undefined) {
    if (typeof lang !== 'string' || !LANG_RE.test(lang)) bad(`bad language ${String(lang)}`);
    out.language = lang as string;
  }
  const configs = t.config;
  if (configs !== undefined) {
    if (!Array.isArray(configs) || configs.length !== 1) bad('a track has at most one <config>');
    const c = configs[0];
    const format = attr(c, 'format');
    if (!CONFIG_FORMATS.includes(format as ConfigFormat)) bad(`unknown config format ${String(format)}`);
    const b64 = typeof c === 'object' ? (c['#text'] ?? '') : '';
    const data = fromBase64(String(b64));
    if (!data) bad('config is not base64');
    out.config = { format: format as ConfigFormat, data: data! };
  }
  return out;
}

function attr(el: any, name: string): string | undefined {
  if (typeof el !== 'object' || el === null) return undefined;
  const v = el[`@${name}`];
  return typeof v === 'string' ? decodeEntities(v) : v === undefined ? undefined : bad(`attribute ${name} is not text`);
}

function text(v: any, name: string, allowEmpty = false): string {
  if (v === undefined) return bad(`missing <${name}>`);
  if (Array.isArray(v)) return bad(`more than one <${name}>`);
  if (typeof v === 'object' && v !== null) {
    if (Object.keys(v).some((k) => k !== '#text')) bad(`<${name}> has children or attributes`);
    v = v['#text'] ?? '';
  }
  const s = String(v);
  if (!allowEmpty && s === '') bad(`empty <${name}>`);
  return s;
}

function uint(v: string | undefined, name: string): number {
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v)) return bad(`${name} must be a non-negative integer, got ${String(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) bad(`${name} out of range`);
  return n;
}

function sint(v: string | undefined, name: string): number {
  if (typeof v !== 'string' || !/^-?\d{1,16}$/.test(v)) return bad(`${name} must be an integer, got ${String(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) bad(`${name} out of range`);
  return n;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The five predefined XML entities and character references; anything else is refused (no DTD). */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{0,10});?/g, (m, name: string) => {
    if (!m.endsWith(';')) return bad('a bare & in text');
    if (name in NAMED) return NAMED[name];
    const num = /^#(\d{1,7})$/.exec(name) ?? /^#x([0-9a-fA-F]{1,6})$/.exec(name);
    if (num) {
      const cp = name[1] === 'x' ? parseInt(num[1], 16) : parseInt(num[1], 10);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp < 0x20 && cp !== 9 && cp !== 10 && cp !== 13)) bad(`bad character reference ${m}`);
      return String.fromCodePoint(cp);
    }
    return bad(`unknown entity ${m}`);
  });
}
