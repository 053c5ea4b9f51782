// The business-object engine: metadata STUs in any order in, business objects and verdicts out.
// Pure and synchronous; the rules are in docs/STATE.md.
import { crc32c, Flag, type Guid, type Hlc, isData, type NewStu, ok, type Result, type Stu, type StuHeader, stuId } from '../stu/index.ts';
import { Chain, type CachedView, type ObjectView } from './chain.ts';
import { Emitter } from '../util/emitter.ts';
import { type SnapshotError, snapshotFail } from './errors.ts';
import { canonical } from './order.ts';
import { checkAgainstRing, decodeSnapshot, encodeSnapshot, type SnapshotData } from './snapshot.ts';
import type {
  BusinessObject,
  ChainStatus,
  ChangeEvent,
  Collision,
  Conflict,
  Gap,
  IngestResult,
  IngestStatus,
  Rejection,
  StateApp,
} from './types.ts';

/** What the engine remembers of every STU id it took: its fingerprint, and its chain while it keeps it. */
interface Seen {
  fp: number;
  /** undefined once a summary replaced it. */
  chain: Chain | undefined;
}

/** A summary STU to create with `origin.create(init, body)`, after `origin.clock.observe(after)`. */
export interface SummaryDraft {
  init: NewStu;
  body: Uint8Array;
  /** The summary's timestamp must be later than this, or it would not sort after what it replaces. */
  after: Hlc;
}

export interface RestoreReport {
  stus: number;
  superseded: number;
  /** Objects taken as the snapshot had them; the others were folded again from their STUs. */
  reused: number;
}

const utf8 = new TextEncoder();
const byKey = (a: Chain, b: Chain): number => (a.object < b.object ? -1 : a.object > b.object ? 1 : a.type - b.type);

export class StateEngine {
  private readonly apps = new Map<number, StateApp<any>>();
  private readonly objects = new Map<Guid, Map<number, Chain>>();
  private readonly seen = new Map<string, Seen>();
  private readonly conflictLog = new Map<string, Conflict>();
  private readonly changes = new Emitter<ChangeEvent>();

  /** Throws TypeError when a type already has an application: a caller's mistake, not a peer's. */
  register<S>(app: StateApp<S>): void {
    if (app.policy !== 'first-wins' && app.policy !== 'merge') throw new TypeError(`unknown policy ${String(app.policy)}`);
    for (const t of app.types) if (this.apps.has(t)) throw new TypeError(`STU type ${t} already has an application`);
    for (const t of app.types) this.apps.set(t, app);
    this.recompute(this.chains().filter((c) => app.types.includes(c.type)));
  }

  /** Subscribe to object changes; returns the unsubscribe function. */
  onChange(listener: (event: ChangeEvent) => void): () => void {
    return this.changes.on(listener);
  }

  ingest(stu: Stu): IngestResult {
    return this.ingestAll([stu])[0];
  }

  /** Takes a batch; each touched chain is resolved once, then the change events go out. */
  ingestAll(stus: Iterable<Stu>): IngestResult[] {
    const touched = new Set<Chain>();
    const results: IngestResult[] = [];
    const queued: IngestResult[] = [];
    for (const stu of stus) {
      const id = stuId(stu.header);
      const status = this.admit(stu, touched);
      const r: IngestResult = { id, status: status ?? 'applied' };
      results.push(r);
      if (!status) queued.push(r);
    }
    this.recompute(touched);
    for (const r of queued) r.status = this.statusOf(r.id);
    return results;
  }

  /** The object `id`: of STU type `type`, or of its lowest type when none is given. Deleted ones too. */
  get<S = unknown>(id: Guid, type?: number): BusinessObject<S> | undefined {
    const byType = this.objects.get(id);
    if (!byType) return undefined;
    const types = type === undefined ? [...byType.keys()].sort((a, b) => a - b) : [type];
    for (const t of types) {
      const c = byType.get(t);
      if (c && this.apps.has(t) && c.view.exists) return toObject(c) as BusinessObject<S>;
    }
    return undefined;
  }

  /** Live objects, by id then type. */
  list(type?: number): BusinessObject[] {
    return this.built(type).filter((c) => !c.view.deleted).map((c) => toObject(c));
  }

  listDeleted(type?: number): BusinessObject[] {
    return this.built(type).filter((c) => c.view.deleted).map((c) => toObject(c));
  }

