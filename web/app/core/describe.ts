// What the app shows of a business object: its application (the canvas groups and the lists), a title, a
// glance (the summary mode) and the fields of the detail mode. The state's shape is checked as it is read:
// an object whose application changed its state, or a type nobody here knows, still shows what can be read
// (id, type, whatever title it has), never breaks the page.
import { CHANNEL, MEDIA_META, mediaStuTypeName, PLAYLIST, USAGE } from '../../../shared/media/stu-types.ts';
import type { BusinessObject } from '../../../shared/state/types.ts';
import { codecName, formatBytes, formatDuration, formatMs, formatTime, plural } from './format.ts';

export type AppId = 'media' | 'playlists' | 'channels' | 'usage' | 'other';

/** The canvas's groups and the order they are laid out in. */
export const APPS: readonly { id: AppId; label: string }[] = [
  { id: 'media', label: 'Media' },
  { id: 'playlists', label: 'Playlists' },
  { id: 'channels', label: 'Channels' },
  { id: 'usage', label: 'Usage' },
  { id: 'other', label: 'Other' },
];

export interface TrackView {
  index: number;
  kind: string;
  codec: string;
  /** "1280×720", "48 kHz stereo", "" */
  format: string;
  frames: number | undefined;
  language: string | undefined;
}

export interface MediaView {
  duration: number | undefined;
  container: string | undefined;
  size: number | undefined;
  frames: number | undefined;
  bytes: number | undefined;
  tracks: TrackView[];
}

export interface ClipView {
  clip: string;
  media: string;
  title: string;
  startMs: number;
  endMs: number | undefined;
  /** Known when the media (and so its duration) is known here. */
  durationMs: number | undefined;
  missing: boolean;
}

export interface PlaylistView {
  clips: ClipView[];
  /** The sum of the clips' durations; undefined when one of them is not known. */
  durationMs: number | undefined;
}

export interface ChannelView {
  name: string;
  mode: string;
  startMs: number | undefined;
  playlists: { id: string; title: string | undefined }[];
}

export interface UsageView {
  scope: string;
  plays: number;
  durationMs: number;
  first: number | undefined;
  last: number | undefined;
  gateways: { name: string; plays: number; durationMs: number }[];
  media: number;
  servers: number;
}

export interface ObjectView {
  /** `${type}:${id}`: one object GUID may carry chains of several types. */
  key: string;
  id: string;
  type: number;
  app: AppId;
  /** "media", "playlist", "channel", "usage", or the type in hex. */
  kind: string;
  title: string;
  /** The summary mode's few facts: "0:20", "2 tracks", "611 KiB". */
  glance: string[];
  /** Changes whenever a new STU is applied (the chain's latest timestamp). */
  version: string;
  /** Detail-mode fields common to every object. */
  fields: { label: string; value: string }[];
  media?: MediaView;
  playlist?: PlaylistView;
  channel?: ChannelView;
  usage?: UsageView;
}

/** What describing one object may need to know about the others (titles and durations of media). */
export interface Lookup {
  media(id: string): ObjectView | undefined;
  playlist(id: string): ObjectView | undefined;
}

const NONE: Lookup = { media: () => undefined, playlist: () => undefined };

export const objectKey = (o: { id: string; type: number }): string => `${o.type}:${o.id}`;

export function appOf(type: number): AppId {
  switch (type) {
    case MEDIA_META:
      return 'media';
    case PLAYLIST:
      return 'playlists';
    case CHANNEL:
      return 'channels';
    case USAGE:
      return 'usage';
    default:
      return 'other';
  }
}

export function kindOf(type: number): string {
  switch (type) {
    case MEDIA_META:
      return 'media';
    case PLAYLIST:
      return 'playlist';
    case CHANNEL:
      return 'channel';
    case USAGE:
      return 'usage';
    default:
      return mediaStuTypeName(type)?.toLowerCase() ?? `0x${type.toString(16).padStart(4, '0')}`;
  }
}

// ------------------------------------------------------------------------------------- shape checks

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

// ------------------------------------------------------------------------------------------ describe

export function describe(o: BusinessObject, lookup: Lookup = NONE): ObjectView {
  const s = isRec(o.state) ? o.state : {};
  const app = appOf(o.type);
  const view: ObjectView = {
    key: objectKey(o),
    id: o.id,
    type: o.type,
    app,
    kind: kindOf(o.type),
    title: str(s.title)?.trim() || str(s.name) || '',
    glance: [],
    version: String(o.ts),
    fields: [
      { label: 'id', value: o.id },
      { label: 'STU type', value: `0x${o.type.toString(16).padStart(4, '0')}` },
      { label: 'owner', value: o.owner },
    ],
  };
  switch (app) {
    case 'media':
      describeMedia(view, s);
      break;
    case 'playlists':
      describePlaylist(view, s, lookup);
      break;
    case 'channels':
      describeChannel(view, s, lookup);
      break;
    case 'usage':
      describeUsage(view, s, lookup);
      break;
    case 'other':
      view.glance = [view.kind];
      break;
  }
  if (!view.title) view.title = `${view.kind} ${o.id.slice(0, 8)}`;
  return view;
}

