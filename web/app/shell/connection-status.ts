// The link to the server, in the header: a dot and a sentence, announced to screen readers as it changes
// (role=status). Connecting, live (with the server's GUID), reconnecting (why, and when the next attempt
// is), refused (the server does not take viewers), failed (the viewer could not start); and, as an alert,
// when this browser could not store what the server sent, a short "storage full" (the app shows the whole
// message as an alert above the view).
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ConnectionModel, ConnectionState } from '../core/connection.ts';
import { shortId } from '../core/format.ts';
import { ConnectionController } from '../controllers/connection-controller.ts';
import { shared } from '../styles/shared.ts';

/** What the state is (short), why (detail, announced), and when the next attempt is (not announced: it ticks). */
function sentence(c: ConnectionState): { short: string; detail: string; countdown: string } {
  const host = c.server.replace(/^https?:\/\//, '');
  switch (c.state) {
    case 'connecting':
      return { short: 'connecting', detail: `to ${host}${c.reason ? ` (${c.reason})` : ''}…`, countdown: '' };
    case 'live':
      return { short: 'live', detail: `server ${shortId(c.peer)} at ${host}`, countdown: '' };
    case 'reconnecting': {
      const s = c.retryAt === undefined ? undefined : Math.max(0, Math.ceil((c.retryAt - Date.now()) / 1000));
      return { short: 'reconnecting', detail: `to ${host}: ${c.reason ?? 'connection lost'}`, countdown: s === undefined ? '' : `next attempt in ${s} s` };
    }
    case 'refused':
      return { short: 'refused', detail: `${host} does not take this viewer: ${c.reason ?? ''}`, countdown: '' };
    case 'failed':
      return { short: 'failed', detail: `the viewer could not start: ${c.reason ?? ''}`, countdown: '' };
  }
}

@customElement('stateos-connection')
export class StateosConnection extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: inline-flex;
        align-items: center;
        gap: 8px;
        min-width: 0;
      }
      .dot {
        width: 10px;
        height: 10px;
        border-radius: 50%;
        flex: none;
        background: var(--muted);
      }
      [data-state='live'] .dot {
        background: var(--ok);
        box-shadow: 0 0 0 3px color-mix(in srgb, var(--ok) 25%, transparent);
      }
      [data-state='connecting'] .dot,
      [data-state='reconnecting'] .dot {
        background: var(--warn);
        animation: pulse 1.2s ease-in-out infinite;
      }
      [data-state='refused'] .dot,
      [data-state='failed'] .dot {
        background: var(--bad);
      }
      .box {
        display: inline-flex;
        align-items: center;
        gap: 8px;
        min-width: 0;
      }
      .text {
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .label {
        font-weight: 600;
      }
      .storage {
        color: var(--bad);
        font-weight: 600;
        white-space: nowrap;
      }
      @keyframes pulse {
        50% {
          opacity: 0.35;
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .dot {
          animation: none !important;
        }
      }
    `,
  ];

  /** The viewer's connection to follow. */
  @property({ attribute: false }) model: ConnectionModel | undefined;

  private readonly conn = new ConnectionController(this, () => this.model);

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('model') && this.isConnected) this.conn.hostConnected();
  }

  override render() {
    const c = this.conn.value;
    if (!c) return nothing;
    const s = sentence(c);
    return html`<span class="box" data-state=${c.state} title=${`${s.short} ${s.detail} ${s.countdown}`}>
      <span class="dot" aria-hidden="true"></span>
      <span class="text"
        ><span role="status" aria-live="polite" id="status"><span class="label">${s.short}</span> <span class="muted">${s.detail}</span></span>
        <span class="muted countdown">${s.countdown}</span></span
      >
      ${c.storage ? html`<span class="storage" title=${c.storage} aria-hidden="true">storage full</span>` : nothing}
    </span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-connection': StateosConnection;
  }
}
