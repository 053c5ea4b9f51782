// The State UI canvas: every business object a rectangle on an infinite canvas, grouped by application.
// Zoomed out a rectangle is a coloured block (overview), then a glance (summary), and from DETAIL_K up its
// detail, which is interactive. Mouse, touch, pen (canvas/gestures.ts) and keyboard pan and zoom; Tab goes
// from rectangle to rectangle, Enter opens one in detail, Escape comes back.
//
// Drawn with DOM and CSS transforms where there is something to read, and a 2D canvas where there is not:
// in the summary and detail modes the rectangles are elements in one "world" layer, and the camera is that
// layer's transform, written straight to its style once per animation frame; lit renders only when the set
// of rectangles to draw changes. Only the rectangles in and around the view are elements (the view grown by
// AREA_MARGIN each way, so small pans draw nothing new). Zoomed out (overview), where thousands of
// rectangles may be in view and none is readable, they are painted on a 2D canvas each frame instead
// (canvas/overview-painter.ts). Elements give what a canvas would have to rebuild: focus, Tab order,
// screen-reader labels, text selection, links and buttons in the detail mode, crisp text at every zoom.
// See docs/WEB.md.
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { type AppId, spoken } from '../core/describe.ts';
import type { ObjectsModel } from '../core/objects.ts';
import { ObjectsController } from '../controllers/objects-controller.ts';
import { parseRoute, type Route } from '../shell/router.ts';
import { appColors, shared } from '../styles/shared.ts';
import {
  between,
  type Camera,
  centerOn,
  contains,
  DETAIL_K,
  easeOut,
  fit,
  grow,
  type Mode,
  modeFor,
  panBy,
  type Rect,
  reveal,
  type Size,
  visibleWorld,
  wheelFactor,
  zoomAt,
} from './camera.ts';
import { canvasStyles } from './canvas-styles.ts';
import './canvas-toolbar.ts';
import type { ZoomAction } from './canvas-toolbar.ts';
import { type Filter, isFiltered, matches, noFilter } from './filter.ts';
import { attachGestures } from './gestures.ts';
import { GROUP_HEAD, GROUP_PAD, type Layout, layout, type Placed, within } from './layout.ts';
import { hit, paintOverview, type Palette, readPalette } from './overview-painter.ts';
import { rectStyles } from './rect-styles.ts';
import { detailView, summaryView } from './rect-views.ts';

const KEY_PAN = 60;
const KEY_ZOOM = 1.25;
const FLIGHT_MS = 320;
/** The area drawn is the view grown by this fraction of its size on each side. */
const AREA_MARGIN = 0.35;

@customElement('stateos-canvas')
export class StateosCanvas extends LitElement {
  static override styles = [shared, appColors, canvasStyles, rectStyles];

  /** The objects to draw. */
  @property({ attribute: false }) model: ObjectsModel | undefined;
  /** The current route (links in detail mode keep its ?server=). */
  @property({ attribute: false }) route: Route | undefined;
  /** A GUID to fly to and open in detail (the ?focus= of the route). */
  @property() focusId = '';

  @state() private filter: Filter = noFilter();
  @state() private mode: Mode = 'summary';
  /** The world area drawn: the view and a margin around it. */
  @state() private area: Rect = { x: 0, y: 0, w: 0, h: 0 };
  @state() private announcement = '';

  @query('.viewport') private viewport!: HTMLElement;
  @query('.world') private world!: HTMLElement;
  @query('.labels') private labelLayer!: HTMLElement;
  @query('canvas.overview') private overviewCanvas!: HTMLCanvasElement;

  private cam: Camera = { x: 0, y: 0, k: 1 };
  private view: Size = { w: 0, h: 0 };
  private lay: Layout = layout([]);
  private layKey = '';
  private frame = 0;
  private flight: { from: Camera; to: Camera; t0: number } | undefined;
  /** Where Escape goes back to after Enter opened a rectangle. */
  private back: Camera | undefined;
  private focusAfterRender: string | undefined;
  /** Until the user moves the camera, a resize or new objects fit everything again. */
  private userMoved = false;
  private openedFocusId = '';
  private detachGestures: (() => void) | undefined;
  private resize: ResizeObserver | undefined;
  private palette: Palette | undefined;
  /** The rectangle with the keyboard focus: an element even in the overview, so that it can hold focus. */
  private focusedKey: string | undefined;

