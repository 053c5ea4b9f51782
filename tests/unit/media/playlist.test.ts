// Playlists: the XML command (golden bytes, careful parsing), applying commands in order through the real
// engine, remove and change of clips, summaries, deletion, and concurrent edits on several servers that
// reach the same state whatever order the STUs arrive in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../../shared/media/playlist-errors.ts';
import {
  applyPlaylistOps,
  encodePlaylistCommand,
  MAX_CLIPS,
  parsePlaylistCommand,
  PLAYLIST_LIMITS,
  playlistApp,
  type PlaylistOp,
  type PlaylistState,
} from '../../../shared/media/playlist.ts';
import { PLAYLIST } from '../../../shared/media/stu-types.ts';
import { StateEngine } from '../../../shared/state/index.ts';
import { Flag, type Guid, type Stu, stuId } from '../../../shared/stu/index.ts';
import { prng } from '../../../shared/util/prng.ts';
import { makeUsageRecorder } from '../../../node-peer/media/usage.ts';
import { createChannel } from '../../../shared/media/channel-edit.ts';
import { createPlaylist, editPlaylist } from '../../../shared/media/playlist-edit.ts';
import { decoded, engineWithApps, MEDIA, originAt, server, SERVERS, stu } from './playlist-helpers.ts';

const P: Guid = 'dedd29ba-506f-4e28-8ed8-a3fec087e4b5';
const enc = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const state = (e: StateEngine, id = P) => e.get<PlaylistState>(id, PLAYLIST)?.state;

