// The canvas's controls: one toggle per application (with how many objects it has), a text filter, and
// zoom out / zoom level / zoom in / fit. It owns no state: it shows the filter it is given and sends
// `filter-change` and `zoom` events.
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { type AppId, APPS } from '../core/describe.ts';
import { appColors, shared } from '../styles/shared.ts';
import type { Filter } from './filter.ts';

export type ZoomAction = 'in' | 'out' | 'fit';

@customElement('stateos-canvas-toolbar')
export class StateosCanvasToolbar extends LitElement {
  static override styles = [
    shared,
    appColors,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px 14px;
        padding: 8px 12px;
        background: var(--surface);
        border-bottom: 1px solid var(--border);
      }
      .apps {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
      }
      .apps button {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        border-radius: 14px;
      }
      .apps button::before {
        content: '';
        width: 9px;
        height: 9px;
        border-radius: 3px;
        background: var(--app);
      }
      .apps button[aria-pressed='false'] {
        opacity: 0.55;
        text-decoration: line-through;
      }
      .apps .n {
        color: var(--muted);
        font-variant-numeric: tabular-nums;
      }
      input {
        width: 16em;
      }
      .zoom {
        display: inline-flex;
        align-items: center;
        gap: 4px;
      }
      .zoom output {
        min-width: 4.5em;
        text-align: center;
        font-variant-numeric: tabular-nums;
      }
      .shown {
        margin-left: auto;
        color: var(--muted);
      }
    `,
  ];

  @property({ attribute: false }) filter!: Filter;
  /** Objects per application, before filtering. */
  @property({ attribute: false }) counts: Partial<Record<AppId, number>> = {};
  @property({ type: Number }) shown = 0;
  @property({ type: Number }) total = 0;
  /** The camera's zoom. */
  @property({ type: Number }) k = 1;
  @property() mode = '';

  private send(filter: Filter): void {
    this.dispatchEvent(new CustomEvent('filter-change', { detail: filter, bubbles: true, composed: true }));
  }

  private toggle(app: AppId): void {
    const apps = new Set(this.filter.apps);
    if (apps.has(app)) apps.delete(app);
    else apps.add(app);
    this.send({ ...this.filter, apps });
  }

  private zoom(action: ZoomAction): void {
    this.dispatchEvent(new CustomEvent('zoom', { detail: action, bubbles: true, composed: true }));
  }

  override render() {
    const apps = APPS.filter((a) => (this.counts[a.id] ?? 0) > 0 || !this.filter.apps.has(a.id));
    return html`<div class="apps" role="group" aria-label="Show applications">
        ${apps.map(
          (a) => html`<button
            type="button"
            class=${`app-${a.id}`}
            data-app=${a.id}
            aria-pressed=${this.filter.apps.has(a.id) ? 'true' : 'false'}
            @click=${() => this.toggle(a.id)}
          >
            ${a.label} <span class="n">${this.counts[a.id] ?? 0}</span>
          </button>`,
        )}
      </div>
      <label
        ><span class="visually-hidden">Filter rectangles by text</span
        ><input
          type="search"
          placeholder="Filter: title, type, id…"
          .value=${this.filter.text}
          @input=${(e: Event) => this.send({ ...this.filter, text: (e.target as HTMLInputElement).value })}
      /></label>
      <div class="zoom" role="group" aria-label="Zoom">
        <button type="button" @click=${() => this.zoom('out')} aria-label="Zoom out" title="Zoom out (−)">−</button>
        <output aria-live="off" title=${`${this.mode} mode`}>${Math.round(this.k * 100)} %</output>
        <button type="button" @click=${() => this.zoom('in')} aria-label="Zoom in" title="Zoom in (+)">+</button>
        <button type="button" @click=${() => this.zoom('fit')} title="Show everything (0)">Fit</button>
      </div>
      <span class="shown">${this.shown === this.total ? `${this.total} objects` : `${this.shown} of ${this.total} objects`} · ${this.mode}</span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-canvas-toolbar': StateosCanvasToolbar;
  }
}
