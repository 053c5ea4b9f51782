// Media decoders on hostile bytes: the demuxers (MP4 boxes through mp4box, our own Matroska/EBML reader) and
// the timeline after them; the business-object apps that parse STU bodies from any server (media metadata
// XML, playlist, channel and usage commands); the frame STU's type-specific area; and the parameters of the
// upload and data-discovery methods, as a peer sends them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { bytesSource, ChunkReader, type ByteSource } from '../../shared/media/byte-source.ts';
import { channelApp, encodeChannelCommand } from '../../shared/media/channel.ts';
import { openDemuxer } from '../../shared/media/demux/open.ts';
import { MediaError } from '../../shared/media/errors.ts';
import { decodeFrameExt, encodeFrameExt } from '../../shared/media/frame.ts';
import { mediaApp } from '../../shared/media/app.ts';
import { parseMetadata } from '../../shared/media/metadata.ts';
import { encodePlaylistCommand, playlistApp } from '../../shared/media/playlist.ts';
import { CommandError } from '../../shared/media/playlist-errors.ts';
import { Timeline } from '../../shared/media/timeline.ts';
import { sanitizeName } from '../../shared/media/upload.ts';
import { serveUploads, type UploadStore } from '../../shared/media/upload-service.ts';
import { encodeUsageReport, usageApp } from '../../shared/media/usage.ts';
import type { StateApp } from '../../shared/state/types.ts';
import { type Guid, isGuid } from '../../shared/stu/guid.ts';
import { EXT_SIZE, Flag, type Stu } from '../../shared/stu/header.ts';
import { StxError, type StxErrorCode } from '../../shared/stx/errors.ts';
import type { Message } from '../../shared/stx/message.ts';
import type { XmlElement } from '../../shared/stx/xml.ts';
import { Discovery } from '../../shared/sync/discovery.ts';
import type { SyncHub } from '../../shared/sync/hub.ts';
import type { PeerSession } from '../../shared/sync/session.ts';
import { expect, hex, target, Unexpected } from '../lib/harness.ts';
import { bytesOf, type Field, hostileBytes, mutated, tokenSoup } from '../lib/mutate.ts';

const ROOT = join(import.meta.dirname, '../..');
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** Canonical JSON: bigints written out, object keys sorted (a summary may list a map in another order). */
const json = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return v instanceof Uint8Array ? [...v] : v;
  });

// ------------------------------------------------------------------------------------------------ demux

const MAX_FRAMES = 100_000;

/** Opens a demuxer on the bytes and runs every frame through the timeline, as ingest does. */
async function demux(b: Uint8Array): Promise<number> {
  let largestRead = 0;
  const inner = bytesSource(b);
  const source: ByteSource = {
    size: inner.size,
    read: (offset, length) => {
      largestRead = Math.max(largestRead, length);
      return inner.read(offset, length);
    },
  };
  const reader = new ChunkReader(source, 64 * 1024);
  let frames = 0;
  try {
    const d = await openDemuxer(reader, { maxFrame: 1 << 20, maxMoov: 1 << 20 });
    const timeline = new Timeline(d.tracks, d.startPts);
    for await (const raw of d.frames()) {
      expect(raw.data.length <= b.length, `a frame of ${raw.data.length} bytes from a file of ${b.length}`);
      expect(Number.isFinite(raw.pts), 'a frame without a finite pts');
      timeline.push(raw);
      if (++frames > MAX_FRAMES) throw new Unexpected(`more than ${MAX_FRAMES} frames from ${b.length} bytes`);
    }
    timeline.finish();
  } catch (e) {
    if (!(e instanceof MediaError)) throw e;
  }
  expect(largestRead <= Math.max(b.length, 64 * 1024), `a read of ${largestRead} bytes from a file of ${b.length}`);
  return frames;
}

const BOX_TYPES = ['ftyp', 'moov', 'mvhd', 'trak', 'tkhd', 'mdia', 'mdhd', 'hdlr', 'minf', 'stbl', 'stsd', 'stts', 'stsc', 'stsz', 'stco', 'co64', 'ctts', 'stss', 'edts', 'elst', 'mvex', 'trex', 'moof', 'mfhd', 'traf', 'tfhd', 'tfdt', 'trun', 'mdat', 'avc1', 'avcC', 'mp4a', 'esds', 'free', 'uuid'];