function refused(body: string | Uint8Array, code: CommandError['code'], pattern?: RegExp): void {
  const bytes = typeof body === 'string' ? enc.encode(body) : body;
  let err: unknown;
  try {
    parsePlaylistCommand(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, typeof body === 'string' ? body.slice(0, 120) : 'bytes').toBeInstanceOf(CommandError);
  expect((err as CommandError).code).toBe(code);
  if (pattern) expect((err as CommandError).message).toMatch(pattern);
}

const SEED_CREATE: PlaylistOp[] = [
  { op: 'create', title: 'Lobby & "friends"' },
  { op: 'add', clip: 'c1', media: MEDIA[0], startMs: 0, endMs: 5000, title: 'Opening' },
  { op: 'add', clip: 'c2', media: MEDIA[1], startMs: 1000, endMs: 4000 },
  { op: 'add', clip: 'c3', media: MEDIA[2], startMs: 0 },
];

describe('playlist command XML', () => {
  it('has the documented bytes and reads back what was written', () => {
    const body = encodePlaylistCommand(P, SEED_CREATE);
    expect(text(body)).toBe(
      '<playlist version="1" object="dedd29ba-506f-4e28-8ed8-a3fec087e4b5">' +
        '<create title="Lobby &amp; &quot;friends&quot;"/>' +
        '<add clip="c1" media="aaaaaaaa-0000-4000-8000-000000000001" start="0" end="5000" title="Opening"/>' +
        '<add clip="c2" media="aaaaaaaa-0000-4000-8000-000000000002" start="1000" end="4000"/>' +
        '<add clip="c3" media="aaaaaaaa-0000-4000-8000-000000000003" start="0"/>' +
        '</playlist>',
    );
    expect(parsePlaylistCommand(body)).toEqual({ object: P, ops: SEED_CREATE.map((o) => (o.op === 'add' && o.title === undefined ? { ...o } : o)) });
    const change: PlaylistOp[] = [
      { op: 'remove', clip: 'c3' },
      { op: 'set', clip: 'c2', endMs: 2000 },
      { op: 'set', clip: 'c1', endMs: null, title: '' },
      { op: 'rename', title: 'Lobby' },
      { op: 'add', clip: 'c4', media: MEDIA[0], startMs: 10, position: 0 },
    ];
    const cbody = encodePlaylistCommand(P, change);
    expect(text(cbody)).toBe(
      '<playlist version="1" object="dedd29ba-506f-4e28-8ed8-a3fec087e4b5"><remove clip="c3"/><set clip="c2" end="2000"/><set clip="c1" end="" title=""/>' +
        '<rename title="Lobby"/><add clip="c4" media="aaaaaaaa-0000-4000-8000-000000000001" start="10" position="0"/></playlist>',
    );
    expect(parsePlaylistCommand(cbody).ops).toEqual(change);
  });

  it('reads pretty-printed commands, character references and the five entities', () => {
    const body = `<playlist version="1" object="${P}">\n  <create title="&lt;Tom&gt; &#233;t&#xE9; &apos;x&apos;"/>\n  <add clip="a" media="${MEDIA[0]}" start="0"></add>\n</playlist>\n`;
    expect(parsePlaylistCommand(enc.encode(body)).ops).toEqual([
      { op: 'create', title: "<Tom> été 'x'" },
      { op: 'add', clip: 'a', media: MEDIA[0], startMs: 0 },
    ]);
  });

  it('refuses DTDs, entities, oversize bodies and anything that is not a playlist command', () => {
    const root = (inner: string, attrs = `version="1" object="${P}"`) => `<playlist ${attrs}>${inner}</playlist>`;
    refused(`<!DOCTYPE playlist [<!ENTITY x "boom">]>${root('<create title="&x;"/>')}`, 'BAD_XML', /DOCTYPE/);
    refused(`<!DOCTYPE playlist SYSTEM "http://example.com/x.dtd">${root('<create title="x"/>')}`, 'BAD_XML');
    refused(root('<create title="&x;"/>'), 'BAD_XML', /entity/);
    refused(root('<create title="&amp"/>'), 'BAD_XML');
    refused(root('<!-- hi --><create title="x"/>'), 'BAD_XML');
    refused(root('<create title="x"/><![CDATA[x]]>'), 'BAD_XML');
    refused(`<?xml version="1.0"?>${root('<create title="x"/>')}`, 'BAD_XML');
    refused(root('<create title="x"/>') + '<more/>', 'BAD_XML');
    refused(root('<create title="x"><b/></create>'), 'BAD_XML', /deeper/);
    refused(root('<create title="x">text</create>'), 'BAD_COMMAND', /content/);
    refused(root('<create title="x"/>').replace('title="x"', 'title="\u0001"'), 'BAD_XML');
    refused(new Uint8Array([...enc.encode(root('<create title="')), 0xff, 0xfe, ...enc.encode('"/>')]), 'BAD_XML', /UTF-8/);
    refused(root(`<create title="${'x'.repeat(1025)}"/>`), 'BAD_COMMAND', /longer/);
    refused(root('<create title="x"/>'.repeat(PLAYLIST_LIMITS.maxOps + 1)), 'BAD_XML', /elements/);
    const big = new Uint8Array(PLAYLIST_LIMITS.maxBytes + 1).fill(0x20);
    refused(big, 'TOO_LARGE');
    refused(root('<create title="x"/>', `version="2" object="${P}"`), 'BAD_COMMAND', /version 2/);
    refused(root('<create title="x"/>', `version="1" object="nope"`), 'BAD_COMMAND', /GUID/);
    refused(root('<create title="x"/>', `version="1" object="${P}" extra="1"`), 'BAD_COMMAND', /unknown attribute/);
    refused(`<channel version="1" object="${P}"><create name="x" title="x" mode="on-demand"/></channel>`, 'BAD_COMMAND', /<playlist>/);
    refused(root(''), 'BAD_COMMAND', /without ops/);
    refused(root('<drop clip="a"/>'), 'BAD_COMMAND', /unknown op/);
    refused(root('<create title="x" colour="red"/>'), 'BAD_COMMAND', /unknown attribute colour/);
    refused(root(`<add clip="a" media="${MEDIA[0]}" start="-1"/>`), 'BAD_COMMAND', /start/);
    refused(root(`<add clip="a" media="${MEDIA[0]}" start="01"/>`), 'BAD_COMMAND', /start/);
    refused(root(`<add clip="a" media="${MEDIA[0]}" start="1.5"/>`), 'BAD_COMMAND', /start/);
    refused(root(`<add clip="a" media="${MEDIA[0]}" start="99999999999999999"/>`), 'BAD_COMMAND', /start/);
    refused(root(`<add clip="a b" media="${MEDIA[0]}" start="0"/>`), 'BAD_COMMAND', /clip id/);
    refused(root(`<add clip="a" media="${MEDIA[0].toUpperCase()}" start="0"/>`), 'BAD_COMMAND', /GUID/);
    refused(root(`<add clip="a" start="0"/>`), 'BAD_COMMAND', /missing attribute media/);
    refused(root(`<set clip="a"/>`), 'BAD_COMMAND', /changes nothing/);
    refused(root('<__proto__ title="x"/>'), 'BAD_COMMAND');
  });

  it('caps a playlist at MAX_CLIPS and refuses duplicate clip ids and empty clips', () => {
    const s = applyPlaylistOps(P, undefined, [{ op: 'create', title: 't' }]);
    expect(() => applyPlaylistOps(P, s, [{ op: 'add', clip: 'a', media: MEDIA[0], startMs: 5, endMs: 5 }])).toThrow(/before end/);
    const one = applyPlaylistOps(P, s, [{ op: 'add', clip: 'a', media: MEDIA[0], startMs: 0 }]);
    expect(() => applyPlaylistOps(P, one, [{ op: 'add', clip: 'a', media: MEDIA[1], startMs: 0 }])).toThrow(/already/);
    const full: PlaylistState = { ...s, clips: Array.from({ length: MAX_CLIPS }, (_, i) => ({ clip: `c${i}`, media: MEDIA[0], startMs: 0, title: '' })) };
    expect(() => applyPlaylistOps(P, full, [{ op: 'add', clip: 'x', media: MEDIA[0], startMs: 0 }])).toThrow(/at most/);
    expect(() => applyPlaylistOps(P, undefined, [{ op: 'rename', title: 'x' }])).toThrow(/not created/);
    expect(() => applyPlaylistOps(P, s, [{ op: 'create', title: 'again' }])).toThrow(/exists already/);
    // a summary of the largest playlist, long titles and all, still parses
    const longest: PlaylistState = { ...s, clips: full.clips.map((c) => ({ ...c, title: '"&'.repeat(512) })) };
    const body = playlistApp.summarize!(longest);
    expect(body.length).toBeLessThanOrEqual(PLAYLIST_LIMITS.maxBytes);
    expect(parsePlaylistCommand(body).ops).toHaveLength(MAX_CLIPS + 1);
  });
});

describe('playlists in the engine', () => {
  function chain() {
    let t = 1_700_000_000_000;
    const a = originAt(SERVERS[0], () => (t += 10));
    const e = engineWithApps();
    const write = (ops: PlaylistOp[], prev = e.get(P, PLAYLIST)?.ts ?? 0n, flags = 0): Stu => {
      const s = decoded(a.create({ type: PLAYLIST, object: P, prevTs: prev, flags }, ops.length ? encodePlaylistCommand(P, ops) : new Uint8Array(0)));
      e.ingest(s);
      return s;
    };
    return { e, write };
  }

  it('applies the seed example: create with three clips, then remove the third and end the second at 2000 ms', () => {
    const { e, write } = chain();
    write(SEED_CREATE);
    expect(state(e)!.clips.map((c) => c.clip)).toEqual(['c1', 'c2', 'c3']);
    write([
      { op: 'remove', clip: 'c3' },
      { op: 'set', clip: 'c2', endMs: 2000 },
    ]);
    expect(state(e)).toEqual({
      id: P,
      title: 'Lobby & "friends"',
      clips: [
        { clip: 'c1', media: MEDIA[0], startMs: 0, endMs: 5000, title: 'Opening' },
        { clip: 'c2', media: MEDIA[1], startMs: 1000, endMs: 2000, title: '' },
      ],
    });
    expect(e.rejected()).toEqual([]);
  });

  it('inserts at a position, renames, clears an end, and skips ops on clips that are gone', () => {
    const { e, write } = chain();
    write(SEED_CREATE);
    write([{ op: 'add', clip: 'c0', media: MEDIA[2], startMs: 100, endMs: 200, position: 0 }]);
    write([{ op: 'add', clip: 'cx', media: MEDIA[2], startMs: 0, position: 99 }]);
    write([{ op: 'rename', title: 'Renamed' }, { op: 'set', clip: 'c1', endMs: null, title: 'Open' }]);
    write([{ op: 'remove', clip: 'nothere' }, { op: 'set', clip: 'gone', startMs: 5 }, { op: 'remove', clip: 'c2' }]);
    const s = state(e)!;
    expect(s.title).toBe('Renamed');
    expect(s.clips.map((c) => c.clip)).toEqual(['c0', 'c1', 'c3', 'cx']);
    expect(s.clips[1]).toEqual({ clip: 'c1', media: MEDIA[0], startMs: 0, title: 'Open' });
    expect(e.rejected()).toEqual([]);
  });

  it('rejects a whole command that would make start ≥ end, and keeps going after it', () => {
    const { e, write } = chain();
    write(SEED_CREATE);
    const bad = write([{ op: 'rename', title: 'not applied' }, { op: 'set', clip: 'c1', startMs: 6000 }]);
    expect(state(e)!.title).toBe('Lobby & "friends"');
    expect(e.rejected()).toEqual([expect.objectContaining({ id: stuId(bad.header), code: 'invalid', reason: expect.stringMatching(/start 6000 ms is not before end 5000 ms/) })]);
    write([{ op: 'rename', title: 'after' }]);
    expect(state(e)!.title).toBe('after');
  });

  it('refuses a command for another object, and an STU before its create', () => {
    const e = engineWithApps();
    const other = encodePlaylistCommand(MEDIA[0], [{ op: 'create', title: 'x' }]);
    e.ingest(stu({ type: PLAYLIST, object: P, ts: 100n }, other));
    e.ingest(stu({ type: PLAYLIST, object: MEDIA[1], ts: 200n, seq: 2 }, encodePlaylistCommand(MEDIA[1], [{ op: 'rename', title: 'x' }])));
    expect(e.rejected().find((r) => r.object === P)?.reason).toMatch(/STU of object/);
    expect(e.rejected().find((r) => r.object === MEDIA[1])?.reason).toMatch(/not created/);
    expect(e.list(PLAYLIST)).toEqual([]);
  });

  it('summarizes to one STU that a new server starts from, and deletes with a tombstone', () => {
    const { e, write } = chain();
    write(SEED_CREATE);
    write([{ op: 'remove', clip: 'c2' }]);
    const before = state(e);
    const draft = e.summaryFor(P, PLAYLIST)!;
    const s = stu({ ...draft.init, ts: draft.after + 1n, seq: 99 }, draft.body);
    expect(text(s.body)).toMatch(/^<playlist version="1" object="[^"]+"><create title="[^"]+"\/><add clip="c1"/);
    const fresh = engineWithApps();
    fresh.ingest(s);
    expect(state(fresh)).toEqual(before);
    e.ingest(s);
    expect(e.chainStatus(P, PLAYLIST)!.applied).toEqual([stuId(s.header)]);
    write([], undefined, Flag.TOMBSTONE);
    expect(e.get(P, PLAYLIST)!.deleted).toBe(true);
    expect(e.list(PLAYLIST)).toEqual([]);
  });
});

describe('the object-cache snapshot', () => {
  it('keeps playlists, channels and usage as they were, taking their states without folding again', async () => {
    const s = await server();
    const p = await createPlaylist(s.writer, { title: 'p', clips: [{ media: MEDIA[0] }, { media: MEDIA[1], endMs: 2000 }] });
    await editPlaylist(s.writer, p.id, { op: 'rename', title: 'q' });
    await createChannel(s.writer, { name: 'lobby', mode: 'live', startMs: 5, playlists: [p.id] });
    const rec = makeUsageRecorder({ guid: s.guid, engine: s.engine, stus: s.store });
    rec({ gateway: 'hls', media: MEDIA[0], startMs: 1_700_000_000_000, durationMs: 1000 });
    await rec.close();
    const ids: string[] = [];
    for await (const e of s.store.ring.scan('meta')) ids.push(stuId(e.header));
    const fresh = engineWithApps();
    const r = fresh.restore(s.engine.snapshot(), ids);
    expect(r.ok && r.value.reused).toBe(s.engine.list().length);
    expect(json(fresh.list())).toBe(json(s.engine.list()));
  });
});

// ---------------------------------------------------------------------------------------------- concurrency

type Kind = 'add' | 'remove' | 'set' | 'rename' | 'sync';
const actionArb = fc.record({
  server: fc.nat(2),
  kind: fc.constantFrom<Kind>('add', 'add', 'add', 'remove', 'set', 'rename', 'sync', 'sync'),
  a: fc.nat(1000),
  b: fc.nat(1000),
});

const json = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? String(v) : v));

