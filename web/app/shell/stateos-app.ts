// The app's frame: a header (the views, the link to the server), the player when ?play= names a media,
// and the current view. It holds the models and hands them to the views; each view subscribes to what it
// shows through its own controllers.
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Viewer } from '../../sync/viewer.ts';
import type { ConnectionModel } from '../core/connection.ts';
import type { ObjectsModel } from '../core/objects.ts';
import { ObjectsController } from '../controllers/objects-controller.ts';
import { shared } from '../styles/shared.ts';
import '../canvas/state-canvas.ts';
import '../lists/lists-view.ts';
import { ConnectionController } from '../controllers/connection-controller.ts';
import '../player/stateos-player.ts';
import '../system/system-view.ts';
import './connection-status.ts';
import './sign-in.ts';
import { apiBase } from '../edit/api.ts';
import { hrefFor, type Route, Router, VIEWS } from './router.ts';

@customElement('stateos-app')
export class StateosApp extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: flex;
        flex-direction: column;
        height: 100vh;
        height: 100dvh;
      }
      .skip {
        position: absolute;
        left: -999px;
        top: 4px;
        z-index: 10;
        background: var(--surface);
        padding: 4px 8px;
      }
      .skip:focus {
        left: 8px;
      }
      header {
        display: flex;
        align-items: center;
        gap: 18px;
        padding: 0 16px;
        height: 48px;
        flex: none;
        background: var(--surface);
        border-bottom: 1px solid var(--border);
      }
      .brand {
        font-weight: 800;
        font-size: 17px;
        letter-spacing: -0.02em;
        color: var(--fg);
        text-decoration: none;
      }
      .brand span {
        color: var(--accent);
      }
      nav {
        display: flex;
        gap: 2px;
        height: 100%;
      }
      nav a {
        display: flex;
        align-items: center;
        padding: 0 12px;
        color: var(--muted);
        text-decoration: none;
        border-bottom: 3px solid transparent;
        font-weight: 600;
      }
      nav a:hover {
        color: var(--fg);
      }
      nav a[aria-current='page'] {
        color: var(--fg);
        border-bottom-color: var(--accent);
      }
      stateos-connection {
        margin-left: auto;
        min-width: 0;
        flex: 0 1 auto;
        font-size: 13px;
      }
      main {
        flex: 1;
        min-height: 0;
        overflow: auto;
        display: flex;
        flex-direction: column;
      }
      main.canvas {
        overflow: hidden;
      }
      main > * {
        flex: none;
      }
      main > stateos-lists,
      main > stateos-system {
        width: min(100%, 1200px);
        box-sizing: border-box;
      }
      main > stateos-canvas {
        flex: 1;
        min-height: 0;
      }
      stateos-player {
        margin: 16px auto 0;
        width: calc(100% - 32px);
        max-width: 1168px;
      }
      main.canvas stateos-player {
        margin: 8px;
        max-height: 45vh;
      }
      .page {
        padding: 24px;
        max-width: 70ch;
      }
      .storage-banner {
        margin: 12px 16px 0;
        padding: 10px 14px;
        border: 1px solid var(--bad);
        border-radius: 6px;
        color: var(--bad);
        background: var(--surface);
      }
    `,
  ];

  /** The objects the viewer holds (undefined until it started). */
  @property({ attribute: false }) model: ObjectsModel | undefined;
  @property({ attribute: false }) connection: ConnectionModel | undefined;
  @property({ attribute: false }) viewer: Viewer | undefined;
  @property({ attribute: false }) router: Router = new Router();
  /** Where HTTP requests go: '' for the server that served the page. */
  @property() server = '';

  private readonly conn = new ConnectionController(this, () => this.connection);
  private offRouter: (() => void) | undefined;
  private stopRouter: (() => void) | undefined;
  private readonly objects = new ObjectsController(this, () => this.model, (keys) => {
    const play = this.router.route.play;
    return play !== undefined && [...keys].some((k) => k.endsWith(play));
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.follow();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.offRouter?.();
    this.stopRouter?.();
    this.offRouter = this.stopRouter = undefined;
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('router') && this.isConnected) this.follow();
    if (changed.has('model')) this.objects.reattach();
    if (changed.has('connection') && this.isConnected) this.conn.hostConnected();
    const v = VIEWS.find((x) => x.id === this.router.route.view);
    document.title = `${v?.title ?? 'Not found'} · stateos`;
  }

  private follow(): void {
    this.offRouter?.();
    this.stopRouter?.();
    this.stopRouter = this.router.start();
    this.offRouter = this.router.changed.on(() => this.requestUpdate());
  }

  private closePlayer(route: Route): void {
    this.router.navigate(hrefFor(route.view, route, { focus: route.focus }));
  }

  private view(route: Route) {
    switch (route.view) {
      case 'objects':
        return html`<stateos-lists .model=${this.model} .route=${route} .viewer=${this.viewer}></stateos-lists>`;
      case 'canvas':
        return html`<stateos-canvas .model=${this.model} .route=${route} .focusId=${route.focus ?? ''}></stateos-canvas>`;
      case 'system':
        return html`<stateos-system .server=${this.server} .viewer=${this.viewer}></stateos-system>`;
      case 'demo':
        // a page of its own (web/demo/): the server sends it for /demo; here only after an in-app navigation
        return html`<div class="page">
          <h1>The in-tab demo</h1>
          <p>Four state servers running inside one page, each with its own IndexedDB ring, connected by real RTCPeerConnections, with no Node server: <a href="/demo/">open the demo</a>.</p>
        </div>`;
      case 'missing':
        return html`<div class="page">
          <h1>No such page</h1>
          <p>Try the <a data-nav="1" href=${hrefFor('objects', route)}>objects</a>, the <a data-nav="1" href=${hrefFor('canvas', route)}>canvas</a> or the <a data-nav="1" href=${hrefFor('system', route)}>system</a>.</p>
        </div>`;
    }
  }

  override render() {
    const route = this.router.route;
    const playing = route.play ? this.model?.find(route.play) : undefined;
    return html`<a class="skip" href="#main" @click=${(e: Event) => {
        e.preventDefault();
        this.renderRoot.querySelector<HTMLElement>('main')?.focus();
      }}>Skip to content</a>
      <header @click=${this.router.onClick}>
        <a class="brand" data-nav="1" href=${hrefFor('objects', route)} aria-label="stateos: objects">state<span>os</span></a>
        <nav aria-label="Views">
          ${VIEWS.filter((v) => v.id !== 'demo').map(
            (v) => html`<a data-nav="1" href=${hrefFor(v.id, route)} aria-current=${v.id === route.view ? 'page' : 'false'}>${v.label}</a>`,
          )}
          <a href="/demo/" title="The whole system in this tab: four state servers in the page">Demo</a>
        </nav>
        <stateos-connection .model=${this.connection}></stateos-connection>
        <stateos-sign-in .server=${apiBase(route.server, location.origin)}></stateos-sign-in>
      </header>
      <main id="main" tabindex="-1" class=${route.view} @click=${this.router.onClick}>
        ${this.conn.value?.storage ? html`<p class="storage-banner" role="alert">This browser could not store what the server sent (${this.conn.value.storage}).</p>` : nothing}
        ${route.play
          ? html`<stateos-player
              .media=${route.play}
              .label=${playing?.title ?? ''}
              .server=${this.server}
              .viewer=${this.viewer}
              @player-close=${() => this.closePlayer(route)}
            ></stateos-player>`
          : nothing}
        ${this.view(route)}
      </main>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-app': StateosApp;
  }
}
