// The web app's pure parts: the camera, the layout, what an object shows (whatever its state's shape), the
// filter, the peers graph and its rates, the ring history, the routes, and the object model's coalescing.
import { describe, expect, it } from 'vitest';
import type { BusinessObject } from '../../../shared/state/types.ts';
import { between, centerOn, DETAIL_K, fit, modeFor, OVERVIEW_K, reveal, visibleWorld, wheelFactor, zoomAt } from '../../../web/app/canvas/camera.ts';
import { matches, noFilter } from '../../../web/app/canvas/filter.ts';
import { CARD_H, CARD_W, layout } from '../../../web/app/canvas/layout.ts';
import { endReason } from '../../../web/app/core/connection.ts';
import { describe as describeObject, type ObjectView, spoken } from '../../../web/app/core/describe.ts';
import { formatBytes, formatDuration } from '../../../web/app/core/format.ts';
import { ObjectsModel } from '../../../web/app/core/objects.ts';
import { hrefFor, parseRoute } from '../../../web/app/shell/router.ts';
import { buildGraph, parsePeersDoc, placeNodes, type Snapshot } from '../../../web/app/system/peers-model.ts';
import { linePath, niceMax } from '../../../web/app/system/plot.ts';
import { evictionRates, pushSample, type RingSample } from '../../../web/app/system/ring-history.ts';

const g = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const obj = (n: number, type: number, state: unknown, ts = 1n): BusinessObject => ({ id: g(n), type, state, ts, owner: g(0), deleted: false });
const mediaState = (n: number, title: string) => ({
  id: g(n),
  title,
  duration: 20,
  container: 'mp4',
  size: 649168,
  frames: 1539,
  bytes: 626123,
  tracks: [
    { index: 0, kind: 'video', codec: 'avc1.64001e', width: 640, height: 360, frames: 600 },
    { index: 1, kind: 'audio', codec: 'mp4a.40.2', sampleRate: 48000, channels: 2, frames: 939 },
  ],
});

describe('camera', () => {
  const view = { w: 800, h: 600 };
  it('zooms about a point, which stays where it is on screen', () => {
    const c = zoomAt({ x: 10, y: -30, k: 0.5 }, 3, 200, 100);
    const world = { x: (200 - 10) / 0.5, y: (100 + 30) / 0.5 };
    expect(world.x * c.k + c.x).toBeCloseTo(200, 9);
    expect(world.y * c.k + c.y).toBeCloseTo(100, 9);
    expect(zoomAt(c, 1e9, 0, 0).k).toBe(8); // clamped
  });
  it('fits a rectangle, centres one, and flies between two cameras', () => {
    const r = { x: 100, y: 100, w: 1600, h: 600 };
    const f = fit(r, view, 0);
    expect(f.k).toBe(0.5);
    expect(visibleWorld(f, view)).toEqual({ x: 100, y: -200, w: 1600, h: 1200 });
    const c = centerOn({ x: 0, y: 0, w: 100, h: 100 }, view, 2);
    expect(c).toEqual({ k: 2, x: 300, y: 200 });
    const start = between(f, c, 0, view);
    for (const k of ['x', 'y', 'k'] as const) expect(start[k]).toBeCloseTo(f[k], 9);
    const end = between(f, c, 1, view);
    expect(end.k).toBeCloseTo(2, 9);
    expect(end.x).toBeCloseTo(300, 9);
  });
  it('reveals a rectangle with the smallest pan, and says which mode a zoom shows', () => {
    const c = { x: 0, y: 0, k: 1 };
    expect(reveal(c, { x: 10, y: 50, w: 100, h: 100 }, view, 24)).toEqual({ k: 1, x: 14, y: 0 });
    expect(reveal(c, { x: 100, y: 100, w: 10, h: 10 }, view)).toBe(c);
    expect([modeFor(OVERVIEW_K / 2), modeFor(1), modeFor(DETAIL_K)]).toEqual(['overview', 'summary', 'detail']);
    expect(wheelFactor(-100, 0, false)).toBeGreaterThan(1);
    expect(wheelFactor(3, 1, false)).toBeLessThan(1);
  });
});

describe('layout', () => {
  it('places every object once, in application groups side by side, never overlapping', () => {
    const model = new ObjectsModel();
    const objects = [
      ...Array.from({ length: 30 }, (_, i) => obj(i + 1, 0x100, mediaState(i + 1, `m${i}`))),
      obj(100, 0x102, { id: g(100), title: 'p', clips: [] }),
      obj(101, 0x999, { whatever: true }),
    ];
    model.set(objects);
    const l = layout(model.all());
    expect(l.placed).toHaveLength(32);
    expect(l.groups.map((x) => [x.app, x.count])).toEqual([
      ['media', 30],
      ['playlists', 1],
      ['other', 1],
    ]);
    for (const a of l.placed)
      for (const b of l.placed) if (a !== b) expect(a.x + CARD_W <= b.x || b.x + CARD_W <= a.x || a.y + CARD_H <= b.y || b.y + CARD_H <= a.y).toBe(true);
    expect(l.placed.map((p) => p.index)).toEqual(l.placed.map((_, i) => i));
  });
});

