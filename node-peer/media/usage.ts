// Usage reporting on a state server: the gateways' plays, aggregated for a short window (shared/media/usage.ts
// UsageBatch), then written as USAGE STUs: one per media object played (its own usage chain) and one for this
// server's usage chain (object = the server's GUID; the installation's usage is the sum over servers). One
// write at a time; a window is cut short when the batch is full. This server summarizes its own chain now
// and then (it is the chain's only writer, so nothing is lost); media chains have many writers and are not
// summarized here. Never throws into a gateway: failures are logged.
import type { Logger } from '../../shared/log.ts';
import { encodeUsageReport, sumUsage, UsageBatch, type UsageRow, type UsageScope, type UsageState } from '../../shared/media/usage.ts';
import type { StateEngine } from '../../shared/state/engine.ts';
import { USAGE } from '../../shared/media/stu-types.ts';
import type { Guid } from '../../shared/stu/index.ts';
import type { StateNode } from '../node.ts';
import type { Play } from './frames.ts';

export interface UsageRecorderOptions {
  /** How long plays are aggregated before they are written. Default 10 s. */
  windowMs?: number;
  /** Rows (distinct gateway, media, channel, client) that cut a window short. Default 256. */
  maxRows?: number;
  /** Batches waiting to be written before the recorder stops cutting windows short and folds plays instead.
   *  Default 4. */
  maxPending?: number;
  /** This server's usage chain is summarized once it has this many STUs since its base. Default 64. */
  summarizeAfter?: number;
  now?: () => number;
  log?: Logger;
}

export interface UsageRecorder {
  (play: Play): void;
  /** Writes what is pending now; resolves when every write so far is done. */
  flush(): Promise<void>;
  /** Flushes and stops the timer; later plays are ignored. */
  close(): Promise<void>;
  /** Plays dropped (malformed, or past the bound while writes could not keep up). */
  readonly dropped: number;
}

type UsageNode = Pick<StateNode, 'guid' | 'engine' | 'stus'>;

export function makeUsageRecorder(node: UsageNode, opts: UsageRecorderOptions = {}): UsageRecorder {
  const windowMs = opts.windowMs ?? 10_000;
  const summarizeAfter = opts.summarizeAfter ?? 64;
  const now = opts.now ?? Date.now;
  const maxPending = opts.maxPending ?? 4;
  const batch = new UsageBatch(opts.maxRows ?? 256);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();
  let pending = 0;
  let closed = false;

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const rows = batch.take();
    if (rows.length > 0) {
      pending++;
      writing = writing
        .then(() => write(node, rows, summarizeAfter))
        .catch((e: unknown) => opts.log?.warn('usage report not written', { error: String(e), rows: rows.length }))
        .finally(() => {
          pending--;
          if (batch.size >= batch.maxRows) void flush(); // filled up while the writes could not keep up
        });
    }
    return writing;
  };

  const record = (play: Play): void => {
    if (closed) return;
    try {
      batch.add(play, now());
      if (batch.size >= batch.maxRows && pending < maxPending) void flush();
      else if (!timer && batch.size > 0) {
        timer = setTimeout(() => void flush(), windowMs);
        timer.unref?.();
      }
    } catch (e) {
      opts.log?.warn('play not recorded', { error: String(e) });
    }
  };

  const recorder = record as UsageRecorder;
  Object.defineProperties(recorder, {
    flush: { value: flush },
    close: {
      value: async () => {
        closed = true;
        await flush();
      },
    },
    dropped: { get: () => batch.dropped },
  });
  return recorder;
}

/** One STU per media played, then one for the server; each after its chain's current version. */
async function write(node: UsageNode, rows: UsageRow[], summarizeAfter: number): Promise<void> {
  const byMedia = new Map<Guid, UsageRow[]>();
  for (const r of rows) if (r.media) byMedia.set(r.media, [...(byMedia.get(r.media) ?? []), r]);
  for (const [media, list] of byMedia) await report(node, media, 'media', list);
  await report(node, node.guid, 'server', rows);
  const status = node.engine.chainStatus(node.guid, USAGE);
  if (status && status.applied.length > summarizeAfter) {
    const draft = node.engine.summaryFor(node.guid, USAGE);
    if (draft) {
      node.stus.origin.clock.observe(draft.after);
      await node.stus.create(draft.init, draft.body);
    }
  }
}

async function report(node: UsageNode, object: Guid, scope: UsageScope, rows: UsageRow[]): Promise<void> {
  const prev = node.engine.get(object, USAGE);
  const body = encodeUsageReport({ object, scope, server: node.guid, rows });
  await node.stus.create({ type: USAGE, object, prevTs: prev?.ts ?? 0n }, body);
}

/** Plays as `stateos ls` and GET /api/objects show them. */
export interface UsageTotalsView {
  plays: number;
  durationMs: number;
  /** Plays by gateway. */
  hls: number;
  rtsp: number;
  /** Servers that reported plays. */
  servers: number;
  /** The earliest start and the latest end of a play, ISO 8601. */
  first?: string;
  last?: string;
}

export function usageTotals(s: Omit<UsageState, 'object' | 'scope'> | undefined): UsageTotalsView {
  const v: UsageTotalsView = {
    plays: s?.plays ?? 0,
    durationMs: s?.durationMs ?? 0,
    hls: s?.gateways.hls?.plays ?? 0,
    rtsp: s?.gateways.rtsp?.plays ?? 0,
    servers: Object.keys(s?.servers ?? {}).length,
  };
  if (s?.first !== undefined) v.first = new Date(s.first).toISOString();
  if (s?.last !== undefined) v.last = new Date(s.last).toISOString();
  return v;
}

/** The installation's plays: every server's usage chain added up. */
export function installationUsage(engine: StateEngine): UsageTotalsView {
  const servers = engine.list(USAGE).map((o) => o.state as UsageState | undefined).filter((s): s is UsageState => s?.scope === 'server');
  return usageTotals(sumUsage(servers));
}
