// Plays ?src=<HLS URL> with hls.js and keeps what a test needs on window.hlsPlay: the playback position,
// fatal and other errors, fragments loaded, buffered ranges. The status line shows the same for a screenshot.
import Hls, { type ErrorData } from 'hls.js';

export interface HlsPlayState {
  src: string;
  time: number;
  fatal: string | null;
  errors: string[];
  fragments: number;
  discontinuities: number[];
  buffered: Array<[number, number]>;
  ended: boolean;
  /** Seconds behind the live edge (live playlists). */
  latency: number | null;
  /** EXT-X-PROGRAM-DATE-TIME of the position, epoch ms (live). */
  date: number | null;
}

declare global {
  interface Window {
    hlsPlay?: HlsPlayState;
    hlsInstance?: Hls;
  }
}

const params = new URLSearchParams(location.search);
const src = params.get('src') ?? '';
const video = document.getElementById('video') as HTMLVideoElement;
const status = document.getElementById('status')!;
const state: HlsPlayState = { src, time: 0, fatal: null, errors: [], fragments: 0, discontinuities: [], buffered: [], ended: false, latency: null, date: null };
window.hlsPlay = state;
document.getElementById('title')!.textContent = `HLS playback: ${src}`;

function show(): void {
  state.time = video.currentTime;
  state.ended = video.ended;
  state.buffered = Array.from({ length: video.buffered.length }, (_, i) => [video.buffered.start(i), video.buffered.end(i)]);
  const hls = window.hlsInstance;
  const live = hls?.levels[hls.currentLevel]?.details?.live === true;
  state.latency = live ? hls!.latency : null;
  state.date = live ? (hls!.playingDate?.getTime() ?? null) : null;
  status.textContent = [
    `hls.js ${Hls.version}  currentTime ${video.currentTime.toFixed(2)} s  fragments ${state.fragments}`,
    `buffered ${state.buffered.map(([a, b]) => `${a.toFixed(2)}-${b.toFixed(2)}`).join(', ') || 'none'}`,
    state.latency !== null ? `live latency ${state.latency.toFixed(1)} s, playing ${state.date ? new Date(state.date).toISOString() : '?'}` : '',
    state.fatal ? `FATAL ${state.fatal}` : `errors ${state.errors.length ? state.errors.join('; ') : 'none'}`,
  ]
    .filter(Boolean)
    .join('\n');
}

if (src) {
  const hls = new Hls({ enableWorker: false, debug: false });
  window.hlsInstance = hls;
  hls.on(Hls.Events.ERROR, (_e, d: ErrorData) => {
    const what = `${d.type}/${d.details}${d.error ? `: ${d.error.message}` : ''}`;
    if (d.fatal) state.fatal = what;
    else state.errors.push(what);
    show();
  });
  hls.on(Hls.Events.FRAG_BUFFERED, (_e, d) => {
    state.fragments++;
    if (d.frag.type === 'main' && state.fragments > 1 && d.frag.cc !== state.discontinuities[state.discontinuities.length - 1]) state.discontinuities.push(d.frag.cc);
    else if (state.fragments === 1) state.discontinuities.push(d.frag.cc);
    show();
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    void video.play().catch((e: unknown) => state.errors.push(`play(): ${String(e)}`));
  });
  hls.loadSource(src);
  hls.attachMedia(video);
  video.addEventListener('timeupdate', show);
  setInterval(show, 250);
}