describe('what an object shows', () => {
  it('a media: its glance, tracks and a sentence for screen readers', () => {
    const v = describeObject(obj(1, 0x100, mediaState(1, 'Sample')));
    expect(v.app).toBe('media');
    expect(v.glance).toEqual(['0:20', '640×360', 'H.264 + AAC', '634 KiB']);
    expect(v.media!.tracks.map((t) => t.format)).toEqual(['640×360', '48 kHz stereo']);
    expect(spoken(v)).toBe('Media: Sample. 0:20, 640×360, H.264 + AAC, 634 KiB');
  });
  it('a playlist and a channel name the media and playlists they hold', () => {
    const media = describeObject(obj(1, 0x100, mediaState(1, 'Sample')));
    const pl = describeObject(obj(2, 0x102, { id: g(2), title: 'Loop', clips: [{ clip: 'a', media: g(1), startMs: 0, endMs: 5000, title: '' }, { clip: 'b', media: g(9), startMs: 0, title: '' }] }), {
      media: (id) => (id === g(1) ? media : undefined),
      playlist: () => undefined,
    });
    expect(pl.playlist!.clips.map((c) => [c.title, c.durationMs, c.missing])).toEqual([
      ['Sample', 5000, false],
      ['00000009', undefined, true],
    ]);
    expect(pl.glance).toEqual(['2 clips']); // one clip's media is not known here: no total
    const ch = describeObject(obj(3, 0x103, { id: g(3), name: 'lobby', title: 'Lobby', mode: 'live', startMs: 5, playlists: [g(2)] }), { media: () => undefined, playlist: () => pl });
    expect(ch.channel!.playlists).toEqual([{ id: g(2), title: 'Loop' }]);
    expect(ch.glance).toEqual(['lobby', 'live', '1 playlist']);
  });
  it('a state of an unexpected shape, or of an unknown type, still shows: never throws', () => {
    for (const state of [undefined, null, 42, 'x', [], { title: 7, tracks: 'no', clips: {}, playlists: [1, 2] }]) {
      for (const type of [0x100, 0x102, 0x103, 0x104, 0x7777]) {
        const v: ObjectView = describeObject(obj(5, type, state));
        expect(v.title).toMatch(/\S/);
        expect(v.id).toBe(g(5));
      }
    }
    expect(describeObject(obj(5, 0x7777, {})).kind).toBe('0x7777');
  });
  it('formats', () => {
    expect([formatDuration(75.2), formatDuration(3725), formatDuration(undefined)]).toEqual(['1:15', '1:02:05', '–']);
    expect([formatBytes(512), formatBytes(1536), formatBytes(150 * 1048576)]).toEqual(['512 B', '1.5 KiB', '150 MiB']);
    expect(endReason('unregistered', 'shutdown')).toBe('the server left: shutdown');
  });
});

describe('filter', () => {
  it('by application and by every word of the text', () => {
    const v = describeObject(obj(1, 0x100, mediaState(1, 'Big Buck Bunny')));
    expect(matches(v, noFilter())).toBe(true);
    expect(matches(v, { apps: new Set(['playlists']), text: '' })).toBe(false);
    expect(matches(v, { ...noFilter(), text: 'bunny  big' })).toBe(true);
    expect(matches(v, { ...noFilter(), text: 'h.264' })).toBe(true);
    expect(matches(v, { ...noFilter(), text: g(1).slice(0, 6) })).toBe(true);
    expect(matches(v, { ...noFilter(), text: 'bunny cat' })).toBe(false);
  });
});

describe('the object model', () => {
  it('tells its listeners once per batch, and keeps the views current', async () => {
    const m = new ObjectsModel();
    const heard: number[] = [];
    m.changed.on(({ keys }) => heard.push(keys.size));
    m.set([obj(1, 0x100, mediaState(1, 'b')), obj(2, 0x100, mediaState(2, 'a')), obj(3, 0x102, { id: g(3), title: 'p', clips: [{ clip: 'x', media: g(1), startMs: 0 }] })]);
    await Promise.resolve();
    expect(heard).toEqual([3]);
    expect(m.all().map((v) => v.title)).toEqual(['a', 'b', 'p']);
    expect(m.get(`258:${g(3)}`)!.playlist!.clips[0].title).toBe('b');
    expect(m.find(g(2))!.title).toBe('a');
  });
});

