// One (object, type) chain: the STUs kept since its base summary, and the business object folded from them.
import { crc32c, Flag, type Guid, type Hlc, isSummary, isTombstone, NIL_GUID, type Stu, type StuHeader, stuId } from '../stu/index.ts';
import { compareKey } from './order.ts';
import { emptyResolution, type Resolution, resolveChain, type Verdict } from './resolve.ts';
import type { StateApp } from './types.ts';

export interface ObjectView {
  exists: boolean;
  state: unknown;
  ts: Hlc;
  owner: Guid;
  deleted: boolean;
}

/** A chain's computed view as a snapshot keeps it; reused at restore when `digest` still matches. */
export interface CachedView extends Omit<ObjectView, 'state'> {
  base: string | undefined;
  digest: number;
  /** The app's summarize() of the state; undefined when there is no state. */
  stateBytes: Uint8Array | undefined;
  rejected: [string, Verdict][];
}

export interface ComputeOutcome {
  /** Ids dropped because the base summary replaces them. */
  superseded: string[];
  /** True when the object was taken from the snapshot's view instead of being folded. */
  reused: boolean;
}

const NO_VIEW: ObjectView = { exists: false, state: undefined, ts: 0n, owner: NIL_GUID, deleted: false };
const utf8 = new TextEncoder();

type Applied = { ok: true; state: unknown } | { ok: false; reason: string };