/** MP4 box soup: boxes of known types with sizes right, wrong or extreme, nested at random. */
const boxSoup: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.record({ type: fc.constantFrom(...BOX_TYPES), size: fc.constantFrom('right', 'right', 'right', 'zero', 'one', 'huge', 'small'), payload: fc.uint8Array({ maxLength: 40 }), nest: fc.nat(3) }),
    { minLength: 1, maxLength: 12 },
  )
  .map((boxes) => {
    // each box wraps the next `nest` ones (so moov > trak > mdia ... can appear)
    const build = (i: number): [Uint8Array, number] => {
      const b = boxes[i];
      let inner = b.payload;
      let next = i + 1;
      for (let k = 0; k < b.nest && next < boxes.length; k++) {
        const [child, after] = build(next);
        const joined = new Uint8Array(inner.length + child.length);
        joined.set(inner);
        joined.set(child, inner.length);
        inner = joined;
        next = after;
      }
      const out = new Uint8Array(8 + inner.length);
      const v = new DataView(out.buffer);
      const size = { right: out.length, zero: 0, one: 1, huge: 0xffffffff, small: 7 }[b.size];
      v.setUint32(0, size);
      for (let k = 0; k < 4; k++) out[4 + k] = b.type.charCodeAt(k);
      out.set(inner, 8);
      return [out, next];
    };
    const parts: Uint8Array[] = [];
    for (let i = 0; i < boxes.length; ) {
      const [p, next] = build(i);
      parts.push(p);
      i = next;
    }
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  });

export const demuxTarget = target({
  name: 'demux',
  what: 'openDemuxer, MP4 (shared/media/demux/mp4*.ts, boxes.ts, mp4box) and Matroska/WebM (mkv.ts, ebml.ts), then the timeline',
  cases: 150_000,
  ci: 1_500,
  async: true,
  chunk: 200,
  memoryProbe: true,
  prepare: async () => {
    const dir = join(import.meta.dirname, '../corpus');
    const seeds = readdirSync(dir).filter((f) => /\.(mp4|mov|webm|mkv)$/.test(f)).map((f) => new Uint8Array(readFileSync(join(dir, f))));
    for (const s of seeds) expect((await demux(s)) > 0, 'a corpus file gives no frames');
    // box sizes and EBML sizes near the start of every file
    const fields: Field[] = [0, 4, 8, 24, 28, 32, 36, 40, 44].map((at) => ({ at, width: 4 as const, le: false }));
    return {
      arb: fc.oneof({ weight: 8, arbitrary: mutated(seeds, { fields, maxMutations: 8 }) }, { weight: 2, arbitrary: boxSoup }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) }),
      show: (b) => hex(b, 16384),
      check: async (b) => {
        await demux(b);
      },
    };
  },
});

// --------------------------------------------------------------------------------- business-object apps

const G1 = '11111111-2222-4333-8444-555555555555';
const G2 = '0f5e2c1a-9b7d-4e3f-8a6b-1c2d3e4f5a6b';
const ORIGIN = '22222222-3333-4444-8555-666666666666';

function stuOf(body: Uint8Array, flags: number, type: number): Stu {
  const t = text(body);
  // a real header holds GUIDs (16 bytes decoded); the body's own object and server make the checks pass
  const guidIn = (re: RegExp, dflt: string) => {
    const g = re.exec(t)?.[1];
    return g !== undefined && isGuid(g) ? g : dflt;
  };
  const object = guidIn(/object="([^"]*)"/, G1);
  const origin = guidIn(/server="([^"]*)"/, ORIGIN);
  return {
    header: { flags, type, object: object as Guid, ts: 1_000_000n << 16n, prevTs: 0n, origin: origin as Guid, seq: 1, user: ORIGIN as Guid, bodySize: body.length, bodyCrc: 0, ext: new Uint8Array(EXT_SIZE) },
    body,
  };
}