function trackFormat(t: Rec): string {
  const w = num(t.width);
  const h = num(t.height);
  if (w && h) return `${w}×${h}`;
  const rate = num(t.sampleRate);
  const ch = num(t.channels);
  const parts = [rate ? `${rate / 1000} kHz` : '', ch === 1 ? 'mono' : ch === 2 ? 'stereo' : ch ? `${ch} ch` : ''];
  return parts.filter(Boolean).join(' ');
}

function describeMedia(v: ObjectView, s: Rec): void {
  const tracks: TrackView[] = arr(s.tracks)
    .filter(isRec)
    .map((t, i) => ({
      index: num(t.index) ?? i,
      kind: str(t.kind) ?? 'track',
      codec: str(t.codec) ?? '?',
      format: trackFormat(t),
      frames: num(t.frames),
      language: str(t.language),
    }));
  const m: MediaView = { duration: num(s.duration), container: str(s.container), size: num(s.size), frames: num(s.frames), bytes: num(s.bytes), tracks };
  v.media = m;
  const video = tracks.find((t) => t.kind === 'video');
  v.glance = [formatDuration(m.duration), video?.format || plural(tracks.length, 'track'), tracks.map((t) => codecName(t.codec)).join(' + '), formatBytes(m.size)].filter((x) => x && x !== '–');
  if (m.frames !== undefined) v.fields.push({ label: 'frames', value: `${m.frames.toLocaleString()} (${formatBytes(m.bytes)})` });
}

function describePlaylist(v: ObjectView, s: Rec, lookup: Lookup): void {
  const clips: ClipView[] = arr(s.clips)
    .filter(isRec)
    .map((c, i) => {
      const media = str(c.media) ?? '';
      const m = media ? lookup.media(media) : undefined;
      const startMs = num(c.startMs) ?? 0;
      const endMs = num(c.endMs);
      const mediaMs = m?.media?.duration === undefined ? undefined : m.media.duration * 1000;
      const end = endMs ?? mediaMs;
      return {
        clip: str(c.clip) ?? String(i),
        media,
        title: str(c.title) || m?.title || media.slice(0, 8),
        startMs,
        endMs,
        durationMs: end === undefined ? undefined : Math.max(0, end - startMs),
        missing: m === undefined,
      };
    });
  const known = clips.every((c) => c.durationMs !== undefined);
  const p: PlaylistView = { clips, durationMs: known ? clips.reduce((t, c) => t + (c.durationMs ?? 0), 0) : undefined };
  v.playlist = p;
  v.glance = [plural(clips.length, 'clip'), p.durationMs === undefined ? '' : formatMs(p.durationMs)].filter(Boolean);
  if (p.durationMs === undefined) v.fields.push({ label: 'duration', value: 'not known here' });
}

function describeChannel(v: ObjectView, s: Rec, lookup: Lookup): void {
  const c: ChannelView = {
    name: str(s.name) ?? '',
    mode: str(s.mode) ?? '?',
    startMs: num(s.startMs),
    playlists: arr(s.playlists)
      .map(str)
      .filter((x): x is string => x !== undefined)
      .map((id) => ({ id, title: lookup.playlist(id)?.title })),
  };
  v.channel = c;
  if (!str(s.title) && c.name) v.title = c.name;
  v.glance = [c.name && c.name !== v.title ? c.name : '', c.mode === 'on-demand' ? 'on demand' : c.mode, plural(c.playlists.length, 'playlist')].filter(Boolean);
  v.fields.push({ label: 'name', value: c.name });
}

function describeUsage(v: ObjectView, s: Rec, lookup: Lookup): void {
  const totals = (r: unknown) => (isRec(r) ? Object.keys(r).length : 0);
  const gateways = isRec(s.gateways)
    ? Object.entries(s.gateways).map(([name, t]) => ({ name, plays: (isRec(t) && num(t.plays)) || 0, durationMs: (isRec(t) && num(t.durationMs)) || 0 }))
    : [];
  const u: UsageView = {
    scope: str(s.scope) ?? '?',
    plays: num(s.plays) ?? 0,
    durationMs: num(s.durationMs) ?? 0,
    first: num(s.first),
    last: num(s.last),
    gateways,
    media: totals(s.media),
    servers: totals(s.servers),
  };
  v.usage = u;
  // a media's plays are in a chain of the media's own GUID; a server's in a chain of the server's GUID
  v.title = u.scope === 'server' ? `Plays seen by server ${v.id.slice(0, 8)}` : `Plays of ${lookup.media(v.id)?.title ?? `media ${v.id.slice(0, 8)}`}`;
  v.glance = [plural(u.plays, 'play'), formatMs(u.durationMs), u.scope === 'media' ? '' : plural(u.media, 'media', 'media')].filter(Boolean);
  v.fields.push({ label: 'scope', value: u.scope });
  if (u.first !== undefined) v.fields.push({ label: 'first play', value: formatTime(u.first) });
  if (u.last !== undefined) v.fields.push({ label: 'last play', value: formatTime(u.last) });
}

/** One sentence for screen readers: "Media: Big Buck Bunny. 9:56, 1280×720, H.264 + AAC, 151 MiB". */
export function spoken(v: ObjectView): string {
  return `${v.kind[0].toUpperCase()}${v.kind.slice(1)}: ${v.title}. ${v.glance.join(', ')}`;
}