  private readonly objects = new ObjectsController(this, () => this.model);

  /** The camera (a copy): for tests and the page around. */
  get camera(): Camera {
    return { ...this.cam };
  }

  /** Rectangles in the layout (the objects that pass the filter). */
  get placedCount(): number {
    return this.lay.placed.length;
  }

  // ------------------------------------------------------------------------------------ lifecycle

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize = new ResizeObserver(() => this.measure());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.detachGestures?.();
    this.detachGestures = undefined;
    this.resize?.disconnect();
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  override firstUpdated(): void {
    this.resize?.observe(this.viewport);
    this.detachGestures = attachGestures(
      this.viewport,
      {
        pan: (dx, dy) => this.moveCamera(panBy(this.cam, dx, dy)),
        zoom: (f, x, y) => this.moveCamera(zoomAt(this.cam, f, x, y)),
        moving: (active) => {
          this.viewport.classList.toggle('moving', active);
          // a layer promoted while it moves; released after, so that text is drawn sharp at the new scale
          this.world.style.willChange = active ? 'transform' : '';
        },
      },
      wheelFactor,
    );
    this.measure();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('model')) this.objects.reattach();
    const all = this.model?.all() ?? [];
    const key = `${this.model?.version ?? -1}|${[...this.filter.apps].join()}|${this.filter.text}`;
    if (key !== this.layKey) {
      this.layKey = key;
      this.lay = layout(isFiltered(this.filter) ? all.filter((v) => matches(v, this.filter)) : all);
      if (!this.userMoved && this.view.w > 0) {
        this.flight = undefined;
        this.cam = fit(this.lay.bounds, this.view);
      }
      this.area = this.drawArea();
    }
  }

  override updated(): void {
    this.applyCamera();
    if (this.focusId && this.focusId !== this.openedFocusId && this.view.w > 0 && this.model?.find(this.focusId)) {
      this.openedFocusId = this.focusId;
      this.focusObject(this.focusId);
    }
    if (this.focusAfterRender) {
      const el = this.rectElement(this.focusAfterRender);
      if (el) {
        this.focusAfterRender = undefined;
        el.focus({ preventScroll: true });
      }
    }
  }

  // ------------------------------------------------------------------------------------ camera

  /** Moves the camera now (a gesture); the style is written at the next animation frame. */
  moveCamera(c: Camera): void {
    this.flight = undefined;
    this.userMoved = true;
    this.cam = c;
    this.schedule();
  }

  /** Flies the camera to `to` (instantly when the user prefers reduced motion). */
  flyTo(to: Camera): void {
    this.userMoved = true;
    if (matchMedia('(prefers-reduced-motion: reduce)').matches) {
      this.flight = undefined;
      this.cam = to;
    } else {
      this.flight = { from: { ...this.cam }, to, t0: performance.now() };
    }
    this.schedule();
  }

  /** Zoom buttons and keys: about the focused rectangle when there is one, else the centre of the view. */
  zoom(action: ZoomAction): void {
    if (action === 'fit') {
      this.back = undefined;
      this.flyTo(fit(this.lay.bounds, this.view));
      return;
    }
    const target = this.flight?.to ?? this.cam;
    const focused = this.focusedPlaced();
    const sx = focused ? (focused.x + focused.w / 2) * target.k + target.x : this.view.w / 2;
    const sy = focused ? (focused.y + focused.h / 2) * target.k + target.y : this.view.h / 2;
    this.flyTo(zoomAt(target, action === 'in' ? KEY_ZOOM : 1 / KEY_ZOOM, sx, sy));
  }

  /** Opens the rectangle of `id` in detail: the camera flies to it. */
  focusObject(id: string): void {
    const v = this.model?.find(id);
    if (!v) return;
    if (!this.lay.byKey.has(v.key)) this.filter = noFilter(); // a filtered-out object: show everything again
    void this.updateComplete.then(() => this.openDetail(v.key));
  }

  private openDetail(key: string): void {
    const p = this.lay.byKey.get(key);
    if (!p) return;
    if (modeFor(this.cam.k) !== 'detail') this.back = { ...this.cam };
    const kFit = Math.min((this.view.w - 64) / p.w, (this.view.h - 64) / p.h);
    const k = Math.max(DETAIL_K * 1.1, Math.min(kFit, 3.2));
    this.flyTo(centerOn(p, this.view, k));
    this.focusAfterRender = key;
    const v = this.model?.get(key);
    if (v) this.announcement = `Detail of ${spoken(v)}`;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame((t) => {
      this.frame = 0;
      if (this.flight) {
        const u = Math.min(1, (t - this.flight.t0) / FLIGHT_MS);
        this.cam = between(this.flight.from, this.flight.to, easeOut(Math.max(0, u)), this.view);
        if (u >= 1) this.flight = undefined;
        else this.schedule();
      }
      this.applyCamera();
    });
  }

  /** Writes the camera into the styles; asks lit to render only when the area drawn or the mode must change. */
  private applyCamera(): void {
    if (!this.world) return;
    const { x, y, k } = this.cam;
    this.world.style.transform = `translate(${x}px, ${y}px) scale(${k})`;
    let g = 40 * k;
    while (g < 24) g *= 4;
    while (g > 96) g /= 4;
    this.viewport.style.backgroundSize = `${g}px ${g}px`;
    this.viewport.style.backgroundPosition = `${x}px ${y}px`;
    this.viewport.dataset.k = k.toFixed(4);
    const labels = this.labelLayer.children;
    this.lay.groups.forEach((grp, i) => {
      const el = labels[i] as HTMLElement | undefined;
      // inside the group's head when it is tall enough on screen, else just above the group
      const top = GROUP_HEAD * k >= 30 ? grp.y * k + y + (GROUP_HEAD * k - 20) / 2 : grp.y * k + y - 24;
      if (el) el.style.transform = `translate(${grp.x * k + x + Math.min(14, GROUP_PAD * k)}px, ${Math.max(top, 4)}px)`;
    });
    // the focus ring keeps its screen width whatever the zoom
    const ring = this.focusedKey === undefined ? null : this.rectElement(this.focusedKey);
    if (ring) {
      ring.style.outlineWidth = `${3 / k}px`;
      ring.style.outlineOffset = `${2 / k}px`;
    }
    const mode = modeFor(k);
    if (mode !== this.mode) {
      this.mode = mode;
      this.announcement = `${mode} mode`;
      if (mode === 'overview') this.palette = undefined; // the theme may have changed since
    }
    this.paint(mode);
    // draw again when the view leaves the area drawn, or has shrunk well inside it (zoomed in)
    const seen = visibleWorld(this.cam, this.view);
    if (!contains(this.area, seen) || this.area.w > seen.w * (1 + 2 * AREA_MARGIN) * 1.6) this.area = this.drawArea();
  }

  /** The overview's blocks on the 2D canvas; cleared once when leaving the overview. */
  private painted = false;
  private paint(mode: Mode): void {
    const canvas = this.overviewCanvas;
    if (!canvas) return;
    if (mode !== 'overview') {
      const ctx = this.painted ? canvas.getContext('2d') : null;
      ctx?.setTransform(1, 0, 0, 1, 0, 0);
      ctx?.clearRect(0, 0, canvas.width, canvas.height);
      this.painted = false;
      return;
    }
    this.palette ??= readPalette(this);
    paintOverview(canvas, this.lay, this.cam, this.view, this.palette, (key) => this.model?.get(key));
    this.painted = true;
  }

  private drawArea(): Rect {
    return grow(visibleWorld(this.cam, this.view), AREA_MARGIN);
  }

  private measure(): void {
    if (!this.viewport) return;
    const r = this.viewport.getBoundingClientRect();
    if (r.width === this.view.w && r.height === this.view.h) return;
    const first = this.view.w === 0;
    this.view = { w: r.width, h: r.height };
    if (first || !this.userMoved) this.cam = fit(this.lay.bounds, this.view);
    this.area = this.drawArea();
    this.applyCamera();
    this.requestUpdate();
  }

  // ------------------------------------------------------------------------------------ keyboard

  private onKeyDown(e: KeyboardEvent): void {
    const target = e.composedPath()[0] as HTMLElement;
    const rect = target.classList?.contains('rect') ? target : undefined;
    const inside = !rect && target !== this.viewport; // a link or button in a detail rectangle
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    switch (e.key) {
      case 'ArrowLeft':
      case 'ArrowRight':
      case 'ArrowUp':
      case 'ArrowDown': {
        const step = e.shiftKey ? KEY_PAN * 5 : KEY_PAN;
        const dx = e.key === 'ArrowLeft' ? step : e.key === 'ArrowRight' ? -step : 0;
        const dy = e.key === 'ArrowUp' ? step : e.key === 'ArrowDown' ? -step : 0;
        this.flyTo(panBy(this.flight?.to ?? this.cam, dx, dy));
        break;
      }
      case '+':
      case '=':
        this.zoom('in');
        break;
      case '-':
      case '_':
        this.zoom('out');
        break;
      case '0':
      case 'Home':
        this.zoom('fit');
        break;
      case 'Enter':
        if (!rect) return;
        this.openDetail(rect.dataset.key!);
        break;
      case 'Escape':
        if (this.back) {
          this.flyTo(this.back);
          this.back = undefined;
          this.announcement = 'Back';
        } else this.zoom('fit');
        if (inside) (target.closest('.rect') as HTMLElement | null)?.focus({ preventScroll: true });
        break;
      case 'Tab':
        if (inside) return; // Tab through a detail rectangle's links as usual
        if (!this.tab(rect, e.shiftKey)) return;
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  /** Tab and Shift+Tab between rectangles in layout order; false when it should leave the canvas. */
  private tab(from: HTMLElement | undefined, back: boolean): boolean {
    const placed = this.lay.placed;
    if (placed.length === 0) return false;
    let next: Placed | undefined;
    if (!from) {
      if (back) return false;
      // from the canvas itself: the first rectangle in view
      const seen = within(this.lay, visibleWorld(this.cam, this.view));
      next = seen[0] ?? placed[0];
    } else {
      const i = this.lay.byKey.get(from.dataset.key!)?.index ?? -1;
      if (back && i <= 0) {
        this.viewport.focus({ preventScroll: true });
        return true;
      }
      next = placed[back ? i - 1 : i + 1];
      if (!next) return false;
    }
    this.showAndFocus(next);
    return true;
  }

  private showAndFocus(p: Placed): void {
    const to = reveal(this.flight?.to ?? this.cam, p, this.view);
    if (to !== this.cam) this.flyTo(to);
    this.focusedKey = p.key;
    const el = this.rectElement(p.key);
    if (el) el.focus({ preventScroll: true });
    else {
      // not an element yet: draw the area around it (or, in the overview, just it), then focus
      this.focusAfterRender = p.key;
      if (!contains(this.area, p)) this.area = grow(visibleWorld(to, this.view), AREA_MARGIN);
      this.requestUpdate();
    }
  }

  private onFocusIn(e: FocusEvent): void {
    const t = e.composedPath()[0] as HTMLElement;
    const rect = t.classList?.contains('rect') ? t : t.closest?.<HTMLElement>('.rect');
    if (!rect) return;
    if (this.focusedKey !== rect.dataset.key) {
      this.focusedKey = rect.dataset.key;
      if (this.mode === 'overview') this.requestUpdate();
    }
    if (rect !== t || !t.matches(':focus-visible')) return;
    const p = this.lay.byKey.get(t.dataset.key!);
    if (p) {
      const to = reveal(this.flight?.to ?? this.cam, p, this.view);
      if (to !== (this.flight?.to ?? this.cam)) this.flyTo(to);
    }
  }

  private onFocusOut(e: FocusEvent): void {
    const next = e.relatedTarget as HTMLElement | null;
    if (next && this.shadowRoot?.contains(next) && next.closest('.rect')) return;
    if (this.focusedKey === undefined) return;
    this.focusedKey = undefined;
    if (this.mode === 'overview') this.requestUpdate();
  }

  private focusedPlaced(): Placed | undefined {
    const el = this.shadowRoot?.activeElement as HTMLElement | null;
    const key = el?.closest<HTMLElement>('.rect')?.dataset.key;
    return key ? this.lay.byKey.get(key) : undefined;
  }

  private rectElement(key: string): HTMLElement | null {
    return this.shadowRoot?.querySelector<HTMLElement>(`.rect[data-key="${CSS.escape(key)}"]`) ?? null;
  }

  // ------------------------------------------------------------------------------------ render

  private onDoubleClick(e: MouseEvent): void {
    if (this.mode === 'detail') return;
    const r = (e.composedPath() as HTMLElement[]).find((n) => n.classList?.contains('rect'));
    const box = this.viewport.getBoundingClientRect();
    const key = r?.dataset.key ?? hit(this.lay, this.cam, e.clientX - box.left, e.clientY - box.top);
    if (key) this.openDetail(key);
  }

  private onFilter(e: CustomEvent<Filter>): void {
    this.filter = e.detail;
    this.userMoved = false; // show what passes the filter
    void this.updateComplete.then(() => (this.announcement = `${this.lay.placed.length} of ${this.model?.size ?? 0} objects shown`));
  }

  override render() {
    const model = this.model;
    const route = this.route ?? parseRoute('/', '');
    const counts: Partial<Record<AppId, number>> = {};
    for (const v of model?.all() ?? []) counts[v.app] = (counts[v.app] ?? 0) + 1;
    // the overview paints on the 2D canvas; only a focused rectangle is an element there
    const focused = this.focusedKey === undefined ? undefined : this.lay.byKey.get(this.focusedKey);
    const drawn = this.mode !== 'overview' ? within(this.lay, this.area) : focused ? [focused] : [];
    const mode = this.mode;
    const ctx = { route, focus: (id: string) => this.focusObject(id) };
    return html`<stateos-canvas-toolbar
        .filter=${this.filter}
        .counts=${counts}
        .shown=${this.lay.placed.length}
        .total=${model?.size ?? 0}
        .k=${this.cam.k}
        .mode=${mode}
        @filter-change=${this.onFilter}
        @zoom=${(e: CustomEvent<ZoomAction>) => this.zoom(e.detail)}
      ></stateos-canvas-toolbar>
      <div
        class="viewport"
        tabindex="0"
        role="region"
        aria-roledescription="canvas"
        aria-label=${`State UI canvas: ${this.lay.placed.length} objects in ${this.lay.groups.length} groups`}
        aria-describedby="help"
        data-mode=${mode}
        @keydown=${this.onKeyDown}
        @focusin=${this.onFocusIn}
        @focusout=${this.onFocusOut}
        @dblclick=${this.onDoubleClick}
      >
        <canvas class="overview" aria-hidden="true"></canvas>
        <div class="world" data-mode=${mode}>
          ${this.lay.groups.map(
            (g) => html`<div class=${`group app-${g.app}`} style=${`transform:translate(${g.x}px,${g.y}px);width:${g.w}px;height:${g.h}px`}></div>`,
          )}
          ${repeat(
            drawn,
            (p) => p.key,
            (p) => {
              const v = model?.get(p.key);
              if (!v) return nothing;
              const flash = model?.changedWithin(p.key, 1600) ? ' flash' : '';
              return html`<article
                class=${`rect app-${v.app}${flash}`}
                data-key=${p.key}
                data-id=${v.id}
                data-app=${v.app}
                tabindex="0"
                aria-label=${spoken(v)}
                style=${`transform:translate(${p.x}px,${p.y}px)`}
              >
                ${mode === 'overview' ? nothing : mode === 'detail' ? detailView(v, ctx) : html`<div aria-hidden="true" style="display:contents">${summaryView(v)}</div>`}
              </article>`;
            },
          )}
        </div>
        <div class="labels" aria-hidden="true">
          ${this.lay.groups.map((g) => html`<div class=${`glabel app-${g.app}`} data-app=${g.app}>${g.label}<span class="n">${g.count}</span></div>`)}
        </div>
        ${this.lay.placed.length === 0
          ? html`<p class="empty">${model?.size ? 'Nothing passes the filter.' : 'No objects yet: they appear here as the STUs arrive.'}</p>`
          : nothing}
      </div>
      <p class="help" id="help">
        Drag or <kbd>←</kbd><kbd>→</kbd><kbd>↑</kbd><kbd>↓</kbd> to pan, wheel, pinch or <kbd>+</kbd><kbd>−</kbd> to zoom, <kbd>0</kbd> to
        fit. <kbd>Tab</kbd> moves between rectangles, <kbd>Enter</kbd> or a double click opens one in detail, <kbd>Esc</kbd> comes back.
        Zoomed in past ${Math.round(DETAIL_K * 100)} % every rectangle shows its detail.
      </p>
      <div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-canvas': StateosCanvas;
  }
}