const APP_TOKENS = [
  '<playlist version="1" object="' + G1 + '">', '</playlist>', '<channel version="1" object="' + G1 + '">', '</channel>', '<usage version="1" object="' + G1 + '" scope="media" server="' + ORIGIN + '">', '</usage>',
  '<create title="a"/>', '<add clip="c1" media="' + G2 + '" start="0" end="5000"/>', '<add playlist="' + G2 + '" position="0"/>', '<set clip="c1" end=""/>', '<remove clip="c1"/>',
  '<rename title="b"/>', '<create name="lobby" title="L" mode="live" start="0"/>', '<row gateway="hls" media="' + G1 + '" count="1" duration="5" first="1" last="2"/>',
  ' start="9007199254740991"', ' end="9007199254740992"', ' position="4294967296"', ' count="0"', ' mode="x"', ' name="A B"', ' title="' + 'x'.repeat(40) + '"',
  '<', '>', '/>', '"', '&amp;', '&#0;', '<!DOCTYPE x>', '<media version="1">', '<title>t</title>', '<tracks>', '<track index="0" kind="video" codec="avc1.64001e" timescale="0" frames="1" start="0" duration="1"/>',
];

interface AppCase {
  app: number;
  body: Uint8Array;
  summary: boolean;
  prior: boolean;
}

function appSeeds(): Uint8Array[][] {
  const meta = new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/media/v1/metadata.xml')));
  return [
    [meta],
    [
      encodePlaylistCommand(G1 as Guid, [{ op: 'create', title: 'Lobby loop' }, { op: 'add', clip: 'c1', media: G2 as Guid, startMs: 1500, endMs: 30000, title: 'first' }]),
      encodePlaylistCommand(G1 as Guid, [{ op: 'set', clip: 'c1', startMs: 10, endMs: null, title: 't' }, { op: 'add', clip: 'c2', media: G2 as Guid, startMs: 0, position: 0 }, { op: 'remove', clip: 'c1' }, { op: 'rename', title: 'r' }]),
    ],
    [
      encodeChannelCommand(G1 as Guid, [{ op: 'create', name: 'lobby', title: 'Lobby', mode: 'live', startMs: 0 }, { op: 'add', playlist: G2 as Guid }]),
      encodeChannelCommand(G1 as Guid, [{ op: 'set', title: 'x', mode: 'on-demand', startMs: 5 }, { op: 'add', playlist: G2 as Guid, position: 0 }, { op: 'remove', playlist: G2 as Guid }]),
    ],
    [encodeUsageReport({ object: G1 as Guid, scope: 'media', server: ORIGIN as Guid, rows: [{ gateway: 'hls', media: G1 as Guid, client: 'c', count: 2, durationMs: 100, first: 1, last: 2 }, { gateway: 'rtsp', media: G1 as Guid, channel: 'lobby', count: 1, durationMs: 5, first: 3, last: 4 }] })],
  ];
}

const APPS: [string, StateApp<unknown>][] = [
  ['media', mediaApp as StateApp<unknown>],
  ['playlist', playlistApp as StateApp<unknown>],
  ['channel', channelApp as StateApp<unknown>],
  ['usage', usageApp as StateApp<unknown>],
];

/** What an app may throw for a body from a peer: its typed errors (and the media app's object check). */
const allowedAppError = (e: unknown) => e instanceof CommandError || e instanceof MediaError || (e instanceof Error && e.constructor === Error && /^metadata of /.test(e.message));

export const apps = target({
  name: 'object-apps',
  what: 'mediaApp (metadata XML), playlistApp, channelApp, usageApp (shared/media/app.ts, metadata.ts, playlist*.ts, channel.ts, usage.ts), summaries round trip',
  cases: 100_000,
  ci: 5_000,
  prepare: () => {
    const seeds = appSeeds();
    // eslint-disable-next-line prefer-spread -- StateApp.apply, not Function.prototype.apply
    const priors = APPS.map(([, app], i) => app.apply(undefined, stuOf(seeds[i][0], 0, app.types[0])));
    const caseArb: fc.Arbitrary<AppCase> = fc.nat(APPS.length - 1).chain((app) =>
      fc.record({
        app: fc.constant(app),
        body: fc.oneof({ weight: 6, arbitrary: hostileBytes(seeds[app], { maxLength: 200 }) }, { weight: 2, arbitrary: tokenSoup(APP_TOKENS, 12).map(bytesOf) }),
        summary: fc.boolean(),
        prior: fc.boolean(),
      }),
    );
    return {
      arb: caseArb,
      show: (c) => `app=${APPS[c.app][0]} summary=${c.summary} prior=${c.prior} ${JSON.stringify(text(c.body))}`,
      check: (c) => {
        const [name, app] = APPS[c.app];
        const stu = stuOf(c.body, c.summary ? Flag.SUMMARY : 0, app.types[0]);
        let state: unknown;
        try {
          state = app.apply(c.prior ? priors[c.app] : undefined, stu);
        } catch (e) {
          if (allowedAppError(e)) return;
          throw e;
        }
        if (!app.summarize) return;
        let again: unknown;
        try {
          const body = app.summarize(state);
          // eslint-disable-next-line prefer-spread -- StateApp.apply
          again = app.apply(undefined, stuOf(body, Flag.SUMMARY, app.types[0]));
        } catch (e) {
          throw new Unexpected(`${name}: the summary of an applied state does not apply: ${String(e)}`);
        }
        expect(json(again) === json(state), `${name}: apply(summary(state)) is not the state`);
      },
    };
  },
});

