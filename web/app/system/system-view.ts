// The System view: the serving server's peers as a picture (and as a table, for the numbers), polled from
// GET /api/peers (the server's own, and those of the servers it is connected to, which is how their links
// to each other are known); the rings' fill and evictions, polled from GET /api/health, beside this
// browser's own IndexedDB ring.
import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Viewer } from '../../sync/viewer.ts';
import { formatBytes, formatRate, shortId } from '../core/format.ts';
import { getJson, PollController } from '../controllers/poll-controller.ts';
import { shared } from '../styles/shared.ts';
import './peers-graph.ts';
import { buildGraph, type Graph, parsePeersDoc, type PeersDoc, type Snapshot } from './peers-model.ts';
import { pushSample, type RingSample, ringOf } from './ring-history.ts';
import './ring-usage.ts';

const POLL_MS = 1000;
/** Servers whose /api/peers are read besides the serving one's. */
const MAX_REMOTE = 16;

@customElement('stateos-system')
export class StateosSystem extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: grid;
        gap: 16px;
        padding: 16px;
        max-width: 1200px;
        margin: 0 auto;
      }
      .intro {
        margin: 0;
        color: var(--muted);
        max-width: 80ch;
      }
      section {
        background: var(--surface);
        border: 1px solid var(--border);
        border-radius: 8px;
        padding: 10px 14px 14px;
      }
      h2 {
        font-size: 16px;
        margin: 4px 0 10px;
      }
      .error {
        color: var(--bad);
      }
      .rings {
        display: grid;
        gap: 18px;
      }
      td.bar {
        min-width: 90px;
      }
      .progress {
        height: 6px;
        background: var(--surface-3);
        border-radius: 3px;
        overflow: hidden;
      }
      .progress > div {
        height: 100%;
        background: var(--accent);
      }
      .ok {
        color: var(--ok);
      }
      .warn {
        color: var(--warn);
      }
    `,
  ];

  /** The server whose /api/peers and /api/health are read ('' = this page's origin). */
  @property() server = '';
  /** This browser's viewer: marked "you" in the picture; its own ring is shown too. */
  @property({ attribute: false }) viewer: Viewer | undefined;

  @state() private graph: Graph | undefined;
  @state() private serverRing: RingSample[] = [];
  @state() private browserRing: RingSample[] = [];
  private prev: Snapshot | undefined;

  private readonly peers = new PollController<Snapshot>(this, {
    intervalMs: POLL_MS,
    load: (signal) => this.loadPeers(signal),
    onValue: (snap) => {
      this.graph = buildGraph(snap, this.prev, this.viewer?.guid);
      this.prev = snap;
    },
  });

  private readonly health = new PollController<unknown>(this, {
    intervalMs: POLL_MS,
    load: (signal) => getJson(`${this.server}/api/health`, signal),
    onValue: (h, at) => {
      const ring = ringOf(h);
      if (ring) this.serverRing = pushSample(this.serverRing, { at, ring });
      const mine = this.viewer?.ring.stats();
      if (mine) this.browserRing = pushSample(this.browserRing, { at, ring: mine });
    },
  });

  private async loadPeers(signal: AbortSignal): Promise<Snapshot> {
    const at = performance.now();
    const self = parsePeersDoc(await getJson(`${this.server}/api/peers`, signal));
    const docs = new Map<string, PeersDoc>([[self.server, self]]);
    const unreachable = new Map<string, string>();
    const remote = self.peers.filter((p) => p.role === 'server' && p.server && p.url).slice(0, MAX_REMOTE);
    const answers = await Promise.allSettled(remote.map(async (p) => parsePeersDoc(await getJson(`${p.url}/api/peers`, signal))));
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') docs.set(a.value.server, a.value);
      else unreachable.set(remote[i].server!, (a.reason as Error).message);
    });
    return { at, docs, unreachable };
  }

  private peersSection() {
    const status = this.peers.status;
    switch (status) {
      case 'waiting':
        return html`<p class="muted">asking ${this.server || location.origin} for its peers…</p>`;
      case 'error':
      case 'ok':
        return html`${status === 'error' ? html`<p class="error" role="alert">GET /api/peers: ${this.peers.error}</p>` : ''}
          <stateos-peers-graph .graph=${this.graph}></stateos-peers-graph>
          ${this.table()}`;
    }
  }

  private table() {
    const g = this.graph;
    if (!g || g.links.length === 0) return html`<p class="muted">No peers connected.</p>`;
    return html`<table>
      <caption class="visually-hidden">
        Links: ends, state, sync, bytes per second each way, catch-up
      </caption>
      <thead>
        <tr>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col">Role</th>
          <th scope="col">State</th>
          <th scope="col">Sync</th>
          <th scope="col" class="num">Out</th>
          <th scope="col" class="num">In</th>
          <th scope="col" class="num">Total</th>
          <th scope="col">Last catch-up</th>
        </tr>
      </thead>
      <tbody>
        ${g.links.map((l) => {
          const to = g.nodes.find((n) => n.id === l.to);
          const cu = l.catchUp.out ?? l.catchUp.in;
          const frac = cu && cu.expected > 0 ? Math.min(1, cu.stus / cu.expected) : 1;
          return html`<tr data-to=${l.to}>
            <td class="mono" title=${l.from}>${shortId(l.from)}</td>
            <td class="mono" title=${l.to}>${shortId(l.to)}${to?.you ? ' (you)' : ''}</td>
            <td>${to?.role ?? '?'}</td>
            <td>${l.state}<br /><span class="muted">${l.how}${l.backend ? `, ${l.backend}` : ''}</span></td>
            <td class=${l.inSync ? 'ok' : 'warn'}>${l.inSync ? 'in sync' : `${l.behind} behind`}</td>
            <td class="num">${formatRate(l.rateOut)}</td>
            <td class="num">${formatRate(l.rateIn)}</td>
            <td class="num">${formatBytes(l.bytesOut + l.bytesIn)}</td>
            <td class="bar">
              ${cu
                ? html`<div class="progress" role="progressbar" aria-label="catch-up" aria-valuemin="0" aria-valuemax=${cu.expected} aria-valuenow=${cu.stus}>
                      <div style=${`width:${(frac * 100).toFixed(1)}%`}></div>
                    </div>
                    <span class="muted">${cu.direction} ${cu.stus}/${cu.expected} STUs${cu.done ? `, ${cu.ms.toFixed(0)} ms` : '…'}</span>`
                : html`<span class="muted">none</span>`}
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }

  override render() {
    return html`<p class="intro">
        What the system is doing right now. The picture is drawn from <code>GET /api/peers</code> of this server and of the servers it is
        connected to, asked every second: who is connected to whom, whether both ends hold the same metadata, and how many bytes move
        each way. Below, each ring's sections as <code>GET /api/health</code> reports them, with evictions over time.
      </p>
      <section aria-labelledby="peers-h">
        <h2 id="peers-h">Peers</h2>
        ${this.peersSection()}
      </section>
      <section aria-labelledby="rings-h" class="rings">
        <h2 id="rings-h">Rings</h2>
        ${this.health.status === 'error' ? html`<p class="error" role="alert">GET /api/health: ${this.health.error}</p>` : ''}
        <stateos-ring-usage label=${`Server ${shortId(this.graph?.nodes.find((n) => n.self)?.id)} (files)`} .history=${this.serverRing}></stateos-ring-usage>
        ${this.viewer ? html`<stateos-ring-usage label="This browser (IndexedDB)" .history=${this.browserRing}></stateos-ring-usage>` : ''}
      </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-system': StateosSystem;
  }
}
