// Usage reporting: what the gateways played. Plays are aggregated for a short window (UsageBatch, pure) and
// written as USAGE (0x0104) STUs into two chains: the media object's own (object = media GUID, scope
// "media") and the reporting server's (object = the server's GUID, scope "server"). The installation's
// usage is the sum of every server's chain, which every server holds since metadata replicates everywhere.
// Formats and the reasons for them: docs/MEDIA.md ("Usage").
//
// Policy: merge. Many servers report plays of one media object; every report counts, whatever order they
// arrive in. A server's own chain has one writer, so it never collides and that server may summarize it.
import type { StateApp } from '../state/types.ts';
import { isGuid, type Guid } from '../stu/guid.ts';
import { isSummary, type Stu } from '../stu/header.ts';
import { isXmlSafe } from '../stx/xml.ts';
import { CHANNEL_NAME } from './channel.ts';
import { badCommand } from './playlist-errors.ts';
import { AttrReader, buildCommand, type CommandLimits, MAX_MS, type Op, parseCommand } from './playlist-xml.ts';
import { USAGE } from './stu-types.ts';

export const USAGE_LIMITS: CommandLimits = { maxBytes: 4 * 1024 * 1024, maxOps: 20_000 };
export const GATEWAYS = ['hls', 'rtsp'] as const;
export type Gateway = (typeof GATEWAYS)[number];
export const USAGE_SCOPES = ['media', 'server'] as const;
export type UsageScope = (typeof USAGE_SCOPES)[number];
/** Distinct keys kept per breakdown (media, channels, servers); further ones are counted under "*". */
export const MAX_KEYS = 10_000;
export const MAX_CLIENT = 256;
/** Largest play count or duration sum carried. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** Plays aggregated over a window: same gateway, media, channel and client. */
export interface UsageRow {
  gateway: Gateway;
  media?: Guid;
  channel?: string;
  client?: string;
  count: number;
  /** Sum of the plays' durations. */
  durationMs: number;
  /** Epoch ms: the earliest start and the latest end of these plays. */
  first: number;
  last: number;
}

export interface UsageTotals {
  plays: number;
  durationMs: number;
}

export interface UsageState {
  object: Guid;
  scope: UsageScope;
  plays: number;
  durationMs: number;
  first?: number;
  last?: number;
  /** Report STUs applied (a summary counts those it replaced). */
  reports: number;
  gateways: Record<string, UsageTotals>;
  media: Record<string, UsageTotals>;
  channels: Record<string, UsageTotals>;
  servers: Record<string, UsageTotals>;
}

export interface UsageReport {
  object: Guid;
  scope: UsageScope;
  /** The server that saw the plays. */
  server: Guid;
  rows: UsageRow[];
}

// ------------------------------------------------------------------------------------------- the XML

export function encodeUsageReport(r: UsageReport): Uint8Array {
  const ops = r.rows.map((row): Op => {
    const a: Record<string, string> = { gateway: row.gateway };
    if (row.media) a.media = row.media;
    if (row.channel) a.channel = row.channel;
    if (row.client) a.client = row.client;
    Object.assign(a, { count: String(row.count), duration: String(row.durationMs), first: String(row.first), last: String(row.last) });
    return { name: 'plays', attrs: a };
  });
  return buildCommand('usage', r.object, { scope: r.scope, server: r.server }, ops, USAGE_LIMITS);
}

const BY_KINDS = ['gateway', 'media', 'channel', 'server'] as const;
type ByKind = (typeof BY_KINDS)[number];
const mapOf = (s: UsageState, kind: ByKind): Record<string, UsageTotals> =>
  kind === 'gateway' ? s.gateways : kind === 'media' ? s.media : kind === 'channel' ? s.channels : s.servers;

