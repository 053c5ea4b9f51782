// Usage reporting: plays aggregated in bounded batches, USAGE reports that add up whatever order they arrive
// in (merge), summaries, careful parsing, and the recorder a state server gives its gateways.
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../../shared/media/stu-types.ts';
import {
  encodeUsageReport,
  encodeUsageSummary,
  UsageBatch,
  type UsageRow,
  type UsageState,
  usageApp,
} from '../../../shared/media/usage.ts';
import { Flag, type Guid, type Stu } from '../../../shared/stu/index.ts';
import { installationUsage, makeUsageRecorder, usageTotals } from '../../../node-peer/media/usage.ts';
import { decoded, engineWithApps, MEDIA, originAt, server, SERVERS, stu } from './playlist-helpers.ts';

const T0 = 1_700_000_000_000;
const enc = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const usage = (e: ReturnType<typeof engineWithApps>, id: Guid) => e.get<UsageState>(id, USAGE)?.state;
const shuffle = <T>(xs: T[], k: number): T[] => xs.map((x, i) => [x, (i * 7919 + k * 104729) % 997] as const).sort((a, b) => a[1] - b[1]).map(([x]) => x);

describe('UsageBatch', () => {
  it('aggregates plays by gateway, media, channel and client', () => {
    const b = new UsageBatch(4);
    expect(b.add({ gateway: 'hls', media: MEDIA[0], startMs: T0, durationMs: 30_000, client: '10.0.0.1' }, T0 + 60_000)).toBe(true);
    b.add({ gateway: 'hls', media: MEDIA[0], startMs: T0 + 5000, durationMs: 10_000.4, client: '10.0.0.1' }, T0 + 60_000);
    b.add({ gateway: 'rtsp', media: MEDIA[0], startMs: 20_000, durationMs: 5000 }, T0 + 60_000); // an offset: ended now
    b.add({ gateway: 'hls', channel: 'lobby', media: MEDIA[1], startMs: T0, durationMs: 1000 }, T0);
    expect(b.size).toBe(3);
    const rows = b.take();
    expect(b.size).toBe(0);
    expect(rows).toEqual([
      { gateway: 'hls', media: MEDIA[0], client: '10.0.0.1', count: 2, durationMs: 40_000, first: T0, last: T0 + 30_000 },
      { gateway: 'rtsp', media: MEDIA[0], count: 1, durationMs: 5000, first: T0 + 55_000, last: T0 + 60_000 },
      { gateway: 'hls', media: MEDIA[1], channel: 'lobby', count: 1, durationMs: 1000, first: T0, last: T0 + 1000 },
    ]);
  });

  it('drops malformed plays and stays bounded when nobody takes the rows', () => {
    const b = new UsageBatch(2);
    expect(b.add({ gateway: 'ftp', startMs: T0, durationMs: 1 }, T0)).toBe(false);
    expect(b.add({ gateway: 'hls', media: 'not-a-guid', channel: 'Bad Name', client: 'x\u0000', startMs: NaN, durationMs: -5 }, T0)).toBe(true);
    expect(b.take()).toEqual([{ gateway: 'hls', count: 1, durationMs: 0, first: T0, last: T0 }]);
    for (let i = 0; i < 100; i++) b.add({ gateway: 'hls', media: MEDIA[i % 3], startMs: T0, durationMs: 10, client: `c${i}` }, T0);
    expect(b.size).toBe(6); // 2 * maxRows with clients, then rows without a client up to 3 * maxRows
    const rows = b.take();
    expect(rows.filter((r) => r.client === undefined).map((r) => r.media)).toEqual([MEDIA[1], MEDIA[2]]);
    expect(rows.reduce((n, r) => n + r.count, 0) + b.dropped).toBe(101);
    expect(b.dropped).toBeGreaterThan(1);
  });
});

