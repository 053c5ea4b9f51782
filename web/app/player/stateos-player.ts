// The player: plays a media object with hls.js from the serving state server's HTTP gateway
// (/hls/media/<id>/index.m3u8). This is the place playback over WebRTC plugs in: hls.js takes a loader
// class (web/player/stx-loader.ts, `loader`/`pLoader`/`fLoader`) that fetches the playlist and segments over
// STX data channels, with this same HTTP address as its fallback. hls.js is loaded on first use, so the
// rest of the app does not wait for it.
import type Hls from 'hls.js';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { shared } from '../styles/shared.ts';

export const PlayerStatus = { idle: 'idle', loading: 'loading', playing: 'playing', paused: 'paused', error: 'error' } as const;
export type PlayerStatusName = (typeof PlayerStatus)[keyof typeof PlayerStatus];

/** The HLS address of a media on a server ('' = the page's own origin). */
export const mediaHlsUrl = (server: string, id: string): string => `${server}/hls/media/${encodeURIComponent(id)}/index.m3u8`;

@customElement('stateos-player')
export class StateosPlayer extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        background: var(--surface);
        border: 1px solid var(--border);
        border-radius: 8px;
        padding: 10px 14px 12px;
      }
      header {
        display: flex;
        align-items: baseline;
        gap: 10px;
        margin-bottom: 8px;
      }
      h2 {
        font-size: 16px;
        margin: 0;
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      video {
        display: block;
        width: 100%;
        max-height: 50vh;
        background: #000;
        border-radius: 4px;
      }
      .status {
        margin: 6px 0 0;
        font-size: 12px;
      }
      .status[data-status='error'] {
        color: var(--bad);
      }
    `,
  ];

  /** The media object's GUID. */
  @property() media = '';
  /** Shown above the video (the media's title when known). */
  @property() label = '';
  /** The state server whose gateway serves the HLS ('' = this page's origin). */
  @property() server = '';

  @state() status: PlayerStatusName = 'idle';
  @state() message = '';
  @query('video') private video!: HTMLVideoElement;
  private hls: Hls | undefined;
  private loadSeq = 0;

  /** The address hls.js plays. */
  get src(): string {
    return this.media ? mediaHlsUrl(this.server, this.media) : '';
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('media') || changed.has('server')) void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.teardown();
  }

  private teardown(): void {
    this.hls?.destroy();
    this.hls = undefined;
  }

  private async load(): Promise<void> {
    const seq = ++this.loadSeq;
    this.teardown();
    if (!this.media) return;
    this.status = 'loading';
    this.message = '';
    const { default: HlsClass } = await import('hls.js');
    if (seq !== this.loadSeq || !this.isConnected) return;
    const video = this.video;
    if (!HlsClass.isSupported()) {
      if (video.canPlayType('application/vnd.apple.mpegurl')) {
        video.src = this.src;
        return;
      }
      this.fail('this browser has neither Media Source Extensions nor native HLS');
      return;
    }
    const hls = new HlsClass({ enableWorker: true });
    this.hls = hls;
    hls.on(HlsClass.Events.ERROR, (_e, d) => {
      if (!d.fatal) return;
      const status = d.response?.code;
      this.fail(status === 404 ? `the server has no such media (${this.src}: 404)` : `${d.type}: ${d.details}${d.error ? ` (${d.error.message})` : ''}`);
      this.teardown();
    });
    hls.on(HlsClass.Events.MANIFEST_PARSED, () => {
      video.play().catch((e: unknown) => {
        // autoplay refused (no user gesture yet): the controls are there
        this.message = `press play (${(e as Error).name})`;
      });
    });
    hls.loadSource(this.src);
    hls.attachMedia(video);
  }

  private fail(message: string): void {
    this.status = 'error';
    this.message = message;
    this.dispatchEvent(new CustomEvent('player-error', { detail: { message }, bubbles: true, composed: true }));
  }

  private onClose(): void {
    this.dispatchEvent(new CustomEvent('player-close', { bubbles: true, composed: true }));
  }

  override render() {
    return html`<header>
        <h2 id="title">${this.label || this.media}</h2>
        <a href=${this.src} class="mono" title="the HLS playlist (open it in VLC, ffplay, Safari)">HLS</a>
        <button type="button" @click=${this.onClose} aria-label="Close the player">Close</button>
      </header>
      <video
        controls
        playsinline
        aria-labelledby="title"
        @playing=${() => (this.status = 'playing')}
        @pause=${() => this.status !== 'error' && (this.status = 'paused')}
      ></video>
      ${this.status === 'idle' ? nothing : html`<p class="status" data-status=${this.status} role="status">${this.status}${this.message ? `: ${this.message}` : ''}</p>`}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-player': StateosPlayer;
  }
}
