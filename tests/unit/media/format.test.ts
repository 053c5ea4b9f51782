// Byte formats of the media application: the frame fields in the STU type-specific area and the metadata
// XML. Golden fixtures in tests/fixtures/media/v1 (decode, check, re-encode to the same bytes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../../shared/util/base64.ts';
import { decodeFrameExt, encodeFrameExt, type FrameFields, FrameOff, isFrameHeader } from '../../../shared/media/frame.ts';
import { buildMetadataXml, encodeMetadata, type MediaMetadata, parseMetadata } from '../../../shared/media/metadata.ts';
import { FRAME, MEDIA_META, mediaStuTypeName, MediaStuType } from '../../../shared/media/stu-types.ts';
import { decodeStu, EXT_SIZE, Off } from '../../../shared/stu/header.ts';

const dir = join(import.meta.dirname, '../../fixtures/media/v1');
const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
const expected = JSON.parse(readFileSync(join(dir, 'frame-ext.json'), 'utf8')) as Record<string, FrameFields & { object?: string; body?: string }>;

describe('STU types', () => {
  it('are fixed numbers in the media range', () => {
    expect(MediaStuType).toEqual({ MEDIA_META: 0x100, FRAME: 0x101, PLAYLIST: 0x102, CHANNEL: 0x103, USAGE: 0x104 });
    expect(mediaStuTypeName(0x101)).toBe('FRAME');
    expect(mediaStuTypeName(7)).toBeUndefined();
  });
});

describe('frame fields (ext area, layout v1)', () => {
  for (const name of ['frame-ext.bin', 'frame-ext-large.bin']) {
    it(`golden ${name}: decodes, re-encodes to the same bytes`, () => {
      const bytes = fixture(name);
      expect(bytes.length).toBe(EXT_SIZE);
      const d = decodeFrameExt(bytes);
      expect(d.ok).toBe(true);
      if (!d.ok) return;
      expect(d.value).toEqual(expected[name]);
      expect(encodeFrameExt(d.value)).toEqual(bytes);
    });
  }

  it('golden frame-stu.bin: a whole FRAME data STU', () => {
    const s = decodeStu(fixture('frame-stu.bin'));
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(isFrameHeader(s.value.header)).toBe(true);
    expect(s.value.header.type).toBe(FRAME);
    expect(s.value.header.object).toBe(expected['frame-stu.bin'].object);
    expect(Buffer.from(s.value.body).toString('hex')).toBe(expected['frame-stu.bin'].body);
    const f = decodeFrameExt(s.value.header.ext);
    expect(f.ok && f.value.timescale).toBe(48000);
    // Documented offsets inside the header: ext starts at 104.
    const raw = fixture('frame-stu.bin');
    const v = new DataView(raw.buffer, raw.byteOffset);
    expect(v.getUint16(Off.ext + FrameOff.stream, true)).toBe(1);
    expect(v.getUint32(Off.ext + FrameOff.timescale, true)).toBe(48000);
    expect(v.getBigInt64(Off.ext + FrameOff.dts, true)).toBe(-1024n);
  });

  it('round-trips any valid fields', () => {
    fc.assert(
      fc.property(
        fc.record({
          stream: fc.integer({ min: 0, max: 0xffff }),
          timescale: fc.integer({ min: 1, max: 0xffff_ffff }),
          dts: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
          pts: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
          duration: fc.integer({ min: 0, max: 0xffff_ffff }),
          key: fc.boolean(),
          sample: fc.integer({ min: 0, max: 0xffff_ffff }),
        }),
        (f) => {
          const d = decodeFrameExt(encodeFrameExt(f));
          expect(d.ok && d.value).toEqual(f);
        },
      ),
    );
  });

  it('refuses bad ext areas with BAD_FRAME, never a throw', () => {
    const good = fixture('frame-ext.bin');
    const bad = (mutate: (b: Uint8Array) => void) => {
      const b = good.slice();
      mutate(b);
      const d = decodeFrameExt(b);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error.code).toBe('BAD_FRAME');
    };
    bad((b) => (b[FrameOff.version] = 2));
    bad((b) => (b[FrameOff.flags] = 0x80));
    bad((b) => b.fill(0, FrameOff.timescale, FrameOff.timescale + 4));
    bad((b) => (b[100] = 1));
    bad((b) => new DataView(b.buffer).setBigInt64(FrameOff.pts, 2n ** 62n, true));
    expect(decodeFrameExt(good.subarray(0, 100)).ok).toBe(false);
  });

  it('refuses caller mistakes with TypeError', () => {
    const f: FrameFields = { stream: 0, timescale: 1000, dts: 0, pts: 0, duration: 1, key: true, sample: 0 };
    expect(() => encodeFrameExt({ ...f, timescale: 0 })).toThrow(TypeError);
    expect(() => encodeFrameExt({ ...f, dts: 0.5 })).toThrow(TypeError);
    expect(() => encodeFrameExt({ ...f, stream: 70000 })).toThrow(TypeError);
    expect(() => encodeFrameExt({ ...f, duration: -1 })).toThrow(TypeError);
  });
});

