// An hls.js loader (playlists and fragments) that fetches over STX: the playlist and each segment of a
// media come from the state servers the viewer is connected to, segments over WebRTC data channels
// (shared/media/segment-service.ts), round-robin across the servers that have the media (several sources
// at once). When no WebRTC session can serve a request, it falls back to the HTTP gateway at the same URL
// (/hls/media/<id>/…). Every load is reported through `onLoad` (which source, how many bytes, how long).
import type { HlsConfig, Loader, LoaderCallbacks, LoaderConfiguration, LoaderContext, LoaderStats } from 'hls.js';
import { SegmentClient } from '../../shared/media/segment-service.ts';
import { type Guid, isGuid } from '../../shared/stu/index.ts';

export interface LoadReport {
  url: string;
  kind: 'playlist' | 'init' | 'segment';
  /** The server GUID it came from over WebRTC, or 'http'. */
  source: string;
  bytes: number;
  ms: number;
  /** How long the server's funnel held it back. */
  heldMs: number;
}

export interface StxLoaderOptions {
  /** Segment clients for the live sessions (re-read at every load). */
  clients: () => SegmentClient[];
  /** The player's position, seconds (the funnel's feedback). */
  position: () => number;
  onLoad?: (r: LoadReport) => void;
  /** Fetch for the HTTP fallback. */
  fetchImpl?: typeof fetch;
  /** Awaited before each load: resolves once a session is up (or it is time to give up and use HTTP). */
  ready?: () => Promise<unknown>;
}

const PATH = /\/hls\/media\/([0-9a-f-]{36})\/(index\.m3u8|init\.mp4|seg-(\d{1,9})\.m4s)$/;

function newStats(): LoaderStats {
  const t = { start: 0, first: 0, end: 0 };
  return { aborted: false, loaded: 0, retry: 0, total: 0, chunkCount: 0, bwEstimate: 0, loading: { ...t }, parsing: { start: 0, end: 0 }, buffering: { ...t } };
}

/** A loader class for hls.js's `loader`/`pLoader`/`fLoader` config. */
export function makeStxLoader(opts: StxLoaderOptions): new (config: HlsConfig) => Loader<LoaderContext> {
  let turn = 0;
  const failing = new Map<string, number>();
  return class StxLoader implements Loader<LoaderContext> {
    context: LoaderContext | null = null;
    stats: LoaderStats = newStats();
    private abortCtl = new AbortController();

    load(context: LoaderContext, _config: LoaderConfiguration, callbacks: LoaderCallbacks<LoaderContext>): void {
      this.context = context;
      this.stats = newStats();
      this.stats.loading.start = performance.now();
      void this.run(context, callbacks);
    }

    abort(): void {
      this.stats.aborted = true;
      this.abortCtl.abort();
    }

    destroy(): void {
      this.abort();
      this.context = null;
    }

    private async run(context: LoaderContext, callbacks: LoaderCallbacks<LoaderContext>): Promise<void> {
      const m = PATH.exec(new URL(context.url, location.href).pathname);
      const media = m?.[1];
      const what = m?.[2];
      const kind: LoadReport['kind'] = what === 'index.m3u8' ? 'playlist' : what === 'init.mp4' ? 'init' : 'segment';
      let data: string | ArrayBuffer | undefined;
      let source = 'http';
      let heldMs = 0;
      const t0 = performance.now();
      if (m && isGuid(media)) {
        await opts.ready?.();
        if (this.stats.aborted) return;
        const clients = opts.clients().filter((c) => (failing.get(c.session.peer ?? '') ?? 0) < Date.now());
        for (let i = 0; i < clients.length && data === undefined && !this.stats.aborted; i++) {
          const c = clients[(turn + i) % clients.length];
          try {
            if (kind === 'playlist') data = await c.playlist(media as Guid);
            else {
              const r = await c.segment(media as Guid, kind === 'init' ? 'init' : Number(m[3]), opts.position(), this.abortCtl.signal);
              data = r.bytes.buffer.slice(r.bytes.byteOffset, r.bytes.byteOffset + r.bytes.byteLength) as ArrayBuffer;
              heldMs = r.delayMs;
            }
            source = c.session.peer ?? 'stx';
          } catch {
            if (this.stats.aborted) return;
            failing.set(c.session.peer ?? '', Date.now() + 5000); // try the others (or HTTP) for a while
          }
        }
        turn++;
      }
      if (this.stats.aborted) return;
      if (data === undefined) {
        try {
          const res = await (opts.fetchImpl ?? fetch)(context.url, { signal: this.abortCtl.signal });
          if (!res.ok) return callbacks.onError({ code: res.status, text: res.statusText }, context, null, this.stats);
          data = context.responseType === 'arraybuffer' ? await res.arrayBuffer() : await res.text();
          source = 'http';
        } catch (e) {
          if (this.stats.aborted) return;
          return callbacks.onError({ code: 0, text: (e as Error).message }, context, null, this.stats);
        }
      }
      const bytes = typeof data === 'string' ? data.length : data.byteLength;
      const now = performance.now();
      this.stats.loading.first = this.stats.loading.first || now;
      this.stats.loading.end = now;
      this.stats.loaded = this.stats.total = bytes;
      this.stats.chunkCount = 1;
      opts.onLoad?.({ url: context.url, kind, source, bytes, ms: now - t0, heldMs });
      callbacks.onSuccess({ url: context.url, data }, this.stats, context, null);
    }
  };
}
