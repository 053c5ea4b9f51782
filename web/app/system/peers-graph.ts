// The cluster as a picture: servers and viewers as nodes, sessions as links. A link's width grows with
// the bytes per second it carries, and its dashes run while bytes flow; green when both ends hold the
// same metadata, amber with the count when one is behind, dashed grey while admitting. The serving
// server is blue, the group leader wears a ring, this browser is marked "you".
import { css, html, LitElement, nothing, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { formatRate, shortId } from '../core/format.ts';
import { shared } from '../styles/shared.ts';
import { type Graph, type GraphLink, type GraphNode, placeNodes } from './peers-model.ts';

const W = 720;
const H = 400;

const width = (l: GraphLink): number => 2 + Math.min(7, Math.log2(1 + ((l.rateIn ?? 0) + (l.rateOut ?? 0)) / 256));

function nodeRole(n: GraphNode): string {
  const parts = [n.role === 'viewer' ? 'viewer' : 'server'];
  if (n.self) parts.push('serving this page');
  if (n.leader) parts.push('group leader');
  if (n.you) parts.push('you');
  return parts.join(', ');
}

@customElement('stateos-peers-graph')
export class StateosPeersGraph extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      svg {
        display: block;
        max-width: 100%;
        height: auto;
        margin: 0 auto;
      }
      .link {
        stroke: var(--ok);
        stroke-linecap: round;
      }
      .link.behind {
        stroke: var(--warn);
      }
      .link.admitting,
      .link.closed {
        stroke: var(--muted);
        stroke-dasharray: 4 6;
      }
      .flow {
        stroke: var(--surface);
        stroke-dasharray: 3 14;
        stroke-linecap: round;
        animation: flow 0.9s linear infinite;
        opacity: 0.9;
      }
      @keyframes flow {
        to {
          stroke-dashoffset: -17;
        }
      }
      .node circle {
        stroke: var(--surface);
        stroke-width: 3;
      }
      .node.server circle.body {
        fill: var(--channels);
      }
      .node.self circle.body {
        fill: var(--accent);
      }
      .node.viewer circle.body {
        fill: var(--other);
      }
      .node.unreachable circle.body {
        stroke: var(--muted);
        stroke-dasharray: 3 3;
      }
      .node circle.you {
        fill: none;
        stroke: var(--focus);
        stroke-width: 2.5;
        stroke-dasharray: 4 3;
      }
      .node circle.leader {
        fill: none;
        stroke: var(--usage);
        stroke-width: 3;
      }
      text {
        fill: var(--fg);
        font: 12px var(--mono);
        paint-order: stroke;
        stroke: var(--surface);
        stroke-width: 4px;
        stroke-linejoin: round;
      }
      text.small {
        font: 11px system-ui, sans-serif;
        fill: var(--muted);
      }
      text.rate {
        font: 11px system-ui, sans-serif;
        fill: var(--fg);
      }
      text.lag {
        fill: var(--warn);
        font-weight: 700;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 14px;
        font-size: 12px;
        color: var(--muted);
        margin-top: 4px;
      }
      .legend i {
        display: inline-block;
        width: 18px;
        height: 4px;
        border-radius: 2px;
        vertical-align: middle;
        margin-right: 4px;
      }
      @media (prefers-reduced-motion: reduce) {
        .flow {
          animation: none;
        }
      }
    `,
  ];

  @property({ attribute: false }) graph: Graph | undefined;

  override render() {
    const g = this.graph;
    if (!g) return html`<p class="muted">Asking the server for its peers…</p>`;
    const at = placeNodes(g, W, H);
    // the picture's box: the nodes and their labels, drawn at their size (scaled down only to fit)
    const xs = [...at.values()].map((p) => p.x);
    const ys = [...at.values()].map((p) => p.y);
    const box = { x: Math.min(...xs) - 110, y: Math.min(...ys) - 40, w: Math.max(...xs) - Math.min(...xs) + 220, h: Math.max(...ys) - Math.min(...ys) + 100 };
    const servers = g.nodes.filter((n) => n.role !== 'viewer').length;
    const viewers = g.nodes.length - servers;
    const behind = g.links.filter((l) => l.state === 'live' && !l.inSync).length;
    const desc = `${servers} server${servers === 1 ? '' : 's'} and ${viewers} viewer${viewers === 1 ? '' : 's'}, ${g.links.length} link${g.links.length === 1 ? '' : 's'}; ${
      behind === 0 ? 'every live link in sync' : `${behind} link${behind === 1 ? '' : 's'} catching up`
    }${g.leader ? `; group leader ${shortId(g.leader)}` : ''}.`;
    return html`<svg viewBox="${box.x} ${box.y} ${box.w} ${box.h}" width=${box.w} height=${box.h} role="img" aria-labelledby="t d">
        <title id="t">Peers and links</title>
        <desc id="d">${desc}</desc>
        ${g.links.map((l) => {
          const a = at.get(l.from)!;
          const b = at.get(l.to)!;
          const rate = (l.rateIn ?? 0) + (l.rateOut ?? 0);
          const cls = `link ${l.state === 'live' ? (l.inSync ? 'in-sync' : 'behind') : l.state}`;
          // labels beside the middle of the link, on the side its normal points to
          const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
          const nx = -(b.y - a.y) / len;
          const ny = (b.x - a.x) / len;
          const side = nx < 0 ? -1 : 1;
          const mx = (a.x + b.x) / 2 + side * nx * 10;
          const my = (a.y + b.y) / 2 + side * ny * 10 + 4;
          const anchor = Math.abs(nx) < 0.3 ? 'middle' : 'start';
          return svg`<g class="edge" data-from=${l.from} data-to=${l.to} data-state=${l.state} data-in-sync=${String(l.inSync)}>
            <title>${`${shortId(l.from)} → ${shortId(l.to)}: ${formatRate(l.rateOut)}; ${shortId(l.to)} → ${shortId(l.from)}: ${formatRate(l.rateIn)}; ${l.state}${l.inSync ? ', in sync' : `, ${l.behind} STUs behind`}; ${l.how}${l.backend ? ` over ${l.backend}` : ''}`}</title>
            <line class=${cls} x1=${a.x} y1=${a.y} x2=${b.x} y2=${b.y} stroke-width=${width(l)}></line>
            ${rate > 0 ? svg`<line class="flow" x1=${a.x} y1=${a.y} x2=${b.x} y2=${b.y} stroke-width=${Math.max(1.5, width(l) / 2.5)}></line>` : nothing}
            <text class="rate" x=${mx} y=${my} text-anchor=${anchor}>${l.rateIn === undefined ? '' : rate > 0 ? formatRate(rate) : 'idle'}</text>
            ${l.state === 'live' && !l.inSync ? svg`<text class="rate lag" x=${mx} y=${my + 14} text-anchor=${anchor}>${l.behind} behind</text>` : nothing}
          </g>`;
        })}
        ${g.nodes.map((n) => {
          const p = at.get(n.id)!;
          const r = n.role === 'viewer' ? 11 : 20;
          const cls = `node ${n.role}${n.self ? ' self' : ''}${n.unreachable && !n.reported ? ' unreachable' : ''}`;
          return svg`<g class=${cls} data-id=${n.id} data-role=${n.role} transform="translate(${p.x} ${p.y})">
            <title>${`${n.id}: ${nodeRole(n)}${n.url ? ` at ${n.url}` : ''}${n.held !== undefined ? `; holds ${n.held} metadata STUs` : ''}${n.unreachable ? `; its /api/peers: ${n.unreachable}` : ''}`}</title>
            ${n.leader ? svg`<circle class="leader" r=${r + 6}></circle>` : nothing}
            <circle class="body" r=${r}></circle>
            ${n.you ? svg`<circle class="you" r=${r + 5}></circle>` : nothing}
            <text y=${r + 15} text-anchor="middle">${shortId(n.id)}</text>
            <text class="small" y=${r + 29} text-anchor="middle">${n.you ? 'you (this browser)' : n.self ? 'this server' : n.role}${n.leader ? ' · leader' : ''}</text>
          </g>`;
        })}
      </svg>
      <div class="legend" aria-hidden="true">
        <span><i style="background:var(--ok)"></i>in sync</span>
        <span><i style="background:var(--warn)"></i>catching up</span>
        <span><i style="background:var(--muted)"></i>admitting</span>
        <span>width: bytes per second</span>
        <span style="color:var(--accent)">● serving this page</span>
        <span style="color:var(--channels)">● server</span>
        <span style="color:var(--other)">● viewer</span>
        <span style="color:var(--usage)">◯ group leader</span>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-peers-graph': StateosPeersGraph;
  }
}