describe('usage reports in the engine', () => {
  function reports() {
    const origins = SERVERS.map((g, i) => originAt(g, () => T0 + i));
    const row = (gateway: 'hls' | 'rtsp', count: number, media = MEDIA[0], extra: Partial<UsageRow> = {}): UsageRow => ({
      gateway,
      media,
      count,
      durationMs: count * 1000,
      first: T0,
      last: T0 + 1000,
      ...extra,
    });
    // three servers report plays of one media, each on the version it had seen: they collide, and all count
    const stus: Stu[] = origins.map((o, i) =>
      decoded(o.create({ type: USAGE, object: MEDIA[0] }, encodeUsageReport({ object: MEDIA[0], scope: 'media', server: SERVERS[i], rows: [row('hls', i + 1), row('rtsp', 10, MEDIA[0], { channel: 'lobby' })] }))),
    );
    stus.push(decoded(origins[1].create({ type: USAGE, object: MEDIA[0], prevTs: stus[1].header.ts }, encodeUsageReport({ object: MEDIA[0], scope: 'media', server: SERVERS[1], rows: [row('hls', 100)] }))));
    return { origins, stus, row };
  }

  it('adds up reports from many servers in any order (merge)', () => {
    const { stus } = reports();
    const states = [0, 1, 2, 3].map((k) => {
      const e = engineWithApps();
      for (const s of shuffle(stus, k)) e.ingest(s);
      expect(e.rejected()).toEqual([]);
      return usage(e, MEDIA[0]);
    });
    for (const s of states) expect(s).toEqual(states[0]);
    expect(states[0]).toMatchObject({
      scope: 'media',
      plays: 1 + 2 + 3 + 30 + 100,
      durationMs: 136_000,
      reports: 4,
      gateways: { hls: { plays: 106 }, rtsp: { plays: 30 } },
      media: { [MEDIA[0]]: { plays: 136 } },
      channels: { lobby: { plays: 30, durationMs: 30_000 } },
      servers: { [SERVERS[0]]: { plays: 11 }, [SERVERS[1]]: { plays: 112 }, [SERVERS[2]]: { plays: 13 } },
      first: T0,
      last: T0 + 1000,
    });
    expect(usageTotals(states[0])).toEqual({ plays: 136, durationMs: 136_000, hls: 106, rtsp: 30, servers: 3, first: new Date(T0).toISOString(), last: new Date(T0 + 1000).toISOString() });
  });

  it('adds up every server\'s own chain into the installation\'s usage', () => {
    const e = engineWithApps();
    SERVERS.forEach((g, i) => {
      const o = originAt(g, () => T0 + i);
      const rows: UsageRow[] = [{ gateway: i === 2 ? 'rtsp' : 'hls', media: MEDIA[i % 2], channel: 'lobby', count: i + 1, durationMs: 1000, first: T0 + i, last: T0 + 10 * i + 5 }];
      e.ingest(decoded(o.create({ type: USAGE, object: g }, encodeUsageReport({ object: g, scope: 'server', server: g, rows }))));
    });
    expect(e.rejected()).toEqual([]);
    expect(installationUsage(e)).toEqual({ plays: 6, durationMs: 3000, hls: 3, rtsp: 3, servers: 3, first: new Date(T0).toISOString(), last: new Date(T0 + 25).toISOString() });
  });

  it('summarizes to one STU with the same totals', () => {
    const { stus } = reports();
    const e = engineWithApps();
    e.ingestAll(stus);
    const before = usage(e, MEDIA[0])!;
    const body = encodeUsageSummary(before);
    expect(text(body)).toMatch(new RegExp(`^<usage version="1" object="${MEDIA[0]}" scope="media"><total plays="136" duration="136000" reports="4" first="${T0}" last="${T0 + 1000}"/><by kind="gateway" key="hls" plays="106" duration="106000"/>`));
    const fresh = engineWithApps();
    fresh.ingest(stu({ type: USAGE, object: MEDIA[0], ts: stus[3].header.ts + 1n, flags: Flag.SUMMARY, seq: 50 }, body));
    expect(usage(fresh, MEDIA[0])).toEqual(before);
  });

  it('refuses reports that are not what they claim, and bad XML', () => {
    const e = engineWithApps();
    const o = originAt(SERVERS[0], () => T0);
    const rows: UsageRow[] = [{ gateway: 'hls', media: MEDIA[0], count: 1, durationMs: 1, first: T0, last: T0 + 1 }];
    const bad: [Guid, Uint8Array, RegExp][] = [
      [MEDIA[0], encodeUsageReport({ object: MEDIA[0], scope: 'media', server: SERVERS[1], rows }), /reports its own plays/],
      [SERVERS[1], encodeUsageReport({ object: SERVERS[1], scope: 'server', server: SERVERS[0], rows }), /reports its own plays|own server chain/],
      [MEDIA[1], encodeUsageReport({ object: MEDIA[1], scope: 'media', server: SERVERS[0], rows }), /another media/],
      [MEDIA[2], enc.encode(`<usage version="1" object="${MEDIA[2]}" scope="media" server="${SERVERS[0]}"><plays gateway="hls" media="${MEDIA[2]}" count="0" duration="0" first="1" last="1"/></usage>`), /count 0/],
      [MEDIA[2], enc.encode(`<usage version="1" object="${MEDIA[2]}" scope="media" server="${SERVERS[0]}"><total plays="1" duration="1" reports="1"/></usage>`), /<plays> rows only/],
      [MEDIA[2], enc.encode(`<!DOCTYPE usage><usage version="1" object="${MEDIA[2]}" scope="media" server="${SERVERS[0]}"/>`), /DOCTYPE/],
      [MEDIA[2], enc.encode(`<usage version="1" object="${MEDIA[2]}" scope="world" server="${SERVERS[0]}"><plays gateway="hls" count="1" duration="0" first="1" last="1"/></usage>`), /not media or server/],
      [MEDIA[2], enc.encode(`<usage version="1" object="${MEDIA[2]}" scope="media" server="${SERVERS[0]}"><plays gateway="hls" media="${MEDIA[2]}" client="" count="1" duration="0" first="1" last="1"/></usage>`), /client/],
    ];
    for (const [object, body, reason] of bad) {
      const s = decoded(o.create({ type: USAGE, object }, body));
      e.ingest(s);
      const r = e.rejected().find((x) => x.object === object && x.ts === s.header.ts);
      expect(r?.reason, text(body)).toMatch(reason);
    }
    const none: UsageState | undefined = undefined;
    expect(() => usageApp.apply(none, stu({ type: USAGE, object: MEDIA[0], ts: 5n, flags: Flag.SUMMARY }, enc.encode(`<usage version="1" object="${MEDIA[0]}" scope="media"><by kind="media" key="x" plays="1" duration="1"/></usage>`)))).toThrow(/total/);
  });
});