describe('the peers graph', () => {
  const doc = (server: string, peers: unknown[]) => ({ server, held: [{ type: 256, origin: server, upTo: 3 }], peers });
  const row = (server: string, role: string, bytesIn: number, bytesOut: number, extra: object = {}) => ({
    server,
    role,
    state: 'live',
    how: 'answered',
    connectedAt: 't0',
    inSync: true,
    peerBehind: 0,
    weBehind: 0,
    info: { url: `http://${server.slice(0, 4)}` },
    stats: { bytesIn, bytesOut, stusIn: 1, stusOut: 1 },
    catchUp: {},
    ...extra,
  });
  const snap = (at: number, docs: ReturnType<typeof doc>[]): Snapshot => ({ at, docs: new Map(docs.map((d) => [d.server, parsePeersDoc(d)])), unreachable: new Map() });

  it('refuses what is not a /api/peers document', () => {
    expect(() => parsePeersDoc({})).toThrow(/not a \/api\/peers/);
    expect(() => parsePeersDoc({ server: 1, peers: [] })).toThrow();
    expect(parsePeersDoc({ server: 'x', peers: [null, 3, { stats: 'no' }] }).peers).toHaveLength(1);
  });

  it('draws a link reported by both ends once, with bytes per second from two polls, and marks the leader and this browser', () => {
    const [a, b, v] = [g(0xa), g(0xb), g(0xc)];
    const first = snap(1000, [doc(b, [row(a, 'server', 100, 1000), row(v, 'viewer', 0, 50)]), doc(a, [row(b, 'server', 1000, 100)])]);
    const second = snap(3000, [doc(b, [row(a, 'server', 4100, 1000), row(v, 'viewer', 0, 2050)]), doc(a, [row(b, 'server', 1000, 4100)])]);
    const g1 = buildGraph(first, undefined, v);
    expect(g1.links).toHaveLength(2);
    expect(g1.links.every((l) => l.rateIn === undefined)).toBe(true);
    const g2 = buildGraph(second, first, v);
    const ab = g2.links.find((l) => l.to === a)!;
    expect([ab.from, ab.rateIn, ab.rateOut]).toEqual([b, 2000, 0]);
    expect(g2.links.find((l) => l.to === v)!.rateOut).toBe(1000);
    expect(g2.leader).toBe(a);
    const nodes = Object.fromEntries(g2.nodes.map((n) => [n.id, n]));
    expect(nodes[b].self).toBe(true);
    expect(nodes[a].leader).toBe(true);
    expect(nodes[v]).toMatchObject({ role: 'viewer', you: true });
    // a counter that went down (a new session) gives no rate, not a negative one
    const reset = snap(4000, [doc(b, [row(a, 'server', 10, 10)])]);
    expect(buildGraph(reset, second).links[0].rateIn).toBeUndefined();
    const at = placeNodes(g2, 720, 400);
    expect(at.size).toBe(3);
    expect(new Set([...at.values()].map((p) => `${Math.round(p.x)},${Math.round(p.y)}`)).size).toBe(3);
  });
});

describe('plots and ring history', () => {
  it('evictions per second between samples, a bounded history, a right-aligned line', () => {
    const s = (at: number, evicted: number): RingSample => ({ at, ring: { meta: { capacity: 1, used: 0, records: 0, evicted: 0, appended: 0, headRecSeq: 0, tailRecSeq: 0 }, data: { capacity: 100, used: 50, records: 1, evicted, appended: 0, headRecSeq: 0, tailRecSeq: 0 } } });
    let h: RingSample[] = [];
    for (let i = 0; i < 200; i++) h = pushSample(h, s(i * 500, i * 10));
    expect(h).toHaveLength(120);
    expect(evictionRates(h, 'data').every((r) => r === 20)).toBe(true);
    expect(evictionRates(h, 'meta').every((r) => r === 0)).toBe(true);
    expect(linePath([0, 1], 100, 10, 1, 3)).toBe('M50.0,10.0 L100.0,0.0');
    expect([niceMax(0), niceMax(3), niceMax(14), niceMax(500)]).toEqual([1, 5, 20, 500]);
  });
});

describe('routes', () => {
  it('a view per path, ?play= and ?focus= on any, ?server= kept in links', () => {
    expect(parseRoute('/', '?play=abc')).toEqual({ view: 'objects', play: 'abc', focus: undefined, server: undefined });
    expect(parseRoute('/canvas/', '')).toMatchObject({ view: 'canvas' });
    expect(parseRoute('/index.html', '')).toMatchObject({ view: 'objects' });
    expect(parseRoute('/nope', '')).toMatchObject({ view: 'missing' });
    const r = parseRoute('/system', '?server=http%3A%2F%2Fh%3A1');
    expect(hrefFor('canvas', r, { focus: 'x' })).toBe('/canvas?server=http%3A%2F%2Fh%3A1&focus=x');
    expect(hrefFor('objects', parseRoute('/', ''))).toBe('/');
  });
});