/** The whole state as one command: a total and the breakdowns. */
export function encodeUsageSummary(s: UsageState): Uint8Array {
  const total: Record<string, string> = { plays: String(s.plays), duration: String(s.durationMs), reports: String(s.reports) };
  if (s.first !== undefined) total.first = String(s.first);
  if (s.last !== undefined) total.last = String(s.last);
  const ops: Op[] = [{ name: 'total', attrs: total }];
  for (const kind of BY_KINDS) {
    for (const [key, t] of Object.entries(mapOf(s, kind)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      ops.push({ name: 'by', attrs: { kind, key, plays: String(t.plays), duration: String(t.durationMs) } });
    }
  }
  return buildCommand('usage', s.object, { scope: s.scope }, ops, USAGE_LIMITS);
}

const validKey = (kind: ByKind, key: string): boolean =>
  key === '*' ||
  (kind === 'gateway' ? (GATEWAYS as readonly string[]).includes(key) : kind === 'channel' ? CHANNEL_NAME.test(key) : isGuid(key));

function emptyState(object: Guid, scope: UsageScope): UsageState {
  return { object, scope, plays: 0, durationMs: 0, reports: 0, gateways: {}, media: {}, channels: {}, servers: {} };
}

function readRow(o: Op, i: number): UsageRow {
  const where = `row ${i + 1} <${o.name}>`;
  if (o.name !== 'plays') throw badCommand(`${where}: a report holds <plays> rows only`);
  const r = new AttrReader(where, o.attrs, ['gateway', 'media', 'channel', 'client', 'count', 'duration', 'first', 'last']);
  const row: UsageRow = {
    gateway: r.oneOf('gateway', GATEWAYS),
    count: r.uint('count', MAX_COUNT),
    durationMs: r.uint('duration', MAX_COUNT),
    first: r.ms('first'),
    last: r.ms('last'),
  };
  if (row.count === 0) throw badCommand(`${where}: count 0`);
  if (row.first > row.last) throw badCommand(`${where}: first after last`);
  if (r.has('media')) row.media = r.guid('media');
  if (r.has('channel')) row.channel = r.match('channel', CHANNEL_NAME, 'a channel name');
  if (r.has('client')) {
    const c = r.need('client');
    if (c === '' || c.length > MAX_CLIENT) throw badCommand(`${where}: client is empty or longer than ${MAX_CLIENT}`);
    row.client = c;
  }
  return row;
}

const add = (a: number, b: number): number => Math.min(MAX_COUNT, a + b);

function bump(map: Record<string, UsageTotals>, key: string, plays: number, durationMs: number): Record<string, UsageTotals> {
  const k = key in map || Object.keys(map).length < MAX_KEYS ? key : '*';
  const t = map[k] ?? { plays: 0, durationMs: 0 };
  return { ...map, [k]: { plays: add(t.plays, plays), durationMs: add(t.durationMs, durationMs) } };
}

/** The state after one report (pure; copies what it changes). */
export function applyUsageReport(state: UsageState, server: Guid, rows: readonly UsageRow[]): UsageState {
  const s: UsageState = { ...state, reports: state.reports + 1 };
  for (const row of rows) {
    s.plays = add(s.plays, row.count);
    s.durationMs = add(s.durationMs, row.durationMs);
    s.first = s.first === undefined ? row.first : Math.min(s.first, row.first);
    s.last = s.last === undefined ? row.last : Math.max(s.last, row.last);
    s.gateways = bump(s.gateways, row.gateway, row.count, row.durationMs);
    if (row.media) s.media = bump(s.media, row.media, row.count, row.durationMs);
    if (row.channel) s.channels = bump(s.channels, row.channel, row.count, row.durationMs);
    s.servers = bump(s.servers, server, row.count, row.durationMs);
  }
  return s;
}

function readSummary(object: Guid, scope: UsageScope, ops: Op[]): UsageState {
  const s = emptyState(object, scope);
  ops.forEach((o, i) => {
    const where = `element ${i + 1} <${o.name}>`;
    if (o.name === 'total') {
      if (i !== 0) throw badCommand(`${where}: <total> comes first, once`);
      const r = new AttrReader(where, o.attrs, ['plays', 'duration', 'reports', 'first', 'last']);
      s.plays = r.uint('plays', MAX_COUNT);
      s.durationMs = r.uint('duration', MAX_COUNT);
      s.reports = r.uint('reports', MAX_COUNT);
      if (r.has('first')) s.first = r.ms('first');
      if (r.has('last')) s.last = r.ms('last');
      return;
    }
    if (o.name !== 'by' || i === 0) throw badCommand(`${where}: a usage summary is one <total> and <by> elements`);
    const r = new AttrReader(where, o.attrs, ['kind', 'key', 'plays', 'duration']);
    const kind = r.oneOf('kind', BY_KINDS);
    const key = r.need('key');
    if (!validKey(kind, key)) throw badCommand(`${where}: "${key.slice(0, 64)}" is not a ${kind}`);
    const map = mapOf(s, kind);
    if (key in map) throw badCommand(`${where}: ${kind} ${key} twice`);
    if (Object.keys(map).length >= MAX_KEYS + 1) throw badCommand(`${where}: more than ${MAX_KEYS} keys`);
    map[key] = { plays: r.uint('plays', MAX_COUNT), durationMs: r.uint('duration', MAX_COUNT) };
  });
  if (ops[0]?.name !== 'total') throw badCommand('a usage summary without <total>');
  return s;
}

export const usageApp: StateApp<UsageState> = {
  types: [USAGE],
  policy: 'merge',
  apply(state, stu: Stu) {
    const cmd = parseCommand(stu.body, 'usage', USAGE_LIMITS);
    const h = stu.header;
    if (cmd.object !== h.object) throw badCommand(`a usage command for ${cmd.object} in an STU of object ${h.object}`);
    const { scope: scopeAttr, server: serverAttr, ...rest } = cmd.attrs;
    for (const a of Object.keys(rest)) throw badCommand(`<usage>: unknown attribute ${a}`);
    if (!(USAGE_SCOPES as readonly string[]).includes(scopeAttr)) throw badCommand(`<usage scope="${String(scopeAttr)}">: not media or server`);
    const scope = scopeAttr as UsageScope;
    if (state && state.scope !== scope) throw badCommand(`a ${scope} usage report in a ${state.scope} usage chain`);
    if (isSummary(h)) {
      if (serverAttr !== undefined) throw badCommand('<usage>: a summary has no server');
      return readSummary(h.object, scope, cmd.ops);
    }
    if (serverAttr !== h.origin) throw badCommand(`<usage server="${String(serverAttr)}">: a server reports its own plays (origin ${h.origin})`);
    if (scope === 'server' && h.object !== h.origin) throw badCommand('a server usage report belongs in its own server chain');
    if (cmd.ops.length === 0) throw badCommand('a usage report without rows');
    const rows = cmd.ops.map(readRow);
    if (scope === 'media' && rows.some((r) => r.media !== h.object)) throw badCommand('a media usage report with plays of another media');
    return applyUsageReport(state ?? emptyState(h.object, scope), serverAttr, rows);
  },
  summarize: encodeUsageSummary,
};

/** Adds up usage states (every server's chain: the installation's usage). */
export function sumUsage(states: readonly UsageState[]): Omit<UsageState, 'object' | 'scope'> {
  const total: Omit<UsageState, 'object' | 'scope'> = { plays: 0, durationMs: 0, reports: 0, gateways: {}, media: {}, channels: {}, servers: {} };
  const merge = (into: Record<string, UsageTotals>, from: Record<string, UsageTotals>) => {
    let out = into;
    for (const [k, t] of Object.entries(from)) out = bump(out, k, t.plays, t.durationMs);
    return out;
  };
  for (const s of states) {
    total.plays = add(total.plays, s.plays);
    total.durationMs = add(total.durationMs, s.durationMs);
    total.reports = add(total.reports, s.reports);
    if (s.first !== undefined) total.first = Math.min(total.first ?? s.first, s.first);
    if (s.last !== undefined) total.last = Math.max(total.last ?? s.last, s.last);
    total.gateways = merge(total.gateways, s.gateways);
    total.media = merge(total.media, s.media);
    total.channels = merge(total.channels, s.channels);
    total.servers = merge(total.servers, s.servers);
  }
  return total;
}

// ------------------------------------------------------------------------------------------- batching

/** A play as a gateway reports it (node-peer/media/frames.ts Play). */
export interface PlayInput {
  gateway: string;
  media?: string;
  channel?: string;
  /** Where the play started in the media (ms): then the play is dated as having ended when it was recorded.
   *  A value of 10^12 or more (after 2001-09-09) is read as the epoch ms the play started instead. */
  startMs: number;
  durationMs: number;
  client?: string;
}

const WALL_CLOCK_FROM = 1e12; // 2001-09-09

/**
 * Plays aggregated by (gateway, media, channel, client), bounded. The writer takes the rows every window, or
 * as soon as `size >= maxRows`. While it cannot keep up, rows grow to `2 * maxRows`; then the plays of new
 * clients are folded into rows without a client (up to `3 * maxRows` rows), and past that they are dropped
 * (counted in `dropped`).
 */
export class UsageBatch {
  private rows = new Map<string, UsageRow>();
  dropped = 0;

  constructor(readonly maxRows = 256) {}

  get size(): number {
    return this.rows.size;
  }

  /** False when the play was malformed or dropped. */
  add(p: PlayInput, nowMs: number): boolean {
    if (!(GATEWAYS as readonly string[]).includes(p.gateway)) return this.drop();
    const durationMs = Number.isFinite(p.durationMs) ? Math.min(MAX_MS, Math.max(0, Math.round(p.durationMs))) : 0;
    const wall = Number.isFinite(p.startMs) && p.startMs >= WALL_CLOCK_FROM && p.startMs <= MAX_MS;
    const first = Math.max(0, wall ? Math.round(p.startMs) : Math.round(nowMs) - durationMs);
    const row: UsageRow = { gateway: p.gateway as Gateway, count: 1, durationMs, first, last: Math.max(first, first + durationMs) };
    if (isGuid(p.media)) row.media = p.media;
    if (typeof p.channel === 'string' && CHANNEL_NAME.test(p.channel)) row.channel = p.channel;
    if (typeof p.client === 'string' && p.client !== '' && p.client.length <= MAX_CLIENT && isXmlSafe(p.client)) row.client = p.client;
    const key = `${row.gateway}|${row.media ?? ''}|${row.channel ?? ''}|`;
    if (row.client !== undefined && this.merge(key + row.client, row, 2 * this.maxRows)) return true;
    delete row.client;
    return this.merge(key, row, 3 * this.maxRows) || this.drop();
  }

  /** The rows so far (and an empty batch). */
  take(): UsageRow[] {
    const out = [...this.rows.values()];
    this.rows = new Map();
    return out;
  }

  private merge(key: string, row: UsageRow, limit: number): boolean {
    const have = this.rows.get(key);
    if (have) {
      have.count++;
      have.durationMs = Math.min(MAX_COUNT, have.durationMs + row.durationMs);
      have.first = Math.min(have.first, row.first);
      have.last = Math.max(have.last, row.last);
      return true;
    }
    if (this.rows.size >= limit) return false;
    this.rows.set(key, row);
    return true;
  }

  private drop(): false {
    this.dropped++;
    return false;
  }
}
