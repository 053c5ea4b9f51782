// The business objects as the app shows them: a view (core/describe.ts) per object of the viewer's engine,
// kept current from engine.onChange. Changes are coalesced: however many STUs one batch applied (a catch-up
// brings thousands), listeners hear `changed` once, on the next microtask. Playlists, channels and usage
// name media and playlists, so their views are described again when a media or a playlist changes.
import { MEDIA_META, PLAYLIST } from '../../../shared/media/stu-types.ts';
import type { StateEngine } from '../../../shared/state/engine.ts';
import type { BusinessObject, ChangeEvent } from '../../../shared/state/types.ts';
import { Emitter } from '../../../shared/util/emitter.ts';
import { type AppId, APPS, describe, type Lookup, objectKey, type ObjectView } from './describe.ts';

/** A batch of at most this many changed objects is "a change" (each is highlighted); a larger one is a catch-up. */
const FLASH_BATCH = 4;
const DEPENDENT: ReadonlySet<AppId> = new Set(['playlists', 'channels', 'usage']);
const APP_ORDER = new Map(APPS.map((a, i) => [a.id, i]));

const byTitle = (a: ObjectView, b: ObjectView): number =>
  (APP_ORDER.get(a.app)! - APP_ORDER.get(b.app)!) || a.title.localeCompare(b.title, undefined, { numeric: true, sensitivity: 'base' }) || (a.key < b.key ? -1 : 1);

export class ObjectsModel {
  /** After one or more objects changed (once per microtask at most). */
  readonly changed = new Emitter<{ keys: ReadonlySet<string> }>();
  /** Increases with every change: what a component compares to know whether to render again. */
  version = 0;
  private readonly views = new Map<string, ObjectView>();
  private readonly raw = new Map<string, BusinessObject>();
  private readonly touched = new Set<string>();
  /** Keys of this batch whose objects existed before (not created by it). */
  private readonly updated = new Set<string>();
  private firstChangeAt: number | undefined;
  private readonly lastChange = new Map<string, number>();
  private sorted: ObjectView[] | undefined;
  private flushQueued = false;
  private dependentsStale = false;
  private readonly lookup: Lookup = {
    media: (id) => this.views.get(objectKey({ id, type: MEDIA_META })),
    playlist: (id) => this.views.get(objectKey({ id, type: PLAYLIST })),
  };

  /** With an engine: follows it. Without one (a test page): objects come from set(). */
  constructor(private readonly engine?: StateEngine) {}

  /** Reads every live object and follows the changes; returns the function that stops following. */
  start(): () => void {
    if (!this.engine) return () => undefined;
    const off = this.engine.onChange((e) => this.onChange(e));
    for (const o of this.engine.list()) this.raw.set(objectKey(o), o);
    this.describeAll();
    this.queueFlush();
    return off;
  }

  /** Replaces every object (a page without an engine, the canvas's benchmark). */
  set(objects: readonly BusinessObject[]): void {
    this.raw.clear();
    this.views.clear();
    for (const o of objects) this.raw.set(objectKey(o), o);
    this.describeAll();
    for (const k of this.views.keys()) this.touched.add(k);
    this.queueFlush();
  }

  /** Every object, by application then title. */
  all(): readonly ObjectView[] {
    this.sorted ??= [...this.views.values()].sort(byTitle);
    return this.sorted;
  }

  byApp(app: AppId): ObjectView[] {
    return this.all().filter((v) => v.app === app);
  }

  get(key: string): ObjectView | undefined {
    return this.views.get(key);
  }

  /** The object with this GUID (its lowest STU type when it has several). */
  find(id: string): ObjectView | undefined {
    return this.all().find((v) => v.id === id);
  }

  /** Whether the object changed (after the first load) in the last `ms`: to draw attention to it. */
  changedWithin(key: string, ms: number): boolean {
    const t = this.lastChange.get(key);
    return t !== undefined && performance.now() - t < ms;
  }

  get size(): number {
    return this.views.size;
  }

  // ---------------------------------------------------------------------------------------- internals

  private onChange(e: ChangeEvent): void {
    const key = objectKey(e.object);
    if (e.kind === 'deleted' || e.kind === 'removed' || e.object.deleted) {
      this.raw.delete(key);
      this.views.delete(key);
    } else {
      this.raw.set(key, e.object);
      const v = describe(e.object, this.lookup);
      this.views.set(key, v);
    }
    if (e.kind === 'updated') this.updated.add(key);
    if (e.object.type === MEDIA_META || e.object.type === PLAYLIST) this.dependentsStale = true;
    this.touched.add(key);
    this.queueFlush();
  }

  private describeAll(): void {
    // media first: the others read media titles and durations, channels read playlist titles
    const order = [...this.raw.values()].sort((a, b) => rank(a.type) - rank(b.type));
    for (const o of order) this.views.set(objectKey(o), describe(o, this.lookup));
  }

  private queueFlush(): void {
    this.sorted = undefined;
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (this.dependentsStale) {
        this.dependentsStale = false;
        for (const [key, o] of [...this.raw].sort((a, b) => rank(a[1].type) - rank(b[1].type))) {
          const v = this.views.get(key);
          if (!v || !DEPENDENT.has(v.app)) continue;
          const again = describe(o, this.lookup);
          if (JSON.stringify(again) !== JSON.stringify(v)) {
            this.views.set(key, again);
            this.touched.add(key);
          }
        }
      }
      this.sorted = undefined;
      this.version++;
      const keys = new Set(this.touched);
      this.touched.clear();
      // draw attention to changes, not to a catch-up bringing many objects at once
      const now = performance.now();
      this.firstChangeAt ??= now;
      const settled = now - this.firstChangeAt > 2500; // past the first catch-up
      for (const k of settled && keys.size <= FLASH_BATCH ? keys : this.updated) this.lastChange.set(k, now);
      this.updated.clear();
      this.changed.emit({ keys });
    });
  }
}

const rank = (type: number): number => (type === MEDIA_META ? 0 : type === PLAYLIST ? 1 : 2);