function shuffled<T>(xs: T[], seed: number): T[] {
  const r = prng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('concurrent playlist edits', () => {
  it('reach the same state on every server whatever the delivery order; concurrent additions all survive', () => {
    const seen = { collisions: 0, clips: 0 };
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 1, maxLength: 40 }), fc.array(fc.integer(), { minLength: 3, maxLength: 3 }), fc.nat(), (actions, skew, seed) => {
        let step = 0;
        const origins = SERVERS.map((g, i) => originAt(g, () => 1_700_000_000_000 + step * 10 + (skew[i] % 50)));
        const engines = SERVERS.map(() => engineWithApps());
        const all: Stu[] = [];
        const made: Stu[][] = [[], [], []];
        const write = (s: number, ops: PlaylistOp[]) => {
          const prev = engines[s].get(P, PLAYLIST)?.ts ?? 0n;
          origins[s].clock.observe(prev); // as RingStore does for every STU it stores
          const x = decoded(origins[s].create({ type: PLAYLIST, object: P, prevTs: prev }, encodePlaylistCommand(P, ops)));
          engines[s].ingest(x);
          all.push(x);
          made[s].push(x);
        };
        write(0, [{ op: 'create', title: 'shared' }]);
        if (skew[0] % 4 !== 0) for (const e of engines.slice(1)) e.ingest(all[0]); // mostly, everyone starts from the create
        const added = new Set<string>();
        const removed = new Set<string>();
        for (const [n, act] of actions.entries()) {
          step++;
          const e = engines[act.server];
          if (act.kind === 'sync') {
            const from = made[(act.server + 1 + (act.a % 2)) % 3];
            const upTo = from.length === 0 ? 0 : act.b % (from.length + 1);
            for (const x of from.slice(0, upTo)) e.ingest(x); // a prefix: later ones may still be missing
            continue;
          }
          const s = state(e);
          if (!s) continue; // this server has not seen the playlist yet
          const clips = s.clips;
          if (act.kind === 'add') {
            const startMs = (act.a % 5) * 1000;
            const clip = `k${n}s${act.server}`;
            write(act.server, [{ op: 'add', clip, media: MEDIA[act.a % 3], startMs, endMs: startMs + 1000 + (act.b % 4) * 1000, position: act.b % (clips.length + 1) }]);
            added.add(clip);
          } else if (act.kind === 'remove' && clips.length > 0) {
            const clip = clips[act.a % clips.length].clip;
            write(act.server, [{ op: 'remove', clip }]);
            removed.add(clip);
          } else if (act.kind === 'set' && clips.length > 0) {
            const c = clips[act.a % clips.length];
            const op: PlaylistOp = act.b % 2 ? { op: 'set', clip: c.clip, startMs: (act.b % 5) * 1000 } : { op: 'set', clip: c.clip, endMs: 1000 + (act.b % 3) * 1000 };
            const start = op.startMs ?? c.startMs;
            const end = op.endMs === undefined ? c.endMs : op.endMs;
            if (end === undefined || end === null || start < end) write(act.server, [op]); // valid where it is written
          } else if (act.kind === 'rename') write(act.server, [{ op: 'rename', title: `t${n}` }]);
        }
        // Everything reaches everyone, in a different order on each server.
        engines.forEach((e, i) => e.ingestAll(shuffled(all, seed + i)));
        const reports = engines.map((e) => json({ list: e.list(), rejected: e.rejected(), collisions: e.collisions(), gaps: e.gaps() }));
        expect(reports[1]).toBe(reports[0]);
        expect(reports[2]).toBe(reports[0]);
        // A new server given the STUs one by one, backwards, with duplicates, agrees too.
        const late = engineWithApps();
        for (const x of [...all].reverse()) late.ingest(x);
        late.ingestAll(all.slice(0, 3));
        expect(json({ list: late.list(), rejected: late.rejected(), collisions: late.collisions(), gaps: late.gaps() })).toBe(reports[0]);
        // Every clip added anywhere is there unless someone removed it.
        const final = state(engines[0])!;
        expect(new Set(final.clips.map((c) => c.clip))).toEqual(new Set([...added].filter((c) => !removed.has(c))));
        expect(engines[0].rejected().every((r) => r.code === 'invalid' && /before end/.test(r.reason))).toBe(true);
        seen.collisions += engines[0].collisions().length;
        seen.clips += final.clips.length;
      }),
      { numRuns: 150 },
    );
    // the runs did make forks, and playlists with clips
    expect(seen.collisions).toBeGreaterThan(40);
    expect(seen.clips).toBeGreaterThan(100);
  });

  it('two servers adding a clip to the same version both keep both, in the same order', () => {
    let t = 1_700_000_000_000;
    const [a, b] = [originAt(SERVERS[0], () => t), originAt(SERVERS[1], () => t)];
    const create = decoded(a.create({ type: PLAYLIST, object: P }, encodePlaylistCommand(P, [{ op: 'create', title: 'x' }])));
    t += 5;
    const addA = decoded(a.create({ type: PLAYLIST, object: P, prevTs: create.header.ts }, encodePlaylistCommand(P, [{ op: 'add', clip: 'fromA', media: MEDIA[0], startMs: 0 }])));
    const addB = decoded(b.create({ type: PLAYLIST, object: P, prevTs: create.header.ts }, encodePlaylistCommand(P, [{ op: 'add', clip: 'fromB', media: MEDIA[1], startMs: 0, position: 0 }])));
    const one = engineWithApps();
    const two = engineWithApps();
    one.ingestAll([create, addA, addB]);
    two.ingestAll([addB, create, addA]);
    expect(state(one)!.clips.map((c) => c.clip)).toEqual(['fromB', 'fromA']);
    expect(state(two)).toEqual(state(one));
    expect(one.collisions()).toEqual([expect.objectContaining({ policy: 'merge', winner: undefined, ids: [stuId(addA.header), stuId(addB.header)] })]);
  });
});