  gaps(): Gap[] {
    return this.resolved().flatMap((c) =>
      [...c.resolution.gaps]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([missingTs, heldCount]) => ({ object: c.object, type: c.type, missingTs, heldCount })),
    );
  }

  collisions(): Collision[] {
    return this.resolved().flatMap((c) => {
      const policy = this.apps.get(c.type)!.policy;
      return c.resolution.forks.map((f) => ({ object: c.object, type: c.type, policy, ...f }));
    });
  }

  rejected(): Rejection[] {
    return this.resolved().flatMap((c) => {
      const out: Rejection[] = [];
      for (const [id, v] of c.rejections()) {
        out.push({ id, object: c.object, type: c.type, ts: c.stus.get(id)?.header.ts ?? 0n, ...v });
      }
      for (const [id, { stu, reason }] of c.invalid) {
        out.push({ id, object: c.object, type: c.type, ts: stu.header.ts, code: 'invalid', reason: `summary: ${reason}` });
      }
      return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.id < b.id ? -1 : 1));
    });
  }

  conflicts(): Conflict[] {
    return [...this.conflictLog.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  chainStatus(object: Guid, type: number): ChainStatus | undefined {
    const c = this.objects.get(object)?.get(type);
    if (!c || !this.apps.has(type)) return undefined;
    const base = c.base ? stuId(c.base.header) : undefined;
    return { object, type, base, syncedTo: c.syncedTo(), applied: c.applied(), held: c.resolution.held.map((s) => stuId(s.header)) };
  }

  /** The headers of the STUs a chain holds now (its summary and what followed), in no particular order. */
  chainHeaders(object: Guid, type: number): StuHeader[] {
    const c = this.objects.get(object)?.get(type);
    return c ? [...c.stus.values()].map((s) => s.header) : [];
  }

  /** For the ring's retain policy: true once a summary replaced this STU, so the ring may overwrite it. */
  isSuperseded(id: string): boolean {
    const e = this.seen.get(id);
    return e !== undefined && e.chain === undefined;
  }

  /** A summary of the object as it is now; undefined without summarize(), or while STUs are held. */
  summaryFor(object: Guid, type: number): SummaryDraft | undefined {
    const c = this.objects.get(object)?.get(type);
    const app = this.apps.get(type);
    if (!c || !app || !c.view.exists || c.resolution.held.length > 0) return undefined;
    let after = 0n;
    for (const s of c.stus.values()) if (s.header.ts > after) after = s.header.ts;
    const init = { type, object, prevTs: 0n, user: c.view.owner };
    if (c.view.deleted) return { init: { ...init, flags: Flag.SUMMARY | Flag.TOMBSTONE }, body: new Uint8Array(0), after };
    if (!app.summarize || c.view.state === undefined) return undefined;
    return { init: { ...init, flags: Flag.SUMMARY }, body: app.summarize(c.view.state), after };
  }

  /** The object cache, to write at shutdown. */
  snapshot(): Uint8Array {
    const data: SnapshotData = { stus: [], superseded: [], conflicts: this.conflicts(), chains: [] };
    for (const [id, e] of this.seen) if (!e.chain) data.superseded.push([id, e.fp]);
    for (const c of this.chains()) {
      data.stus.push(...c.stus.values(), ...[...c.invalid.values()].map((x) => x.stu));
      const app = this.apps.get(c.type);
      const cached = app && c.cache(app);
      if (cached) data.chains.push({ object: c.object, type: c.type, ...cached });
    }
    return encodeSnapshot(data);
  }

  /**
   * Boot from a snapshot, checked against the ids of the ring's metadata section. Register the applications
   * first. On any error the engine is left untouched: rebuild it by ingesting the ring.
   */
  restore(bytes: Uint8Array, ringIds: Iterable<string>): Result<RestoreReport, SnapshotError> {
    if (this.seen.size > 0) return snapshotFail('NOT_EMPTY', 'restore into an engine that already holds STUs');
    const decoded = decodeSnapshot(bytes);
    if (!decoded.ok) return decoded;
    const d = decoded.value;
    const agreed = checkAgainstRing(d, ringIds);
    if (!agreed.ok) return agreed;
    for (const [id, fp] of d.superseded) this.seen.set(id, { fp, chain: undefined });
    for (const c of d.conflicts) this.conflictLog.set(`${c.id}|${c.kept}|${c.dropped}`, c);
    const touched = new Set<Chain>();
    for (const stu of d.stus) this.admit(stu, touched);
    const cached = new Map<Chain, CachedView>();
    for (const c of d.chains) {
      const chain = this.objects.get(c.object)?.get(c.type);
      if (chain) cached.set(chain, c);
    }
    const reused = this.recompute(touched, cached);
    return ok({ stus: d.stus.length, superseded: d.superseded.length, reused });
  }

  /** Dedupe, conflicts, supersession; puts the STU in its chain. undefined: queued for its chain. */
  private admit(stu: Stu, touched: Set<Chain>): IngestStatus | undefined {
    const h = stu.header;
    if (isData(h)) return 'ignored';
    const id = stuId(h);
    const canon = canonical(h);
    const fp = crc32c(utf8.encode(canon));
    const prior = this.seen.get(id);
    if (prior) {
      if (prior.fp === fp) return 'duplicate';
      if (!this.keepNewcomer(id, prior, canon, touched)) return 'conflict';
    }
    const chain = this.chainOf(h.object, h.type);
    if (chain.replaces(h)) {
      this.seen.set(id, { fp, chain: undefined });
      return prior ? 'conflict' : 'superseded';
    }
    chain.add(stu);
    this.seen.set(id, { fp, chain });
    touched.add(chain);
    return prior ? 'conflict' : undefined;
  }

  /** Two STUs with one id: keep the lower canonical form whatever the delivery order (while both are at hand). */
  private keepNewcomer(id: string, prior: Seen, canon: string, touched: Set<Chain>): boolean {
    const incumbent = prior.chain && (prior.chain.stus.get(id) ?? prior.chain.invalid.get(id)?.stu);
    const old = incumbent ? canonical(incumbent.header) : `superseded (fingerprint ${prior.fp})`;
    const keepNew = incumbent !== undefined && canon < old;
    const [kept, dropped] = keepNew ? [canon, old] : [old, canon];
    this.conflictLog.set(`${id}|${kept}|${dropped}`, { id, kept, dropped });
    if (keepNew && prior.chain) {
      prior.chain.drop(id);
      touched.add(prior.chain);
      this.seen.delete(id);
    }
    return keepNew;
  }

  /** Resolve and fold the chains, then emit one event per changed object. Returns how many views were reused. */
  private recompute(chains: Iterable<Chain>, cached?: Map<Chain, CachedView>): number {
    const events: ChangeEvent[] = [];
    let reused = 0;
    for (const chain of chains) {
      const app = this.apps.get(chain.type);
      if (!app) continue;
      const before = chain.view;
      const out = chain.compute(app, cached?.get(chain));
      if (out.reused) reused++;
      for (const id of out.superseded) {
        const e = this.seen.get(id);
        if (e) e.chain = undefined;
      }
      const event = change(chain, before);
      if (event) events.push(event);
    }
    for (const e of events) this.changes.emit(e);
    return reused;
  }

  private statusOf(id: string): IngestStatus {
    const chain = this.seen.get(id)?.chain;
    if (!chain) return 'superseded';
    if (!this.apps.has(chain.type)) return 'pending';
    if (chain.invalid.has(id)) return 'rejected';
    return chain.status(id);
  }

  private chainOf(object: Guid, type: number): Chain {
    let byType = this.objects.get(object);
    if (!byType) this.objects.set(object, (byType = new Map()));
    let c = byType.get(type);
    if (!c) byType.set(type, (c = new Chain(object, type)));
    return c;
  }

  private chains(): Chain[] {
    return [...this.objects.values()].flatMap((m) => [...m.values()]);
  }

  /** Chains with an application, in (object, type) order. */
  private resolved(): Chain[] {
    return this.chains().filter((c) => this.apps.has(c.type)).sort(byKey);
  }

  private built(type?: number): Chain[] {
    return this.resolved().filter((c) => c.view.exists && (type === undefined || c.type === type));
  }
}

function toObject(c: Chain, v: ObjectView = c.view): BusinessObject {
  return { id: c.object, type: c.type, state: v.state, ts: v.ts, owner: v.owner, deleted: v.deleted };
}

function change(c: Chain, before: ObjectView): ChangeEvent | undefined {
  const v = c.view;
  if (!v.exists) return before.exists ? { kind: 'removed', object: toObject(c, before) } : undefined;
  if (before.exists && v.state === before.state && v.ts === before.ts && v.owner === before.owner && v.deleted === before.deleted) {
    return undefined;
  }
  const kind = v.deleted && !(before.exists && before.deleted) ? 'deleted' : before.exists ? 'updated' : 'created';
  return { kind, object: toObject(c) };
}
