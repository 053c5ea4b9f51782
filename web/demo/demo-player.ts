// The demo's player: hls.js whose loader (web/player/stx-loader.ts) asks one demo server, over the page
// viewer's session with it (a real RTCPeerConnection inside the page), for the playlist (GetPlaylist) and
// every segment (GetSegment), each segment's bytes coming over a data channel of its own. There is no HTTP
// server behind the demo: the loader's HTTP fallback is replaced by one that fails, so a load that WebRTC
// cannot serve shows as an error instead of going anywhere else.
import type Hls from 'hls.js';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { SegmentClient } from '../../shared/media/segment-service.ts';
import type { Guid } from '../../shared/stu/index.ts';
import { formatBytes } from '../app/core/format.ts';
import { shared } from '../app/styles/shared.ts';
import { type LoadReport, makeStxLoader } from '../player/stx-loader.ts';
import type { DemoCluster } from './core/cluster.ts';

export interface PlayFigures {
  server: number;
  media: Guid;
  /** performance.now() when play was asked for. */
  requestedMs: number;
  /** performance.now() at the first frame presented (page load is 0). */
  firstFrameMs?: number;
  /** From the request to the first frame. */
  ttffMs?: number;
}

const noHttp: typeof fetch = () => Promise.reject(new Error('the in-tab demo has no HTTP server: segments come over WebRTC only'));

@customElement('demo-player')
export class DemoPlayer extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
      }
      video {
        display: block;
        width: 100%;
        max-height: 46vh;
        background: #000;
        border-radius: 6px;
      }
      .status {
        margin: 6px 0;
        font-size: 13px;
      }
      .status[data-status='error'] {
        color: var(--bad);
        font-weight: 600;
      }
      ol {
        margin: 4px 0 0;
        padding-left: 20px;
        font-size: 12px;
        max-height: 9.5em;
        overflow: auto;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  @property({ attribute: false }) cluster: DemoCluster | undefined;
  @state() status: 'idle' | 'connecting' | 'loading' | 'playing' | 'error' = 'idle';
  @state() message = '';
  /** Every load of the current play, oldest first. */
  @state() loads: LoadReport[] = [];
  /** Fatal hls.js errors of the current play. */
  fatal: string[] = [];
  figures: PlayFigures | undefined;
  @query('video') video!: HTMLVideoElement;
  private hls: Hls | undefined;
  private seq = 0;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.hls?.destroy();
  }

  /** Plays `media` from demo server `n`. */
  async play(n: number, media: Guid): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    const seq = ++this.seq;
    this.hls?.destroy();
    this.hls = undefined;
    this.loads = [];
    this.fatal = [];
    const figures: PlayFigures = { server: n, media, requestedMs: performance.now() };
    this.figures = figures;
    this.status = 'connecting';
    this.message = `connecting the viewer to server ${n}…`;
    try {
      const session = await cluster.viewer.connect(cluster.server(n));
      const { default: HlsClass } = await import('hls.js');
      if (seq !== this.seq) return;
      await this.updateComplete;
      const video = this.video;
      const client = new SegmentClient(session);
      const loader = makeStxLoader({
        clients: () => (session.state === 'live' ? [client] : []),
        position: () => video.currentTime,
        fetchImpl: noHttp,
        onLoad: (r) => {
          if (seq === this.seq) this.loads = [...this.loads, r];
        },
      });
      const hls = new HlsClass({ enableWorker: true, loader });
      this.hls = hls;
      this.status = 'loading';
      this.message = `asking server ${n} for the playlist over STX…`;
      hls.on(HlsClass.Events.ERROR, (_e, d) => {
        if (!d.fatal || seq !== this.seq) return;
        const text = `${d.type}: ${d.details}${d.error ? ` (${d.error.message})` : ''}`;
        this.fatal.push(text);
        this.status = 'error';
        this.message = text;
        hls.destroy();
      });
      hls.on(HlsClass.Events.MANIFEST_PARSED, () => {
        video.play().catch((e: unknown) => {
          this.message = `press play (${(e as Error).name})`;
        });
      });
      const onFrame = () => {
        if (seq !== this.seq || figures.firstFrameMs !== undefined) return;
        figures.firstFrameMs = performance.now();
        figures.ttffMs = figures.firstFrameMs - figures.requestedMs;
        this.status = 'playing';
        this.message = `playing from server ${n}: first frame ${figures.ttffMs.toFixed(0)} ms after asking`;
        this.dispatchEvent(new CustomEvent('first-frame', { detail: figures, bubbles: true, composed: true }));
      };
      // the first frame presented (requestVideoFrameCallback), or the first 'playing' where it is missing
      if (typeof (video as { requestVideoFrameCallback?: unknown }).requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(onFrame);
      else (video as HTMLVideoElement).addEventListener('playing', onFrame, { once: true });
      // A URL only hls.js and the loader read: /hls/media/ID/index.m3u8 names the media, nothing fetches it.
      hls.loadSource(new URL(`/hls/media/${media}/index.m3u8`, location.href).href);
      hls.attachMedia(video);
    } catch (e) {
      if (seq !== this.seq) return;
      this.status = 'error';
      this.message = `could not play from server ${n}: ${(e as Error).message}`;
      this.fatal.push(this.message);
    }
  }

  stop(): void {
    this.seq++;
    this.hls?.destroy();
    this.hls = undefined;
    this.status = 'idle';
    this.message = '';
  }

  private sourceName(source: string): string {
    const s = this.cluster?.servers.find((x) => x.guid === source);
    return s ? `server ${s.n}` : source;
  }

  override render() {
    const segs = this.loads.filter((l) => l.kind === 'segment');
    const bytes = this.loads.reduce((n, l) => n + l.bytes, 0);
    return html`<video controls muted playsinline aria-label="the demo's video"></video>
      <p class="status" role="status" data-status=${this.status}>${this.message || 'Not playing. Pick a server and press Play.'}</p>
      ${this.loads.length
        ? html`<p class="muted" style="margin:0;font-size:12px">
              ${this.loads.length} loads over WebRTC (${segs.length} media segments), ${formatBytes(bytes)}; the newest last:
            </p>
            <ol aria-label="loads of this play">
              ${this.loads.slice(-40).map(
                (l) => html`<li data-source=${l.source}>${l.kind} ${l.kind === 'segment' ? (/seg-(\d+)/.exec(l.url)?.[1] ?? '') : ''} from ${this.sourceName(l.source)}: ${formatBytes(l.bytes)} in ${l.ms.toFixed(0)} ms${l.heldMs ? ` (funnel held ${l.heldMs} ms)` : ''}</li>`,
              )}
            </ol>`
        : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'demo-player': DemoPlayer;
  }
}