function tryApply(app: StateApp<any>, state: unknown, stu: Stu): Applied {
  try {
    return { ok: true, state: app.apply(state, stu) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export class Chain {
  /** Every STU kept: the base summary and everything sorting after it. */
  readonly stus = new Map<string, Stu>();
  /** Summaries the application could not read, with its reason; never a base. */
  readonly invalid = new Map<string, { stu: Stu; reason: string }>();
  base: Stu | undefined;
  resolution: Resolution = emptyResolution();
  view: ObjectView = { ...NO_VIEW };
  private order: string[] = [];
  private held = new Set<string>();
  /** Added since the last compute(); `dirty` when one was taken away. */
  private added: Stu[] = [];
  private dirty = false;
  /** The kept STU that sorts last. */
  private top: Stu | undefined;
  private readonly validated = new Set<string>();
  private readonly foldRejected = new Map<string, Verdict>();

  constructor(
    readonly object: Guid,
    readonly type: number,
  ) {}

  add(stu: Stu): void {
    this.stus.set(stuId(stu.header), stu);
    this.added.push(stu);
  }

  drop(id: string): void {
    this.stus.delete(id);
    this.invalid.delete(id);
    this.dirty = true;
  }

  /** True when the base summary sorts after `h`: `h` is replaced and may be forgotten. */
  replaces(h: Pick<StuHeader, 'ts' | 'origin' | 'seq'>): boolean {
    return this.base !== undefined && compareKey(h, this.base.header) < 0;
  }

  rejections(): Map<string, Verdict> {
    return new Map([...this.resolution.rejected, ...this.foldRejected]);
  }

  status(id: string): 'applied' | 'held' | 'rejected' {
    if (this.resolution.rejected.has(id) || this.foldRejected.has(id)) return 'rejected';
    return this.held.has(id) ? 'held' : 'applied';
  }

  /** Applied ids in order, the base first. */
  applied(): string[] {
    const ids = this.order.filter((id) => !this.foldRejected.has(id));
    return this.base ? [stuId(this.base.header), ...ids] : ids;
  }

  /** The latest applied timestamp below the first gap. */
  syncedTo(): Hlc {
    let first: Hlc | undefined;
    for (const t of this.resolution.gaps.keys()) if (first === undefined || t < first) first = t;
    let best = this.base?.header.ts ?? 0n;
    for (const s of this.resolution.order) {
      if ((first === undefined || s.header.ts < first) && s.header.ts > best) best = s.header.ts;
    }
    return best;
  }

  /** Re-resolve the chain and bring the object up to date: only the new tail when the old order is a prefix. */
  compute(app: StateApp<any>, cached?: CachedView): ComputeOutcome {
    const out: ComputeOutcome = { superseded: [], reused: false };
    const one = this.added.length === 1 && !this.dirty && !cached ? this.added[0] : undefined;
    this.added = [];
    this.dirty = false;
    if (one && this.append(app, one)) return out;
    if (cached?.base !== undefined) this.validated.add(cached.base);
    let fresh: Applied | undefined;
    let base: Stu | undefined;
    const summaries = [...this.stus.values()].filter((s) => isSummary(s.header));
    for (const s of summaries.sort((a, b) => compareKey(b.header, a.header))) {
      const id = stuId(s.header);
      const r: Applied = this.validated.has(id) || isTombstone(s.header) ? { ok: true, state: undefined } : tryApply(app, undefined, s);
      if (r.ok) {
        if (!this.validated.has(id)) fresh = r;
        this.validated.add(id);
        base = s;
        break;
      }
      this.stus.delete(id);
      this.invalid.set(id, { stu: s, reason: r.reason });
    }
    if (base) {
      for (const [id, s] of this.stus) {
        if (compareKey(s.header, base.header) < 0) {
          this.stus.delete(id);
          this.validated.delete(id);
          out.superseded.push(id);
        }
      }
      for (const [id, { stu }] of this.invalid) {
        if (compareKey(stu.header, base.header) < 0) {
          this.invalid.delete(id);
          out.superseded.push(id);
        }
      }
    }
    const baseChanged = base !== this.base;
    this.base = base;
    const nodes = [...this.stus.values()].filter((s) => s !== base);
    const res = resolveChain(nodes, app.policy, base?.header.ts ?? 0n);
    const ids = res.order.map((s) => stuId(s.header));
    let from = 0;
    if (cached && this.adopt(app, cached, ids)) {
      from = ids.length;
      out.reused = true;
    } else if (!baseChanged && this.order.every((id, i) => ids[i] === id)) from = this.order.length;
    else this.reset(app, fresh);
    for (let i = from; i < res.order.length; i++) this.fold(app, res.order[i]);
    this.order = ids;
    this.resolution = res;
    this.held = new Set(res.held.map((h) => stuId(h.header)));
    this.top = undefined;
    for (const s of this.stus.values()) if (!this.top || compareKey(s.header, this.top.header) > 0) this.top = s;
    return out;
  }

  /**
   * The common case without a full resolve: one new change that follows the applied tip and sorts after every
   * kept STU. Nothing else can change: no kept STU can be its sibling (it would sort after the tip and be on
   * the path), its child, a child of its timestamp, or wait for it (a held STU sorts after what it waits for).
   */
  private append(app: StateApp<any>, s: Stu): boolean {
    const res = this.resolution;
    const tip = res.order[res.order.length - 1];
    if (!tip || !this.top || isSummary(s.header)) return false;
    if (s.header.prevTs !== tip.header.ts || compareKey(s.header, this.top.header) <= 0) return false;
    res.order.push(s);
    this.order.push(stuId(s.header));
    this.top = s;
    this.fold(app, s);
    return true;
  }

  /** The computed view, for a snapshot; undefined when the state cannot be written (no summarize()). */
  cache(app: StateApp<any>): CachedView | undefined {
    let stateBytes: Uint8Array | undefined;
    if (this.view.state !== undefined) {
      if (!app.summarize) return undefined;
      try {
        stateBytes = app.summarize(this.view.state);
      } catch {
        return undefined; // the object is rebuilt from its STUs at restore instead
      }
    }
    const { exists, ts, owner, deleted } = this.view;
    return { exists, ts, owner, deleted, base: this.baseId(), digest: this.digest(this.order), stateBytes, rejected: [...this.foldRejected] };
  }

  private baseId(): string | undefined {
    return this.base ? stuId(this.base.header) : undefined;
  }

  private digest(ids: string[]): number {
    return crc32c(utf8.encode(`${this.baseId() ?? ''}|${ids.join(',')}`));
  }

  /** Take a snapshot's view instead of folding, if it was computed from exactly these STUs. */
  private adopt(app: StateApp<any>, cached: CachedView, ids: string[]): boolean {
    if (cached.base !== this.baseId() || cached.digest !== this.digest(ids)) return false;
    let state: unknown;
    if (cached.stateBytes) {
      const like = this.base ?? this.stus.get(ids[ids.length - 1]);
      if (!like) return false;
      const body = cached.stateBytes;
      const header = { ...like.header, flags: Flag.SUMMARY, bodySize: body.length, bodyCrc: crc32c(body) };
      const r = tryApply(app, undefined, { header, body });
      if (!r.ok) return false;
      state = r.state;
    }
    this.view = { exists: cached.exists, state, ts: cached.ts, owner: cached.owner, deleted: cached.deleted };
    this.foldRejected.clear();
    for (const [id, v] of cached.rejected) this.foldRejected.set(id, v);
    return true;
  }

  /** Start again from the base: its (fresh) state, or nothing. */
  private reset(app: StateApp<any>, fresh: Applied | undefined): void {
    this.foldRejected.clear();
    const b = this.base;
    if (!b) {
      this.view = { ...NO_VIEW };
      return;
    }
    const deleted = isTombstone(b.header);
    const r = deleted ? undefined : (fresh ?? tryApply(app, undefined, b));
    this.view = { exists: true, state: r?.ok ? r.state : undefined, ts: b.header.ts, owner: b.header.user, deleted };
  }

  private fold(app: StateApp<any>, s: Stu): void {
    const id = stuId(s.header);
    const v = this.view;
    if (v.deleted) {
      this.foldRejected.set(id, { code: 'deleted', reason: `object deleted at ${v.ts}` });
      return;
    }
    const owner = v.exists ? v.owner : s.header.user;
    if (isTombstone(s.header)) {
      this.view = { ...v, exists: true, ts: s.header.ts, owner, deleted: true };
      return;
    }
    const r = tryApply(app, v.state, s);
    if (!r.ok) {
      this.foldRejected.set(id, { code: 'invalid', reason: r.reason });
      return;
    }
    this.view = { exists: true, state: r.state, ts: s.header.ts, owner, deleted: false };
  }
}