export const metadataDirect = target({
  name: 'metadata-xml',
  what: 'parseMetadata (shared/media/metadata.ts), decodeFrameExt (frame.ts)',
  cases: 60_000,
  ci: 4_000,
  prepare: () => {
    const meta = new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/media/v1/metadata.xml')));
    const ext = new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/media/v1/frame-ext.bin')));
    const extLarge = new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/media/v1/frame-ext-large.bin')));
    const fields: Field[] = [...[0, 1, 2, 4, 8, 16, 24, 28, 32].map((at): Field => ({ at, width: 4 })), { at: 8, width: 8 }, { at: 16, width: 8 }];
    return {
      arb: fc.tuple(hostileBytes([meta], { maxLength: 400 }), hostileBytes([ext, extLarge], { fields, maxLength: 200 })),
      show: ([m, e]) => `${JSON.stringify(text(m))} ext=${hex(e)}`,
      check: ([m, e]) => {
        const r = parseMetadata(m);
        if (!r.ok) expect(r.error instanceof MediaError, 'parseMetadata: not a MediaError');
        const f = decodeFrameExt(e);
        if (!f.ok) expect(f.error instanceof MediaError && f.error.code === 'BAD_FRAME', 'decodeFrameExt: not BAD_FRAME');
        else expect(same(encodeFrameExt(f.value), e.subarray(0, EXT_SIZE)), 'a decoded frame area does not re-encode');
      },
    };
  },
});

// ------------------------------------------------------------------------------- upload and discovery

const GUIDS = [G1, G2, ORIGIN, '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-4FFF-8FFF-FFFFFFFFFFFF'];
const INTS = ['0', '1', '01', '-1', '5', '255', '256', '4294967296', '9007199254740991', '9007199254740992', '99999999999999999', '1e3', ' 1', ''];
const value = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...GUIDS, ...INTS, `${G1}.1`, `${G2}.99`, `${G1}.1234567890123`, 'a/b/../c.mp4', '..', '\u0000x\u202e.mp4', 'x'.repeat(300)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);
const element = (names: string[]): fc.Arbitrary<XmlElement> =>
  fc.record({ name: fc.constantFrom(...names), attrs: fc.dictionary(fc.constantFrom('from', 'to', 'id', 'x'), value, { maxKeys: 3 }), text: fc.constant(''), children: fc.constant([]) });

function messageArb(methods: string[], attrNames: string[], children: string[]): fc.Arbitrary<Message> {
  return fc.record({
    method: fc.constantFrom(...methods),
    id: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
    attrs: fc.dictionary(fc.constantFrom(...attrNames), value, { maxKeys: attrNames.length }),
    children: fc.array(element(children), { maxLength: 70 }),
    body: fc.constant(new Uint8Array(0)),
  });
}

type Handler = (from: PeerSession, m: Message) => unknown;

/** Enough of a SyncHub and its sessions for the handlers: every send succeeds, every request fails. */
function fakeHub(self: Guid, leader: () => Guid) {
  const handlers = new Map<string, Handler>();
  const session = (peer: Guid) =>
    ({
      peer,
      state: 'live',
      events: { closed: { on: () => () => undefined } },
      conn: { send: () => true, request: () => Promise.reject(new StxError('CLOSED', 'fake session')) },
      receive: () => ({ ticket: { stream: 1, key: 'A'.repeat(22), rate: 0 }, done: Promise.resolve({ stus: 0, bytes: 0 }), cancel: () => undefined }),
      expect: () => ({ ticket: { stream: 2, key: 'B'.repeat(22), rate: 0 }, done: Promise.resolve({ stus: 0, bytes: 0 }), cancel: () => undefined }),
      sendLocsTo: () => Promise.resolve({ stus: 0, bytes: 0 }),
    }) as unknown as PeerSession;
  const peers = [G2, ORIGIN].map((g) => session(g as Guid));
  const hub = {
    guid: self,
    handle: (method: string, h: Handler) => void handlers.set(method, h),
    leader,
    servers: () => peers,
    sessions: () => peers,
    session: (g: Guid) => peers.find((p) => p.peer === g),
  } as unknown as SyncHub;
  return { hub, handlers, peers };
}

