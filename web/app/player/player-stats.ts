// What the player is doing, under the video: the buffer (what the browser holds ahead of and behind the
// play position, as a bar over the media's length), where each segment came from (a state server over a
// WebRTC data channel, or the HTTP gateway) with bytes, time and how long the server's funnel held it, and
// a total per source. Pure view: <stateos-player> hands it the numbers.
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LoadReport } from '../../player/stx-loader.ts';
import { formatBytes, formatDuration, shortId } from '../core/format.ts';
import { shared } from '../styles/shared.ts';

export interface BufferView {
  /** Buffered ranges, seconds. */
  ranges: [number, number][];
  position: number;
  duration: number;
}

/** A source as the page names it: a server's short GUID ("over WebRTC"), or HTTP. */
export const sourceLabel = (source: string): string => (source === 'http' ? 'HTTP gateway' : `server ${shortId(source)}`);

/** Loads per source: count and bytes, most bytes first. */
export function bySource(loads: readonly LoadReport[]): { source: string; count: number; bytes: number }[] {
  const m = new Map<string, { source: string; count: number; bytes: number }>();
  for (const l of loads) {
    const e = m.get(l.source) ?? { source: l.source, count: 0, bytes: 0 };
    e.count++;
    e.bytes += l.bytes;
    m.set(l.source, e);
  }
  return [...m.values()].sort((a, b) => b.bytes - a.bytes);
}

@customElement('stateos-player-stats')
export class StateosPlayerStats extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        font-size: 12px;
        margin-top: 8px;
      }
      .bar {
        position: relative;
        height: 10px;
        background: var(--surface-2);
        border: 1px solid var(--border);
        border-radius: 3px;
        overflow: hidden;
      }
      .bar .buffered {
        position: absolute;
        top: 0;
        bottom: 0;
        background: var(--accent-soft);
        border-left: 1px solid var(--accent);
        border-right: 1px solid var(--accent);
      }
      .bar .position {
        position: absolute;
        top: -1px;
        bottom: -1px;
        width: 2px;
        background: var(--fg);
      }
      .row {
        display: flex;
        gap: 16px;
        flex-wrap: wrap;
        margin: 4px 0;
        color: var(--muted);
      }
      .row b {
        color: var(--fg);
        font-weight: 600;
      }
      table {
        font-size: 12px;
      }
      td,
      th {
        padding: 2px 8px;
      }
      td.n {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      .webrtc {
        color: var(--good, inherit);
      }
    `,
  ];

  @property({ attribute: false }) buffer: BufferView = { ranges: [], position: 0, duration: 0 };
  /** Every load so far, oldest first. */
  @property({ attribute: false }) loads: readonly LoadReport[] = [];

  override render() {
    const { ranges, position, duration } = this.buffer;
    const pct = (s: number) => (duration > 0 ? `${Math.min(100, Math.max(0, (100 * s) / duration)).toFixed(2)}%` : '0%');
    const ahead = ranges.find(([a, b]) => a <= position + 0.1 && position <= b);
    const recent = this.loads.slice(-8).reverse();
    const sources = bySource(this.loads);
    return html`<div class="bar" role="img" aria-label=${`buffered ${ranges.map(([a, b]) => `${formatDuration(a)}–${formatDuration(b)}`).join(', ') || 'nothing'} of ${formatDuration(duration)}`}>
        ${ranges.map(([a, b]) => html`<div class="buffered" style=${`left:${pct(a)};width:${pct(b - a)}`}></div>`)}
        <div class="position" style=${`left:${pct(position)}`}></div>
      </div>
      <div class="row" data-testid="buffer">
        <span>position <b>${position.toFixed(1)} s</b></span>
        <span>buffered ahead <b>${ahead ? (ahead[1] - position).toFixed(1) : '0.0'} s</b></span>
        ${sources.map(
          (s) => html`<span class=${s.source === 'http' ? '' : 'webrtc'} data-source=${s.source}>${sourceLabel(s.source)}${s.source === 'http' ? '' : ' (WebRTC)'}: <b>${s.count}</b> loads, <b>${formatBytes(s.bytes)}</b></span>`,
        )}
      </div>
      ${recent.length === 0
        ? nothing
        : html`<table aria-label="The latest loads and where they came from">
            <thead>
              <tr><th>what</th><th>from</th><th class="n">bytes</th><th class="n">took</th><th class="n">held by funnel</th></tr>
            </thead>
            <tbody>
              ${recent.map(
                (l) => html`<tr>
                  <td class="mono">${l.url.slice(l.url.lastIndexOf('/') + 1)}</td>
                  <td>${sourceLabel(l.source)}</td>
                  <td class="n">${formatBytes(l.bytes)}</td>
                  <td class="n">${Math.round(l.ms)} ms</td>
                  <td class="n">${l.heldMs ? `${l.heldMs} ms` : '–'}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-player-stats': StateosPlayerStats;
  }
}
