// A ring's two sections, metadata and data: how full each is (a bar), what it holds, and a live plot of
// evictions per second (bars) under the fill level (a line) over the last samples.
import { css, html, LitElement, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { formatBytes, formatCount, formatPercent, plural } from '../core/format.ts';
import { shared } from '../styles/shared.ts';
import { bars, linePath, niceMax } from './plot.ts';
import { evictionRates, HISTORY, type RingSample, type Sections } from './ring-history.ts';

const PW = 260;
const PH = 56;

@customElement('stateos-ring-usage')
export class StateosRingUsage extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      h3 {
        font-size: 14px;
        margin: 0 0 8px;
      }
      .sections {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
        gap: 14px;
      }
      .section {
        border: 1px solid var(--border);
        border-radius: 8px;
        padding: 8px 10px;
        background: var(--surface);
      }
      .name {
        font-weight: 600;
      }
      .meter {
        height: 10px;
        border-radius: 5px;
        background: var(--surface-3);
        overflow: hidden;
        margin: 6px 0;
      }
      .meter > div {
        height: 100%;
        background: var(--accent);
        min-width: 2px;
      }
      .facts {
        font-size: 12px;
        color: var(--muted);
        font-variant-numeric: tabular-nums;
      }
      svg {
        display: block;
        width: 100%;
        height: ${PH}px;
        margin-top: 6px;
        background: var(--surface-2);
        border-radius: 4px;
      }
      rect.ev {
        fill: var(--bad);
      }
      path.used {
        fill: none;
        stroke: var(--accent);
        stroke-width: 1.5;
      }
      .axis {
        font-size: 11px;
        color: var(--muted);
        display: flex;
        justify-content: space-between;
      }
    `,
  ];

  /** Heading of the card (whose ring). */
  @property() label = 'Ring';
  @property({ attribute: false }) history: readonly RingSample[] = [];
  /** Seconds between samples, for the time axis. */
  @property({ type: Number }) intervalSeconds = 1;

  private section(name: keyof Sections, title: string) {
    const h = this.history;
    const last = h[h.length - 1]?.ring[name];
    if (!last) return html``;
    const rates = evictionRates(h, name);
    const top = niceMax(Math.max(...rates, 0));
    const fill = h.map((s) => (s.ring[name].capacity > 0 ? s.ring[name].used / s.ring[name].capacity : 0));
    const used = last.capacity > 0 ? last.used / last.capacity : 0;
    const recent = rates.length ? rates[rates.length - 1] : 0;
    return html`<div class="section" data-section=${name}>
      <div class="name">${title}</div>
      <div class="meter" role="meter" aria-label=${`${title}: ${formatPercent(last.used, last.capacity)} used`} aria-valuemin="0" aria-valuemax=${last.capacity} aria-valuenow=${last.used}>
        <div style=${`width:${(used * 100).toFixed(2)}%`}></div>
      </div>
      <div class="facts">
        ${formatBytes(last.used)} of ${formatBytes(last.capacity)} (${formatPercent(last.used, last.capacity)}) · ${plural(last.records, 'record')} ·
        <span data-evicted=${last.evicted}>${formatCount(last.evicted)} evicted</span>${recent > 0 ? html` · <b>${recent.toFixed(0)}/s now</b>` : ''}
      </div>
      <svg viewBox="0 0 ${PW} ${PH}" preserveAspectRatio="none" role="img" aria-label=${`${title}: evictions per second over the last ${h.length} samples, at most ${Math.max(...rates, 0).toFixed(0)} per second`}>
        ${bars(rates, PW, PH, top, HISTORY - 1).map((b) => svg`<rect class="ev" x=${b.x} y=${b.y} width=${b.w} height=${b.h}></rect>`)}
        <path class="used" d=${linePath(fill, PW, PH, 1, HISTORY)}></path>
      </svg>
      <div class="axis" aria-hidden="true"><span>${Math.round((HISTORY - 1) * this.intervalSeconds)} s ago</span><span>evictions/s (max ${top}) · fill</span><span>now</span></div>
    </div>`;
  }

  override render() {
    if (this.history.length === 0) return html`<h3>${this.label}</h3><p class="muted">waiting for the first sample…</p>`;
    return html`<h3>${this.label}</h3>
      <div class="sections">${this.section('meta', 'metadata section')} ${this.section('data', 'data section')}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-ring-usage': StateosRingUsage;
  }
}
