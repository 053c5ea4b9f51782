// The player: plays a media object with hls.js. Its loader (web/player/stx-loader.ts) asks the state
// servers this page's viewer is connected to for the playlist and the segments over STX, the segments
// coming over WebRTC data channels (round-robin across the servers, each server paced by its data funnel
// from the position we report); when no session can serve a load it falls back to the HTTP gateway at the
// same address (/hls/media/<id>/index.m3u8), which is also the link any HLS player can open. Under the video,
// <stateos-player-stats> shows the buffer and where every segment came from. hls.js is loaded on first use,
// so the rest of the app does not wait for it.
import type Hls from 'hls.js';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { SegmentClient } from '../../../shared/media/segment-service.ts';
import type { PeerSession } from '../../../shared/sync/session.ts';
import { type LoadReport, makeStxLoader } from '../../player/stx-loader.ts';
import type { Viewer } from '../../sync/viewer.ts';
import { shared } from '../styles/shared.ts';
import type { BufferView } from './player-stats.ts';
import './player-stats.ts';

export const PlayerStatus = { idle: 'idle', loading: 'loading', playing: 'playing', paused: 'paused', error: 'error' } as const;
export type PlayerStatusName = (typeof PlayerStatus)[keyof typeof PlayerStatus];

/** Servers a player takes segments from at once (the page's own and those it reaches through it). */
const MAX_SOURCES = 3;

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
  /** The page's viewer: its live server sessions carry the playlist and segments over WebRTC. */
  @property({ attribute: false }) viewer: Viewer | undefined;

  @state() status: PlayerStatusName = 'idle';
  @state() message = '';
  /** Every playlist, init and segment load of the current media, oldest first (what the stats show). */
  @state() loads: LoadReport[] = [];
  @state() buffer: BufferView = { ranges: [], position: 0, duration: 0 };
  @query('video') private video!: HTMLVideoElement;
  private hls: Hls | undefined;
  private loadSeq = 0;
  private clients = new WeakMap<PeerSession, SegmentClient>();

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

  /** A segment client per live server session of the viewer (none: the loader uses HTTP). */
  private segmentClients(): SegmentClient[] {
    const sessions = this.viewer?.hub.sessions().filter((s) => s.peerRole === 'server') ?? [];
    return sessions.map((s) => {
      let c = this.clients.get(s);
      if (!c) this.clients.set(s, (c = new SegmentClient(s)));
      return c;
    });
  }

  /**
   * Resolves once the viewer has a live server session, or after `ms` (the page is still joining, or WebRTC
   * cannot connect: the loads then go to HTTP). Right after a page load the player asks for the playlist
   * before the viewer is admitted; waiting here keeps those first loads on WebRTC.
   */
  private sessionReady(ms: number): Promise<void> {
    if (typeof RTCPeerConnection !== 'function') return Promise.resolve();
    const until = performance.now() + ms;
    return new Promise((done) => {
      const check = () => {
        if (this.segmentClients().length > 0 || performance.now() >= until) done();
        else setTimeout(check, 50);
      };
      check();
    });
  }

  private showBuffer(): void {
    const v = this.video;
    const ranges: [number, number][] = [];
    for (let i = 0; i < v.buffered.length; i++) ranges.push([v.buffered.start(i), v.buffered.end(i)]);
    this.buffer = { ranges, position: v.currentTime, duration: Number.isFinite(v.duration) ? v.duration : 0 };
  }

  private async load(): Promise<void> {
    const seq = ++this.loadSeq;
    this.teardown();
    if (!this.media) return;
    this.status = 'loading';
    this.message = '';
    this.loads = [];
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
    let ready: Promise<void> | undefined;
    const loader = makeStxLoader({
      clients: () => this.segmentClients(),
      position: () => video.currentTime,
      // waited once per media: later loads go on with whatever sessions there are (or HTTP) at once
      ready: () =>
        (ready ??= this.sessionReady(5000).then(() => {
          // more servers, more sources: the loader round-robins over every live server session
          this.viewer?.hub.reachServers(MAX_SOURCES).catch((e: unknown) => console.debug('stateos: could not reach more servers', e));
        })),
      onLoad: (r) => {
        if (seq === this.loadSeq) this.loads = [...this.loads, r];
      },
    });
    const hls = new HlsClass({ enableWorker: true, loader });
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
        @timeupdate=${this.showBuffer}
        @progress=${this.showBuffer}
        @seeking=${this.showBuffer}
        @durationchange=${this.showBuffer}
      ></video>
      ${this.status === 'idle' ? nothing : html`<p class="status" data-status=${this.status} role="status">${this.status}${this.message ? `: ${this.message}` : ''}</p>`}
      <stateos-player-stats .buffer=${this.buffer} .loads=${this.loads}></stateos-player-stats>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'stateos-player': StateosPlayer;
  }
}