describe('makeUsageRecorder', () => {
  it('writes one STU per media and one for the server per window, and the totals add up', async () => {
    const s = await server([20, 10, 5]);
    const rec = makeUsageRecorder({ guid: s.guid, engine: s.engine, stus: s.store }, { windowMs: 30, now: () => T0 });
    for (let i = 0; i < 10; i++) rec({ gateway: i % 2 ? 'hls' : 'rtsp', media: MEDIA[i % 2], startMs: T0, durationMs: 2000, client: `10.0.0.${i % 3}` });
    rec({ gateway: 'hls', channel: 'lobby', startMs: T0, durationMs: 500 });
    expect(s.engine.list(USAGE)).toEqual([]); // nothing before the window ends
    await new Promise((r) => setTimeout(r, 80));
    await rec.flush();
    expect(usage(s.engine, MEDIA[0])).toMatchObject({ scope: 'media', plays: 5, durationMs: 10_000, reports: 1, gateways: { rtsp: { plays: 5 } } });
    expect(usage(s.engine, MEDIA[1])).toMatchObject({ scope: 'media', plays: 5, gateways: { hls: { plays: 5 } } });
    expect(usage(s.engine, s.guid)).toMatchObject({ scope: 'server', plays: 11, reports: 1, channels: { lobby: { plays: 1 } }, servers: { [s.guid]: { plays: 11 } } });
    rec({ gateway: 'hls', media: MEDIA[0], startMs: T0, durationMs: 1000 });
    await rec.close();
    rec({ gateway: 'hls', media: MEDIA[0], startMs: T0, durationMs: 1000 }); // after close: ignored
    await rec.flush();
    expect(usage(s.engine, MEDIA[0])).toMatchObject({ plays: 6, reports: 2 });
    expect(installationUsage(s.engine)).toMatchObject({ plays: 12, hls: 7, rtsp: 5, servers: 1 });
    expect(s.engine.rejected()).toEqual([]);
    expect(s.engine.collisions()).toEqual([]);
  });

  it('cuts a window short when the batch is full, and summarizes its own chain', async () => {
    const s = await server();
    const rec = makeUsageRecorder({ guid: s.guid, engine: s.engine, stus: s.store }, { windowMs: 60_000, maxRows: 4, summarizeAfter: 3 });
    for (let i = 0; i < 40; i++) rec({ gateway: 'hls', media: MEDIA[0], startMs: T0, durationMs: 100, client: `client-${i}` });
    await rec.flush();
    await rec.flush();
    expect(rec.dropped).toBe(0);
    expect(usage(s.engine, s.guid)!.plays).toBe(40);
    expect(usage(s.engine, MEDIA[0])!.plays).toBe(40);
    const chain = s.engine.chainStatus(s.guid, USAGE)!;
    expect(chain.base).toBeDefined(); // summarized: a few STUs since the summary, not ten
    expect(chain.applied.length).toBeLessThanOrEqual(4);
    await rec.close();
  });

  it('never throws into a gateway, even when the ring refuses', async () => {
    const s = await server();
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m), debug: () => undefined, info: () => undefined, error: () => undefined, child: () => log };
    const broken = { guid: s.guid, engine: s.engine, stus: { ...s.store, create: () => Promise.reject(new Error('ring full')) } as unknown as typeof s.store };
    const rec = makeUsageRecorder(broken, { windowMs: 5, log });
    expect(() => rec({ gateway: 'hls', media: MEDIA[0], startMs: T0, durationMs: 1 })).not.toThrow();
    expect(() => rec(null as never)).not.toThrow();
    await new Promise((r) => setTimeout(r, 30));
    await rec.close();
    expect(warnings).toContain('usage report not written');
  });
});
