// <stateos-demo>: the in-tab demo's page. A picture of the servers and their links, a card per server
// (its ring's fill and evictions, STU counts, sync state, frames fetched, and its controls), the player,
// the collision control, ingest of a dropped file, the figures, and a text that says what is going on.
// Everything is rendered from the DemoCluster (core/cluster.ts): on its change events, coalesced to one
// render per animation frame, and once a second for the ring figures.
import { css, html, LitElement, nothing, svg } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { MediaMetadata } from '../../shared/media/metadata.ts';
import type { Guid } from '../../shared/stu/index.ts';
import { formatBytes, formatCount, formatPercent, shortId } from '../app/core/format.ts';
import { shared } from '../app/styles/shared.ts';
import { type DemoCluster, type DemoLink, SHRUNK_DATA_BYTES } from './core/cluster.ts';
import type { DemoServer } from './core/demo-server.ts';
import './demo-player.ts';
import type { DemoPlayer } from './demo-player.ts';

const W = 520;
const H = 370;
/** Where the viewer (the player) is drawn: under the servers. */
const VIEWER = { x: W / 2, y: H - 40 };

function place(n: number, count: number): { x: number; y: number } {
  if (count === 4) return [{ x: 110, y: 70 }, { x: 410, y: 70 }, { x: 410, y: 240 }, { x: 110, y: 240 }][n - 1];
  const a = (2 * Math.PI * (n - 1)) / count - Math.PI / 2;
  return { x: W / 2 + 190 * Math.cos(a), y: H / 2 - 10 + 115 * Math.sin(a) };
}

function linkText(l: DemoLink): string {
  if (l.state !== 'up' || !l.sessions) return l.state === 'cut' ? 'cut' : l.state === 'connecting' ? 'connecting' : `down${l.reason ? ` (${l.reason})` : ''}`;
  const lag = l.sessions[0].lag();
  const behind = Math.max(lag.peerBehind, lag.weBehind);
  return behind === 0 ? 'up, in sync' : `up, ${behind} STUs behind`;
}

/** STU bytes carried both ways: each direction as counted by whichever end counted more (a sender does not
 *  count its live UpdateSTU messages, a receiver counts everything it stores). */
function linkBytes(l: DemoLink): number {
  if (!l.sessions) return 0;
  const [a, b] = l.sessions.map((s) => s.stats);
  return Math.max(a.bytesOut, b.bytesIn) + Math.max(b.bytesOut, a.bytesIn);
}