describe('concurrent changes of one clip', () => {
  it('that cross (start after the other server\'s end): the one that sorts later is rejected, everywhere', () => {
    let t = 1_700_000_000_000;
    const [a, b] = [originAt(SERVERS[0], () => t), originAt(SERVERS[1], () => t + 1)];
    const create = decoded(a.create({ type: PLAYLIST, object: P }, encodePlaylistCommand(P, [{ op: 'create', title: 'x' }, { op: 'add', clip: 'c', media: MEDIA[0], startMs: 0, endMs: 10_000 }])));
    t += 10;
    const prevTs = create.header.ts;
    const fromA = decoded(a.create({ type: PLAYLIST, object: P, prevTs }, encodePlaylistCommand(P, [{ op: 'set', clip: 'c', startMs: 8000 }])));
    const fromB = decoded(b.create({ type: PLAYLIST, object: P, prevTs }, encodePlaylistCommand(P, [{ op: 'set', clip: 'c', endMs: 2000 }])));
    expect(fromB.header.ts > fromA.header.ts).toBe(true); // b's clock is ahead: its change sorts after a's
    for (const order of [[create, fromA, fromB], [fromB, fromA, create], [fromA, create, fromB]]) {
      const e = engineWithApps();
      for (const x of order) e.ingest(x);
      expect(state(e)!.clips).toEqual([{ clip: 'c', media: MEDIA[0], startMs: 8000, endMs: 10_000, title: '' }]);
      expect(e.rejected()).toEqual([expect.objectContaining({ id: stuId(fromB.header), code: 'invalid' })]);
    }
  });
});
