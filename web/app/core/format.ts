// How numbers read in the app: durations, sizes, rates, codecs, times. Pure functions, no DOM.

/** 75.2 → "1:15"; 3725 → "1:02:05"; undefined/NaN → "–". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** Milliseconds as a duration. */
export const formatMs = (ms: number | undefined): string => formatDuration(ms === undefined ? undefined : ms / 1000);

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 626123 → "611 KiB"; 1.5e6 → "1.4 MiB". */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n < 0) return '–';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${UNITS[i]}`;
}

/** Bytes per second. */
export const formatRate = (bytesPerSecond: number | undefined): string => (bytesPerSecond === undefined ? '–' : `${formatBytes(bytesPerSecond)}/s`);

/** 1234567 → "1,234,567" (the page's locale). */
export const formatCount = (n: number): string => n.toLocaleString();

export const formatPercent = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(part / whole < 0.1 ? 1 : 0)} %` : '–');

const CODECS: [RegExp, string][] = [
  [/^avc[13]\./, 'H.264'],
  [/^(hvc1|hev1)\./, 'H.265'],
  [/^vp0?8/, 'VP8'],
  [/^vp09\./, 'VP9'],
  [/^av01\./, 'AV1'],
  [/^mp4a\.40\.(2|5|29)/, 'AAC'],
  [/^mp4a\.6b|^mp3/, 'MP3'],
  [/^opus$/i, 'Opus'],
  [/^vorbis$/i, 'Vorbis'],
  [/^flac$/i, 'FLAC'],
];

/** "avc1.64001e" → "H.264"; an unknown codec string is shown as it is. */
export function codecName(codec: string): string {
  for (const [re, name] of CODECS) if (re.test(codec)) return name;
  return codec;
}

/** The first 8 characters of a GUID, for labels; the whole one goes in titles and aria labels. */
export const shortId = (id: string | undefined): string => (id ? id.slice(0, 8) : '?');

/** Epoch ms → "2026-11-22 07:06:49" (local time). */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "1 track" / "2 tracks". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${formatCount(n)} ${n === 1 ? one : many}`;