@customElement('stateos-demo')
export class StateosDemo extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        max-width: 1280px;
        margin: 0 auto;
        padding: 12px 18px 40px;
      }
      h1 {
        font-size: 22px;
        margin: 6px 0 4px;
        letter-spacing: -0.01em;
      }
      h2 {
        font-size: 16px;
        margin: 0 0 8px;
      }
      h3 {
        font-size: 14px;
        margin: 0;
      }
      .intro {
        max-width: 80ch;
        margin: 0 0 12px;
      }
      .top {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        gap: 14px;
        align-items: start;
      }
      @media (max-width: 900px) {
        .top {
          grid-template-columns: 1fr;
        }
      }
      section.panel,
      article.server {
        background: var(--surface);
        border: 1px solid var(--border);
        border-radius: 8px;
        padding: 10px 12px;
      }
      .servers {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(270px, 1fr));
        gap: 12px;
        margin: 14px 0;
      }
      article.server[data-state='stopped'] {
        opacity: 0.75;
        border-style: dashed;
      }
      article.server header {
        display: flex;
        align-items: baseline;
        gap: 8px;
        margin-bottom: 4px;
      }
      .state {
        font-size: 12px;
        font-weight: 700;
        text-transform: uppercase;
        letter-spacing: 0.05em;
      }
      .state[data-state='running'] {
        color: var(--ok);
      }
      .state[data-state='stopped'] {
        color: var(--bad);
      }
      .facts {
        font-size: 12px;
        color: var(--muted);
        font-variant-numeric: tabular-nums;
        margin: 2px 0;
      }
      .facts b {
        color: var(--fg);
        font-weight: 600;
      }
      .meter {
        height: 8px;
        border-radius: 4px;
        background: var(--surface-3);
        overflow: hidden;
        margin: 3px 0 1px;
      }
      .meter > div {
        height: 100%;
        background: var(--accent);
        min-width: 2px;
      }
      .meter.data > div {
        background: var(--channels);
      }
      .buttons {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        margin-top: 8px;
      }
      svg.picture {
        display: block;
        width: 100%;
        height: auto;
      }
      .edge {
        stroke-width: 4;
        stroke-linecap: round;
      }
      .edge[data-state='up'] {
        stroke: var(--ok);
      }
      .edge[data-state='up'][data-behind='true'] {
        stroke: var(--warn);
      }
      .edge[data-state='connecting'],
      .edge[data-state='down'] {
        stroke: var(--muted);
        stroke-dasharray: 3 8;
      }
      .edge[data-state='cut'] {
        stroke: var(--bad);
        stroke-dasharray: 10 10;
        stroke-width: 3;
      }
      .viewer-edge {
        stroke: var(--focus);
        stroke-width: 2.5;
        stroke-dasharray: 5 4;
      }
      .node circle {
        stroke: var(--surface);
        stroke-width: 3;
      }
      .node[data-state='running'] circle {
        fill: var(--accent);
      }
      .node[data-state='stopped'] circle {
        fill: var(--surface-3);
        stroke: var(--muted);
        stroke-dasharray: 4 3;
      }
      .node[data-state='starting'] circle,
      .node[data-state='stopping'] circle {
        fill: var(--warn);
      }
      svg text {
        fill: var(--fg);
        font: 12px system-ui, sans-serif;
        paint-order: stroke;
        stroke: var(--surface);
        stroke-width: 4px;
        stroke-linejoin: round;
      }
      svg text.big {
        font-weight: 700;
        font-size: 14px;
        fill: #fff;
        stroke: none;
      }
      table {
        font-size: 13px;
      }
      td,
      th {
        padding: 4px 8px;
      }
      .drop {
        border: 2px dashed var(--border);
        border-radius: 8px;
        padding: 10px;
        margin-top: 8px;
      }
      .drop[data-over='true'] {
        border-color: var(--accent);
        background: var(--accent-soft);
      }
      .error {
        color: var(--bad);
        font-weight: 600;
      }
      .figures td {
        font-variant-numeric: tabular-nums;
      }
      ol.log {
        font-size: 12px;
        max-height: 12em;
        overflow: auto;
        margin: 0;
        padding-left: 22px;
      }
      .explain p,
      .explain li {
        max-width: 90ch;
      }
      .verdict {
        font-size: 12px;
      }
      .collision {
        color: var(--warn);
        font-weight: 600;
      }
    `,
  ];

  @property({ attribute: false }) cluster: DemoCluster | undefined;
  @state() private notes: string[] = [];
  @state() private busy = new Set<string>();
  @state() private dropOver = false;
  @state() private dropError = '';
  @state() private media: Guid | undefined;
  @state() private startError = '';
  @query('demo-player') player!: DemoPlayer;
  private frame = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private offs: (() => void)[] = [];

  override connectedCallback(): void {
    super.connectedCallback();
    this.timer = setInterval(() => this.requestUpdate(), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
    for (const off of this.offs) off();
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('cluster') && this.cluster) {
      for (const off of this.offs) off();
      const c = this.cluster;
      this.offs = [
        c.changed.on(() => {
          if (this.frame) return;
          this.frame = requestAnimationFrame(() => {
            this.frame = 0;
            this.requestUpdate();
          });
        }),
        c.notes.on((n) => (this.notes = [...this.notes.slice(-49), `${(performance.now() / 1000).toFixed(1)} s: ${n}`])),
      ];
    }
  }

  /** The page failed to start (no IndexedDB, no WebRTC): shown at the top. */
  failed(message: string): void {
    this.startError = message;
  }

  /** Runs a control, one at a time per key; failures go to the log. */
  private async run(key: string, what: string, fn: () => Promise<unknown>): Promise<void> {
    if (this.busy.has(key)) return;
    this.busy = new Set([...this.busy, key]);
    try {
      await fn();
    } catch (e) {
      this.notes = [...this.notes, `${what} failed: ${(e as Error).message}`];
    } finally {
      const b = new Set(this.busy);
      b.delete(key);
      this.busy = b;
    }
  }

  private allMedia(): MediaMetadata[] {
    const seen = new Map<Guid, MediaMetadata>();
    for (const s of this.cluster?.servers ?? []) for (const m of s.mediaList()) if (!seen.has(m.id)) seen.set(m.id, m);
    return [...seen.values()];
  }

  private chosenMedia(): Guid | undefined {
    return this.media ?? this.cluster?.sampleId;
  }

  /** Plays the chosen media from server `n`. */
  play(n: number): Promise<void> {
    const media = this.chosenMedia();
    if (!media) return Promise.resolve();
    return this.run(`play`, `Playing from server ${n}`, () => this.player.play(n, media));
  }

  private toggleServer(s: DemoServer): Promise<void> {
    const c = this.cluster!;
    return this.run(`server ${s.n}`, s.running ? `Stopping server ${s.n}` : `Starting server ${s.n}`, () => (s.running ? c.stopServer(s.n) : c.startServer(s.n)));
  }

  private toggleLink(l: DemoLink): Promise<void> {
    const c = this.cluster!;
    return this.run(`link ${l.a}-${l.b}`, `Link ${l.a}–${l.b}`, async () => (l.state === 'cut' ? c.restoreLink(l.a, l.b) : c.cutLink(l.a, l.b)));
  }

  private async onFiles(files: FileList | null | undefined): Promise<void> {
    const file = files?.[0];
    if (!file || !this.cluster) return;
    this.dropError = '';
    const c = this.cluster;
    const n = c.servers.find((s) => s.running)?.n;
    if (n === undefined) {
      this.dropError = 'Start a server first: every server is stopped.';
      return;
    }
    await this.run('ingest', `Ingesting ${file.name}`, async () => {
      try {
        this.media = await c.ingest(n, file, file.name.replace(/\.[^.]*$/, '') || file.name);
      } catch (e) {
        this.dropError = `“${file.name}” could not be ingested: ${(e as Error).message}`;
        throw e;
      }
    });
  }

  private renderPicture(c: DemoCluster) {
    const count = c.count;
    const running = c.servers.filter((s) => s.running).length;
    const links = [...c.links.values()];
    const up = links.filter((l) => l.state === 'up').length;
    const cut = links.filter((l) => l.state === 'cut').length;
    const desc = `${running} of ${count} servers running; ${up} of ${links.length} links up${cut ? `, ${cut} cut` : ''}${c.viewer.server ? `; the viewer plays from server ${c.viewer.server}` : ''}.`;
    const v = c.viewer.server ? place(c.viewer.server, count) : undefined;
    return html`<svg class="picture" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="pic-t pic-d">
      <title id="pic-t">The demo's servers and links</title>
      <desc id="pic-d">${desc}</desc>
      ${links.map((l) => {
        const a = place(l.a, count);
        const b = place(l.b, count);
        const behind = l.state === 'up' && l.sessions ? Math.max(l.sessions[0].lag().peerBehind, l.sessions[0].lag().weBehind) > 0 : false;
        const mx = (a.x + b.x) / 2;
        const my = (a.y + b.y) / 2;
        const diag = Math.abs(a.x - b.x) > 10 && Math.abs(a.y - b.y) > 10;
        return svg`<g data-link=${`${l.a}-${l.b}`}>
          <title>${`server ${l.a} ↔ server ${l.b}: ${linkText(l)}, ${formatBytes(linkBytes(l))} carried`}</title>
          <line class="edge" data-state=${l.state} data-behind=${String(behind)} x1=${a.x} y1=${a.y} x2=${b.x} y2=${b.y}></line>
          <text x=${diag ? mx + (l.a === 1 ? -34 : 34) : mx} y=${diag ? my - 6 : my - 8} text-anchor="middle">${l.state === 'cut' ? '✂ cut' : l.state === 'up' ? formatBytes(linkBytes(l)) : l.state}</text>
        </g>`;
      })}
      ${v
        ? svg`<line class="viewer-edge" x1=${v.x} y1=${v.y} x2=${VIEWER.x} y2=${VIEWER.y}></line>
        <g><circle cx=${VIEWER.x} cy=${VIEWER.y} r="12" fill="var(--focus)"></circle><text x=${VIEWER.x + 20} y=${VIEWER.y + 26} text-anchor="middle">${`viewer, playing from server ${c.viewer.server}`}</text></g>`
        : nothing}
      ${c.servers.map((s) => {
        const p = place(s.n, count);
        const below = p.y > H / 2;
        return svg`<g class="node" data-server=${s.n} data-state=${s.state} transform="translate(${p.x} ${p.y})">
          <title>${`server ${s.n} (${s.guid}): ${s.state}`}</title>
          <circle r="26"></circle>
          <text class="big" y="5" text-anchor="middle">${s.n}</text>
          <text x=${below ? (p.x < W / 2 ? -20 : 20) : 0} y=${below ? 44 : -34} text-anchor="middle">${`server ${s.n} · ${s.state === 'running' ? `${s.metaStus()} meta STUs` : s.state}`}</text>
        </g>`;
      })}
    </svg>`;
  }

  private renderLinks(c: DemoCluster) {
    return html`<table>
      <caption class="visually-hidden">Links between the demo's servers</caption>
      <thead>
        <tr><th scope="col">link</th><th scope="col">state</th><th scope="col" class="num">carried</th><th scope="col"><span class="visually-hidden">control</span></th></tr>
      </thead>
      <tbody>
        ${[...c.links.values()].map(
          (l) => html`<tr data-link=${`${l.a}-${l.b}`} data-state=${l.state}>
            <td>server ${l.a} ↔ server ${l.b}</td>
            <td>${linkText(l)}</td>
            <td class="num">${formatBytes(linkBytes(l))}</td>
            <td>
              <button
                ?disabled=${this.busy.has(`link ${l.a}-${l.b}`) || l.state === 'connecting'}
                aria-label=${`${l.state === 'cut' ? 'Restore' : 'Cut'} the link between server ${l.a} and server ${l.b}`}
                @click=${() => this.toggleLink(l)}
              >
                ${l.state === 'cut' ? 'Restore' : 'Cut'}
              </button>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private renderServer(c: DemoCluster, s: DemoServer) {
    const st = s.ringStats();
    const t = s.liveTotals();
    const sample = this.chosenMedia() ? s.index?.get(this.chosenMedia()!) : undefined;
    const held = sample ? s.framesHeld(sample) : undefined;
    const collisions = c.sampleId ? s.collisions().filter((x) => x.object === c.sampleId) : [];
    const last = collisions[collisions.length - 1];
    const peers = s.hub?.servers().length ?? 0;
    const behind = s.hub?.servers().reduce((n, p) => n + p.lag().weBehind, 0) ?? 0;
    const busy = this.busy.has(`server ${s.n}`) || s.state === 'starting' || s.state === 'stopping';
    const meter = (name: 'meta' | 'data', label: string) => {
      const x = st?.[name];
      if (!x) return nothing;
      return html`<div class="facts">${label}: <b>${formatBytes(x.used)}</b> of ${formatBytes(x.capacity)} · ${formatCount(x.records)} records · <span data-evicted=${x.evicted}>${formatCount(x.evicted)} evicted</span></div>
        <div class="meter ${name}" role="meter" aria-label=${`server ${s.n} ${label}: ${formatPercent(x.used, x.capacity)} used`} aria-valuemin="0" aria-valuemax=${x.capacity} aria-valuenow=${x.used}>
          <div style=${`width:${((100 * x.used) / Math.max(1, x.capacity)).toFixed(2)}%`}></div>
        </div>`;
    };
    return html`<article class="server" data-server=${s.n} data-state=${s.state} aria-labelledby=${`srv-${s.n}`}>
      <header>
        <h3 id=${`srv-${s.n}`}>Server ${s.n}</h3>
        <span class="mono muted" title=${s.guid}>${shortId(s.guid)}</span>
        <span class="state" data-state=${s.state}>${s.state}</span>
      </header>
      ${s.error ? html`<p class="error">${s.error}</p>` : nothing}
      ${s.running
        ? html`<div class="facts">
              <b data-meta-stus=${s.metaStus()}>${formatCount(s.metaStus())}</b> metadata STUs · <b>${s.mediaList().length}</b> media · ${peers} peers ·
              ${behind === 0 ? html`<span style="color:var(--ok)">in sync</span>` : html`<span style="color:var(--warn)">${behind} STUs to catch up</span>`}
            </div>
            ${sample
              ? html`<div class="facts" data-sample-title=${sample.title}>“${sample.title}”: <b>${formatCount(held!.held)}</b> of ${formatCount(held!.total)} frames here</div>`
              : html`<div class="facts">${c.sampleId ? 'the media is not here yet' : 'waiting for the sample'}</div>`}
            ${meter('meta', 'metadata section')} ${meter('data', 'data section')}`
        : html`<div class="facts">Stopped: its ring stays in IndexedDB (${s.ringName}).</div>`}
      <div class="facts">
        frames fetched from peers <b data-fetched=${t.framesFetched}>${formatCount(t.framesFetched)}</b> (${t.downloads} requests) · sent to peers ${formatCount(t.framesSent)} · segments served
        <b>${t.segmentsServed}</b> · evictions ${formatCount(t.evictions)}
      </div>
      ${last
        ? html`<div class="verdict" data-collisions=${collisions.length} data-winner=${last.winner ?? ''}>
            <span class="collision">${collisions.length} collision${collisions.length === 1 ? '' : 's'}</span>: winner <span class="mono">${last.winner ? `${shortId(last.winner)}…/${last.winner.split('/').pop()}` : 'none'}</span> (${last.policy})
          </div>`
        : nothing}
      <div class="buttons">
        <button ?disabled=${busy} aria-label=${`${s.running ? 'Stop' : 'Start'} server ${s.n}`} @click=${() => this.toggleServer(s)}>${s.running ? 'Stop' : 'Start'}</button>
        <button
          ?disabled=${busy || (s.record.dataBytes <= SHRUNK_DATA_BYTES && s.running)}
          aria-label=${`Shrink the data ring of server ${s.n} to ${SHRUNK_DATA_BYTES >> 10} KiB`}
          title="Copy this server's ring into one with a 256 KiB data section: the oldest frames are evicted"
          @click=${() => this.run(`server ${s.n}`, `Shrinking server ${s.n}`, () => c.shrink(s.n))}
        >
          Shrink data ring
        </button>
        <button ?disabled=${!s.running || !this.chosenMedia() || this.busy.has('play')} aria-label=${`Play from server ${s.n}`} @click=${() => this.play(s.n)}>Play from here</button>
      </div>
    </article>`;
  }

  private renderCollisions(c: DemoCluster) {
    const rows = c.servers.map((s) => {
      const list = c.sampleId ? s.collisions().filter((x) => x.object === c.sampleId) : [];
      return { s, list, title: c.sample(s.n)?.title };
    });
    const winners = new Set(rows.filter((r) => r.s.running).map((r) => r.list.map((x) => x.winner).join(',')));
    const any = rows.some((r) => r.list.length > 0);
    return html`<section class="panel" aria-labelledby="coll-h">
      <h2 id="coll-h">Write the same object on two servers at once</h2>
      <p class="facts" style="margin-top:0">
        Servers 1 and 2 rename the sample in the same instant, both from the version they hold: two metadata STUs with the same predecessor. Each server gets the other's STU
        and detects the collision; the media application decides it the same way everywhere (first wins, by timestamp then origin).
      </p>
      <button ?disabled=${!c.sampleId || this.busy.has('collide') || !c.server(1).running || !c.server(2).running} @click=${() => this.run('collide', 'The collision', () => c.collide(1, 2))}>
        Rename on servers 1 and 2 at once
      </button>
      ${any
        ? html`<table style="margin-top:8px">
              <caption class="visually-hidden">Collisions each server detected</caption>
              <thead>
                <tr><th scope="col">server</th><th scope="col" class="num">collisions</th><th scope="col">winner</th><th scope="col">title it shows</th></tr>
              </thead>
              <tbody>
                ${rows.map(
                  (r) => html`<tr data-server=${r.s.n}>
                    <td>server ${r.s.n}</td>
                    <td class="num">${r.s.running ? r.list.length : '–'}</td>
                    <td class="mono">${r.list.length ? r.list.map((x) => x.winner ?? 'none').join(', ') : '–'}</td>
                    <td>${r.title ?? '–'}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
            <p role="status" class="facts" data-same-verdict=${String(winners.size === 1)}>
              ${winners.size === 1 ? 'Every running server reached the same verdict.' : 'The servers do not agree yet (an STU is still on its way).'}
            </p>`
        : nothing}
    </section>`;
  }

  private renderFigures(c: DemoCluster) {
    const m = c.metrics;
    const p = this.player?.figures;
    const ms = (v: number | undefined) => (v === undefined ? '–' : `${(v / 1000).toFixed(2)} s`);
    return html`<section class="panel figures" aria-labelledby="fig-h">
      <h2 id="fig-h">Figures (this page, this browser)</h2>
      <table>
        <caption class="visually-hidden">Timings measured in this page</caption>
        <tbody>
          <tr><th scope="row">servers started from IndexedDB</th><td>${ms(m.serversUpMs)} after the page started loading</td></tr>
          <tr><th scope="row">all links up</th><td>${ms(m.linksUpMs)}</td></tr>
          <tr><th scope="row">sample ingested on server 1</th><td>${ms(m.ingestDoneMs)}</td></tr>
          <tr><th scope="row">convergence: every server holds the sample's metadata</th><td data-converged=${m.convergedMs ?? ''}>${ms(m.convergedMs)}</td></tr>
          <tr>
            <th scope="row">IndexedDB ring append while ingesting</th>
            <td>${m.ingest ? `${m.ingest.mibPerSecond.toFixed(1)} MiB/s (${(m.ingest.bytes / 1048576).toFixed(2)} MiB, ${m.ingest.stus} STUs in ${m.ingest.ms.toFixed(0)} ms)` : '–'}</td>
          </tr>
          <tr><th scope="row">time to first frame</th><td>${p?.ttffMs !== undefined ? `${p.ttffMs.toFixed(0)} ms from Play (server ${p.server}); ${ms(p.firstFrameMs)} after page load` : '–'}</td></tr>
        </tbody>
      </table>
    </section>`;
  }

  override render() {
    const c = this.cluster;
    const media = this.allMedia();
    const chosen = this.chosenMedia();
    return html`<header>
        <h1>stateos: a whole State OS cluster in this tab</h1>
        <p class="intro">
          ${c?.count ?? 4} state servers run inside this page, each with its own ring in this browser's IndexedDB, joined to each other by real WebRTC connections. The sample clip
          is ingested on server 1, its metadata replicates to every server, and the player plays it from another server, whose segments are built from frames it fetches from its
          peers. Stop servers, cut links, shrink a ring, or make two servers write the same object, and watch the system repair itself. Nothing here talks to a web server.
        </p>
        ${this.startError ? html`<p class="error" role="alert">The demo could not start: ${this.startError}</p>` : nothing}
      </header>
      ${c
        ? html`<div class="top">
              <section class="panel" aria-labelledby="cl-h">
                <h2 id="cl-h">Servers and links</h2>
                ${this.renderPicture(c)} ${this.renderLinks(c)}
              </section>
              <section class="panel" aria-labelledby="pl-h">
                <h2 id="pl-h">Player</h2>
                <label
                  >Media:
                  <select @change=${(e: Event) => (this.media = (e.target as HTMLSelectElement).value as Guid)}>
                    ${media.length === 0 ? html`<option value="">(none yet)</option>` : nothing}
                    ${media.map((m) => html`<option value=${m.id} ?selected=${m.id === chosen}>${m.title}</option>`)}
                  </select></label
                >
                <demo-player .cluster=${c}></demo-player>
                <div
                  class="drop"
                  data-over=${String(this.dropOver)}
                  @dragover=${(e: DragEvent) => {
                    e.preventDefault();
                    this.dropOver = true;
                  }}
                  @dragleave=${() => (this.dropOver = false)}
                  @drop=${(e: DragEvent) => {
                    e.preventDefault();
                    this.dropOver = false;
                    void this.onFiles(e.dataTransfer?.files);
                  }}
                >
                  <label
                    >Drop a media file here, or choose one, to ingest it on server 1 (MP4, MOV, WebM, MKV):
                    <input type="file" accept="video/*,audio/*,.mkv,.webm,.mp4,.mov" @change=${(e: Event) => void this.onFiles((e.target as HTMLInputElement).files)} />
                  </label>
                  ${c.ingesting
                    ? html`<p class="facts" role="status">
                        Ingesting “${c.ingesting.title}” on server ${c.ingesting.server}:
                        ${c.ingesting.progress ? `${formatPercent(c.ingesting.progress.bytesRead, c.ingesting.progress.total)}, ${c.ingesting.progress.frames} frames` : 'starting'}
                      </p>`
                    : nothing}
                  ${this.dropError ? html`<p class="error" role="alert">${this.dropError}</p>` : nothing}
                </div>
              </section>
            </div>
            <div class="servers">${c.servers.map((s) => this.renderServer(c, s))}</div>
            <div class="top">
              ${this.renderCollisions(c)} ${this.renderFigures(c)}
            </div>`
        : html`<p role="status">Starting the servers…</p>`}
      <section class="panel" aria-labelledby="log-h" style="margin-top:14px">
        <h2 id="log-h">What happened</h2>
        <ol class="log" role="log" aria-live="polite">
          ${this.notes.map((n) => html`<li>${n}</li>`)}
        </ol>
      </section>
      <section class="panel explain" aria-labelledby="ex-h" style="margin-top:14px">
        <h2 id="ex-h">What this shows</h2>
        <p>
          Every piece of data is an <b>STU</b>, an immutable unit with a 512-byte header. The clip became one <i>frame STU</i> per video or audio frame and one
          <i>metadata STU</i> (its title, tracks and codecs). Each server appends STUs to its <b>ring</b>: two fixed-size circular logs (metadata and data) kept here in IndexedDB;
          when a ring is full its oldest records are overwritten (<i>evicted</i>).
        </p>
        <ul>
          <li>
            <b>Replication.</b> Metadata STUs go to every server at once over the links (STX messages on WebRTC data channels), and are relayed, so a server with a cut link still
            gets them through the others. On (re)connecting, servers compare what they hold and stream what is missing (<i>catch-up</i>).
          </li>
          <li>
            <b>Frames on demand.</b> Frame STUs stay where they were made. A server asked to play a clip whose frames it lacks asks its peers (<i>data discovery</i>): the group
            leader has each holder send a part, over data channels, and the frames land in the asking server's ring.
          </li>
          <li>
            <b>Playback.</b> The player is a viewer with its own connection to one server. hls.js asks that server for the playlist and each 2-second segment over STX; the
            server builds the fMP4 segment from the frames in its ring and sends it over a data channel.
          </li>
          <li>
            <b>Stop and restart</b> closes a server's links and its ring; on restart it reads the ring back from IndexedDB, rebuilds its objects, rejoins and catches up with
            what it missed. <b>Shrink data ring</b> copies the ring into one with a ${SHRUNK_DATA_BYTES >> 10} KiB data section, evicting most frames; play from that server and the frames
            come back from its peers. <b>Cut</b> closes the WebRTC connection between two servers until you restore it.
          </li>
          <li>
            <b>Collisions.</b> Changes to an object form a chain: each names the version it follows. Two changes after the same version are a collision, detected by every server
            and resolved the same way everywhere, with no coordinator.
          </li>
        </ul>
        <p class="muted">
          The rings stay in this browser: reload and the servers start from them. <button @click=${() => this.resetDemo()}>Reset the demo</button> deletes them.
        </p>
      </section>`;
  }

  private resetDemo(): Promise<void> {
    return this.run('reset', 'Reset', async () => {
      this.player?.stop();
      await this.cluster?.reset();
      location.reload();
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-demo': StateosDemo;
  }
}
