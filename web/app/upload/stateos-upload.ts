// <stateos-upload>: drop media files here (or choose them with the button) and they go to the state server
// this page joined, over a WebRTC data channel of their own (Upload over STX); the server ingests each and
// its metadata reaches every server and this page's lists. One row per file: a progress bar while it is
// sent, then while the server ingests it, then a link to play it, or what went wrong, in words.
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { Viewer } from '../../sync/viewer.ts';
import { ConnectionController } from '../controllers/connection-controller.ts';
import type { ConnectionModel } from '../core/connection.ts';
import { formatBytes, formatPercent, plural } from '../core/format.ts';
import { hrefFor, parseRoute, type Route } from '../shell/router.ts';
import { shared } from '../styles/shared.ts';
import { type UploadItem, UploadQueue } from './upload-queue.ts';

@customElement('stateos-upload')
export class StateosUpload extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      section {
        background: var(--surface);
        border: 2px dashed var(--border);
        border-radius: 8px;
        padding: 10px 14px 12px;
        transition: border-color 0.15s, background-color 0.15s;
      }
      section.over {
        border-color: var(--accent);
        background: var(--accent-soft);
      }
      h2 {
        font-size: 16px;
        margin: 0 0 4px;
      }
      .hint {
        margin: 0;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px;
        color: var(--muted);
      }
      .offline {
        margin: 8px 0 0;
        color: var(--warn);
      }
      ul {
        list-style: none;
        margin: 10px 0 0;
        padding: 0;
        display: grid;
        gap: 8px;
      }
      li {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto;
        gap: 2px 12px;
        align-items: center;
      }
      .name {
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .name .size {
        font-weight: 400;
        color: var(--muted);
        margin-left: 6px;
      }
      progress {
        grid-column: 1;
        width: 100%;
        height: 10px;
        accent-color: var(--accent);
      }
      li.done progress {
        accent-color: var(--ok);
      }
      .status {
        grid-column: 1 / -1;
        font-size: 13px;
        color: var(--muted);
      }
      li.failed .status {
        color: var(--bad);
      }
      li.done .status {
        color: var(--ok);
      }
      .side {
        grid-row: 1 / span 2;
        grid-column: 2;
        white-space: nowrap;
      }
    `,
  ];

  /** The page's viewer (default: the app's, window.stateos.viewer, looked up when a file is sent). */
  @property({ attribute: false }) viewer: Viewer | undefined;
  @property({ attribute: false }) connection: ConnectionModel | undefined;
  /** The current route: the Play links keep its ?server=. */
  @property({ attribute: false }) route: Route | undefined;

  @state() private over = false;
  @state() private announce = '';

  private readonly conn = new ConnectionController(this, () => this.connectionModel());
  readonly queue = new UploadQueue(() => {
    const viewer = this.viewer ?? globalThis.window?.stateos?.viewer;
    const c = this.conn.value;
    // the server the page joined (the player may have reached others through it)
    const joined = viewer?.hub.peers().find((p) => p.state === 'live' && p.how === `joined ${viewer.server}`)?.server;
    return { hub: viewer?.hub, preferred: joined ?? c?.peer, why: c && c.state !== 'live' ? `${c.state}${c.reason ? `: ${c.reason}` : ''}` : viewer ? undefined : 'the viewer has not started' };
  });
  private offQueue: (() => void) | undefined;
  private depth = 0;

  private connectionModel(): ConnectionModel | undefined {
    return this.connection ?? globalThis.window?.stateos?.connection;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.offQueue = this.queue.changed.on((item) => {
      if (item?.state === 'done') this.announce = `${item.name}: uploaded as ${item.title ?? item.media}`;
      else if (item?.state === 'failed') this.announce = `${item.name}: ${item.error}`;
      this.requestUpdate();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.offQueue?.();
  }

  /** Sends files (the drop zone and the file input call this; tests and other components may too). */
  addFiles(files: Iterable<File>): void {
    this.queue.add(files);
  }

  private onDragEnter = (e: DragEvent) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    this.depth++;
    this.over = true;
  };

  private onDragOver = (e: DragEvent) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    this.over = true;
  };

  private onDragLeave = () => {
    this.depth = Math.max(0, this.depth - 1);
    if (this.depth === 0) this.over = false;
  };

  private onDrop = (e: DragEvent) => {
    e.preventDefault();
    this.depth = 0;
    this.over = false;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length > 0) this.addFiles(files);
  };

  private choose = () => this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click();

  private onChosen = (e: Event) => {
    const input = e.target as HTMLInputElement;
    this.addFiles([...(input.files ?? [])]);
    input.value = '';
  };

  private status(i: UploadItem) {
    const route = this.route ?? parseRoute('/', '');
    switch (i.state) {
      case 'waiting':
        return 'waiting for the upload before it';
      case 'sending':
        return `sending ${formatPercent(i.sent, i.size)} (${formatBytes(i.sent)} of ${formatBytes(i.size)})`;
      case 'ingesting':
        return `ingesting on the server ${formatPercent(i.ingested, i.size)}${i.frames ? `, ${plural(i.frames, 'frame')}` : ''}`;
      case 'done':
        return html`done: <a data-nav="1" href=${hrefFor(route.view, route, { play: i.media })} aria-label=${`Play ${i.title ?? i.name}`}>play “${i.title}”</a>
          <span class="muted">(${plural(i.frames, 'frame')}${i.ms !== undefined ? `, ${(i.ms / 1000).toFixed(1)} s` : ''})</span>`;
      case 'failed':
        return `${i.error ?? 'failed'}`;
    }
  }

  private value(i: UploadItem): number {
    if (i.state === 'sending') return i.size ? (100 * i.sent) / i.size : 0;
    if (i.state === 'ingesting') return i.size ? (100 * i.ingested) / i.size : 0;
    return i.state === 'done' ? 100 : 0;
  }

  override render() {
    const c = this.conn.value;
    const live = c?.state === 'live';
    const items = this.queue.items;
    return html`<section
      class=${this.over ? 'over' : ''}
      aria-labelledby="uh"
      @dragenter=${this.onDragEnter}
      @dragover=${this.onDragOver}
      @dragleave=${this.onDragLeave}
      @drop=${this.onDrop}
    >
      <h2 id="uh">Upload media</h2>
      <p class="hint">
        <span>Drop video or audio files here (MP4, MOV, WebM, MKV), or</span>
        <button type="button" @click=${this.choose} aria-describedby="uh">Choose files…</button>
        <input type="file" multiple hidden aria-label="Media files to upload" @change=${this.onChosen} />
        ${items.some((i) => i.state === 'done' || i.state === 'failed') ? html`<button type="button" @click=${() => this.queue.clearFinished()}>Clear finished</button>` : nothing}
      </p>
      <p class="hint">Each file goes to the state server over its own WebRTC data channel; the server ingests it and every server gets its metadata.</p>
      ${c && !live ? html`<p class="offline">Not connected to the server (${c.state}${c.reason ? `: ${c.reason}` : ''}): uploads need a live connection.</p>` : nothing}
      ${items.length > 0
        ? html`<ul aria-label="Uploads">
            ${repeat(
              items,
              (i) => i.key,
              (i) => html`<li class=${i.state} data-key=${i.key} data-state=${i.state}>
                <span class="name" title=${i.name}>${i.name}<span class="size">${formatBytes(i.size)}</span></span>
                <span class="side">
                  ${i.state === 'waiting' || i.state === 'sending' || i.state === 'ingesting'
                    ? html`<button type="button" @click=${() => this.queue.cancel(i.key)} aria-label=${`Cancel the upload of ${i.name}`}>Cancel</button>`
                    : nothing}
                </span>
                <progress max="100" .value=${this.value(i)} aria-label=${`Upload of ${i.name}`}></progress>
                <span class="status">${this.status(i)}</span>
              </li>`,
            )}
          </ul>`
        : nothing}
      <div class="visually-hidden" role="status" aria-live="polite">${this.announce}</div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-upload': StateosUpload;
  }
}