describe('base64', () => {
  it('round-trips and refuses garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(fromBase64(toBase64(b))).toEqual(b);
      }),
    );
    expect(toBase64(new TextEncoder().encode('hello'))).toBe('aGVsbG8=');
    expect(fromBase64('aGVs bG8=')).toEqual(new TextEncoder().encode('hello'));
    for (const s of ['a', 'aGVsbG8', 'aG=sbG8=', 'aGVsbG8*', 'ä===']) expect(fromBase64(s)).toBeUndefined();
  });
});

describe('metadata XML', () => {
  const golden = readFileSync(join(dir, 'metadata.xml'), 'utf8');

  it('golden metadata.xml: parses, rebuilds to the same text', () => {
    const m = parseMetadata(new TextEncoder().encode(golden));
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    expect(m.value.title).toBe('Tom & Jerry <"live"> été');
    expect(m.value.tracks.map((t) => [t.codec, t.config?.format, t.config?.data.length])).toEqual([
      ['avc1.64001e', 'avcC', 19],
      ['mp4a.40.2', 'AudioSpecificConfig', 2],
    ]);
    expect(m.value.tracks[1]).toMatchObject({ start: -1024, sampleRate: 48000, channels: 2, language: 'eng' });
    expect(buildMetadataXml(m.value)).toBe(golden);
  });

  it('round-trips generated metadata', () => {
    const arbTrack = (index: number) =>
      fc.record({
        index: fc.constant(index),
        kind: fc.constantFrom('video' as const, 'audio' as const),
        codec: fc.constantFrom('avc1.64001f', 'hvc1.1.6.L93.90', 'vp09.00.10.08', 'av01.0.04M.08', 'mp4a.40.2', 'opus', 'vorbis'),
        timescale: fc.integer({ min: 1, max: 0xffff_ffff }),
        frames: fc.nat(),
        start: fc.integer({ min: -1e9, max: 1e9 }),
        duration: fc.nat(),
        config: fc.option(fc.record({ format: fc.constantFrom('avcC' as const, 'OpusHead' as const, 'xiph' as const), data: fc.uint8Array({ maxLength: 64 }) }), { nil: undefined }),
      });
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbTrack(i)))), (title, tracks) => {
        const m: MediaMetadata = { id: '11111111-2222-4333-8444-555555555555', title, duration: 12.5, container: 'webm', size: 10, frames: 3, bytes: 9, tracks };
        const p = parseMetadata(encodeMetadata(m));
        expect(p.ok).toBe(true);
        if (!p.ok) return;
        const clean = title.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').trim(); // eslint-disable-line no-control-regex
        expect(p.value.title).toBe(clean);
        expect(p.value.tracks.map((t) => ({ ...t, config: t.config && { ...t.config, data: [...t.config.data] } }))).toEqual(
          tracks.map((t) => {
            const o: any = { ...t, config: t.config && { ...t.config, data: [...t.config.data] } };
            if (o.config === undefined) delete o.config;
            return o;
          }),
        );
      }),
    );
  });

  const refused = (text: string, code: string, msg?: RegExp) => {
    const r = parseMetadata(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    if (msg) expect(r.error.message).toMatch(msg);
  };

  it('refuses a DOCTYPE (no DTD, no entity expansion)', () => {
    refused(`<!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>\n${golden.replace('Tom', '&a;')}`, 'BAD_XML', /DOCTYPE/);
    refused(`<!doctype insert>${golden}`, 'BAD_XML');
  });

  it('refuses malformed XML, bad UTF-8 and unknown entities', () => {
    refused('<insert><media>', 'BAD_XML');
    refused('not xml at all', 'BAD_XML');
    const r = parseMetadata(new Uint8Array([0x3c, 0xff, 0xfe, 0x3e]));
    expect(!r.ok && r.error.code).toBe('BAD_XML');
    refused(golden.replace('Tom &amp;', 'Tom &nbsp;'), 'BAD_METADATA', /entity/);
    refused(golden.replace('Tom &amp;', 'Tom &#0;'), 'BAD_METADATA');
  });

  it('refuses control characters and titles that would not re-encode to themselves (found by npm run fuzz)', () => {
    refused(golden.replace('Tom &amp;', '\u0000om &amp;'), 'BAD_XML', /control character/);
    refused(golden.replace('Tom &amp;', 'Tom \u0007'), 'BAD_XML');
    refused(golden.replace('Tom &amp;', 'Tom &#xFFFE;'), 'BAD_METADATA', /title/);
    refused(golden.replace('<title>Tom', '<title>&#32;Tom'), 'BAD_METADATA', /title/);
    const m = parseMetadata(golden);
    if (!m.ok) throw m.error;
    const again = parseMetadata(encodeMetadata(m.value));
    expect(again.ok && again.value).toEqual(m.value);
    const zero = parseMetadata(golden.replace('channels="2"', 'channels="0"').replace('width="640"', 'width="0"'));
    if (!zero.ok) throw zero.error;
    expect(zero.value.tracks[1].channels).toBeUndefined();
    expect(zero.value.tracks[0].width).toBeUndefined();
    const zeroAgain = parseMetadata(encodeMetadata(zero.value));
    expect(zeroAgain.ok && zeroAgain.value).toEqual(zero.value);
  });

  it('refuses well-formed XML that is not a media insert', () => {
    refused('<playlist/>', 'BAD_METADATA', /insert/);
    refused(golden.replace('object="11111111-2222-4333-8444-555555555555"', 'object="nope"'), 'BAD_METADATA', /GUID/);
    refused(golden.replace('version="1"', 'version="9"'), 'BAD_METADATA', /version/);
    refused(golden.replace('kind="video"', 'kind="smell"'), 'BAD_METADATA');
    refused(golden.replace('timescale="15360"', 'timescale="-5"'), 'BAD_METADATA');
    refused(golden.replace('timescale="15360"', 'timescale="0"'), 'BAD_METADATA');
    refused(golden.replace('codec="avc1.64001e"', 'codec="avc1 &lt;x"'), 'BAD_METADATA');
    refused(golden.replace('AWQAHv/hAARnZAAeAQAEaOvjyw==', '!!!'), 'BAD_METADATA', /base64/);
    refused(golden.replace('format="avcC"', 'format="zip"'), 'BAD_METADATA');
    refused(golden.replace('index="1"', 'index="5"'), 'BAD_METADATA');
    refused(golden.replace('<size>512345</size>', ''), 'BAD_METADATA', /size/);
    refused(golden.replace(/<tracks>[\s\S]*<\/tracks>/, '<tracks/>'), 'BAD_METADATA', /track/);
  });

  it('builds with a clean title and refuses caller mistakes', () => {
    const m = parseMetadata(golden);
    if (!m.ok) throw m.error;
    expect(buildMetadataXml({ ...m.value, title: 'a\u0000b\u0007c' })).toContain('<title>abc</title>');
    expect(() => buildMetadataXml({ ...m.value, title: 'x'.repeat(2000) })).toThrow(/title/);
    expect(() => buildMetadataXml({ ...m.value, id: 'x' })).toThrow(TypeError);
    expect(() => buildMetadataXml({ ...m.value, tracks: [{ ...m.value.tracks[0], codec: 'a"b' }] })).toThrow(TypeError);
  });

  it('is the body of a metadata STU type', () => {
    expect(MEDIA_META).toBe(0x100);
  });
});