async function callHandler(h: Handler | undefined, from: PeerSession, m: Message, allowed: readonly StxErrorCode[]): Promise<void> {
  expect(h, `no handler for ${m.method}`);
  try {
    await h(from, m);
  } catch (e) {
    if (!(e instanceof StxError)) throw e;
    expect(allowed.includes(e.code), `${m.method}: unexpected code ${e.code}: ${e.message}`);
  }
}

export const discovery = target({
  name: 'discovery',
  what: 'Discovery handlers: DownloadMedia, AvailableMedia, SendMedia, ReservePath, NoMedia, PushMedia (shared/sync/discovery.ts)',
  cases: 60_000,
  ci: 4_000,
  async: true,
  chunk: 500,
  prepare: () => {
    let leader = G1 as Guid;
    const { hub, handlers, peers } = fakeHub(G1 as Guid, () => leader);
    const holder = {
      heldRanges: (_m: Guid, _s: number, from: number, to: number) => [{ from, to: Math.min(to, from + 3) }],
      samples: (_m: Guid, _s: number, from: number, to: number) => (to > from ? [{ loc: { recSeq: 1, offset: 0 } as never, size: 10 }] : []),
    };
    new Discovery({ hub, holder, answerWindowMs: 1, wants: (m) => m === G2, wholeMedia: () => [{ stream: 0, ranges: [{ from: 0, to: 5 }] }] });
    const methods = ['DownloadMedia', 'AvailableMedia', 'SendMedia', 'ReservePath', 'NoMedia', 'PushMedia'];
    return {
      arb: fc.tuple(messageArb(methods, ['rid', 'requester', 'media', 'stream', 'mirror', 'from', 'to', 'count', 'bytes'], ['range', 'to', 'x']), fc.boolean()),
      show: ([m, lead]) => `leader=${lead} ${JSON.stringify(m)}`,
      check: async ([m, lead]) => {
        leader = (lead ? G1 : G2) as Guid;
        await callHandler(handlers.get(m.method), peers[0], m, ['BAD_PARAM', 'REFUSED', 'BUSY']);
      },
    };
  },
});

export const upload = target({
  name: 'upload',
  what: 'Upload and UploadCancel handlers (shared/media/upload-service.ts), sanitizeName (upload.ts)',
  cases: 40_000,
  ci: 3_000,
  async: true,
  chunk: 500,
  prepare: () => {
    const { hub, handlers, peers } = fakeHub(G1 as Guid, () => G1 as Guid);
    const store: UploadStore = {
      freeBytes: async () => 2 ** 40,
      create: async () => ({
        write: async () => undefined,
        ingest: () => Promise.reject(new MediaError('NOT_MEDIA', 'fake')),
        remove: async () => undefined,
      }),
    };
    serveUploads(hub, store, { maxBytes: 2 ** 32, ringBytes: 2 ** 31 });
    return {
      arb: fc.tuple(messageArb(['Upload', 'UploadCancel'], ['name', 'size', 'type', 'title', 'upload'], ['x']), fc.string({ unit: 'binary', maxLength: 300 })),
      show: ([m, name]) => `${JSON.stringify(m)} name=${JSON.stringify(name)}`,
      check: async ([m, name]) => {
        await callHandler(handlers.get(m.method), peers[m.id !== undefined && m.id % 2 ? 0 : 1], m, ['BAD_PARAM', 'REFUSED', 'TOO_LARGE', 'BUSY', 'NOT_FOUND']);
        const s = sanitizeName(name);
        // eslint-disable-next-line no-control-regex
        expect(s.length > 0 && [...s].length <= 255 && !/[/\\\u0000-\u001f]/.test(s) && s !== '.' && s !== '..', `sanitizeName gave ${JSON.stringify(s)}`);
      },
    };
  },
});

export const mediaTargets = [demuxTarget, apps, metadataDirect, discovery, upload];

