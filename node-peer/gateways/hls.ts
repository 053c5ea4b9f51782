// The HLS gateway: fMP4 HLS of every media object and channel, built from stored frames on demand
// (shared/media/segments.ts). URLs, headers and errors in docs/MEDIA.md, "Segments and HLS".
//   /hls/media/<id>/index.m3u8    VOD media playlist       /hls/media/<id>/master.m3u8  one-variant master
//   /hls/media/<id>/init.mp4      init segment             /hls/media/<id>/seg-<n>.m4s  media segment n
//   /hls/channel/<name>/index.m3u8  on demand: one pass as VOD; live: a sliding window at (now - start) mod length
//   /hls/channel/<name>/seg-<g>.m4s  segment g, retimed into channel time; init-<media>.mp4 its init segment
//   /hls/t/<ticket>/…             the same as the ticket's user (shared/api/ticket.ts); without one, anonymous:
//                                 what the caller may not read is 404, as if it did not exist
import type { IncomingMessage, ServerResponse } from 'node:http';
import { silentLogger, type Logger } from '../../shared/log.ts';
import { isMediaError } from '../../shared/media/errors.ts';
import { retimeMoof } from '../../shared/media/fmp4/fragment.ts';
import type { ChannelSchedule } from '../../shared/media/schedule.ts';
import { channelPlaylist, channelSegment, channelTimeline } from '../../shared/media/segments-channel.ts';
import { masterPlaylist, mediaPlaylist } from '../../shared/media/segments-hls.ts';
import { type FrameTimes, type MediaSegment, Segmenter } from '../../shared/media/segments.ts';
import { isGuid } from '../../shared/stu/guid.ts';
import { ANONYMOUS_CALLER } from '../../shared/api/access.ts';
import { AuthError } from '../../shared/api/token.ts';
import { splitTicketPath } from '../../shared/api/ticket.ts';
import type { DoorCaller, Doors } from '../api/doors.ts';
import type { Route } from '../http/server.ts';
import type { MediaSource } from '../media/frames.ts';
import { CACHE, sendHlsError, sendParts, sendPlaylist } from './hls-http.ts';

export interface HlsOptions {
  /** The schedule of channel `name`, undefined when there is no such channel. */
  schedules: (name: string) => ChannelSchedule | undefined;
  /** Target segment duration, seconds. Default 2. */
  target?: number;
  /** Bytes of built segments kept in memory. Default 128 MiB. */
  cacheBytes?: number;
  /** Frame timing without reading frames (the node's time index), so planning reads no frame bytes. */
  frameTimes?: FrameTimes;
  /** Segments in a live channel's playlist. Default 6. */
  liveWindow?: number;
  /** Clock, epoch milliseconds (tests). */
  now?: () => number;
  log?: Logger;
  /** Share a segmenter (tests, benchmarks); otherwise one is made from the options above. */
  segmenter?: Segmenter;
  /** Who may play what (node-peer/api/doors.ts); without it, everything is served. */
  doors?: Doors;
}

const SEGMENT = /^seg-(0|[1-9]\d{0,15})\.m4s$/;
const CHANNEL_INIT = /^init-([0-9a-f-]{36})\.mp4$/;
const MAX_NAME = 256;

export function hlsRoutes(source: MediaSource, opts: HlsOptions): Route[] {
  const seg = opts.segmenter ?? new Segmenter(source, { target: opts.target, cacheBytes: opts.cacheBytes, frameTimes: opts.frameTimes });
  const log = opts.log ?? silentLogger;
  const now = opts.now ?? Date.now;
  // Live playlists are fetched every few seconds by every viewer: say each problem once.
  const warned = new Set<string>();
  const warnOnce = (key: string, msg: string, fields: Record<string, unknown>): void => {
    if (warned.has(key)) return;
    if (warned.size >= 1000) warned.clear();
    warned.add(key);
    log.warn(msg, fields);
  };

  const fail = (res: ServerResponse, e: unknown, what: string): void => {
    if (e instanceof RangeError) return sendHlsError(res, 404, e.message);
    if (e instanceof Error && (e as { code?: string }).code === 'MEDIA_UNAVAILABLE') {
      return sendHlsError(res, 504, `${what}: ${e.message}`, { gaps: (e as { gaps?: unknown }).gaps ?? [] });
    }
    if (isMediaError(e) && e.code === 'UNSUPPORTED') return sendHlsError(res, 415, e.message);
    log.error('hls request failed', { what, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    sendHlsError(res, 500, `${what}: ${e instanceof Error ? e.message : String(e)}`);
  };

  const doors = opts.doors;
  const media = async (req: IncomingMessage, res: ServerResponse, url: URL, caller: DoorCaller): Promise<void> => {
    const parts = url.pathname.slice('/hls/media/'.length).split('/');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return sendHlsError(res, 404, `no such HLS resource: ${url.pathname} (expected /hls/media/<id>/index.m3u8)`);
    const [id, file] = parts;
    if (!isGuid(id)) return sendHlsError(res, 400, `bad media id "${String(id).slice(0, 64)}": expected a GUID`);
    if (!source.metadata(id) || (doors && !doors.media(caller, id))) return sendHlsError(res, 404, `no media ${id}`);
    try {
      if (file === 'index.m3u8') return sendPlaylist(req, res, mediaPlaylist(await seg.plan(id)), CACHE.playlist);
      if (file === 'master.m3u8') return sendPlaylist(req, res, masterPlaylist(await seg.plan(id)), CACHE.playlist);
      if (file === 'init.mp4') return void sendParts(req, res, [await seg.init(id)], { 'content-type': await mime(id), 'cache-control': CACHE.immutable });
      const m = SEGMENT.exec(file);
      if (!m) return sendHlsError(res, 404, `no such HLS resource: ${file} (have index.m3u8, master.m3u8, init.mp4, seg-<n>.m4s)`);
      const plan = await seg.plan(id);
      const n = Number(m[1]);
      if (n >= plan.count) return sendHlsError(res, 404, `media ${id} has segments 0-${plan.count - 1}, not ${m[1]}`);
      const s = await seg.segment(id, n);
      const sent = sendParts(req, res, [s.bytes], { 'content-type': await mime(id), 'cache-control': CACHE.immutable });
      played(req, sent, s, { media: id });
    } catch (e) {
      fail(res, e, `media ${id} ${file}`);
    }
  };

  const channel = async (req: IncomingMessage, res: ServerResponse, url: URL, caller: DoorCaller): Promise<void> => {
    const parts = url.pathname.slice('/hls/channel/'.length).split('/');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return sendHlsError(res, 404, `no such HLS resource: ${url.pathname} (expected /hls/channel/<name>/index.m3u8)`);
    let name: string;
    try {
      name = decodeURIComponent(parts[0]);
    } catch {
      return sendHlsError(res, 400, 'bad channel name: malformed percent-encoding');
    }
    if (name.length > MAX_NAME) return sendHlsError(res, 400, `bad channel name: longer than ${MAX_NAME} characters`);
    const file = parts[1];
    const schedule = doors && !doors.channel(caller, name) ? undefined : opts.schedules(name);
    if (!schedule) return sendHlsError(res, 404, `no channel ${JSON.stringify(name)}`);
    try {
      const tl = await channelTimeline(schedule, seg);
      for (const s of tl.skipped) warnOnce(`${name}\0${s.clip}\0${s.reason}`, 'channel clip skipped', { channel: name, ...s });
      if (tl.entries.length === 0) return sendHlsError(res, 404, `channel ${JSON.stringify(name)} has nothing playable${tl.skipped.length ? ` (${tl.skipped.map((s) => s.reason).join('; ')})` : ''}`);
      if (file === 'index.m3u8') {
        const text = channelPlaylist(tl, { now: now(), window: opts.liveWindow });
        if (text === undefined) {
          res.setHeader('retry-after', String(Math.max(1, Math.ceil((tl.startedAt - now()) / 1000))));
          return sendHlsError(res, 503, `channel ${JSON.stringify(name)} starts at ${new Date(tl.startedAt).toISOString()}`);
        }
        return sendPlaylist(req, res, text, CACHE.none);
      }
      const init = CHANNEL_INIT.exec(file);
      if (init) {
        if (!tl.entries.some((e) => e.map === init[1])) return sendHlsError(res, 404, `channel ${JSON.stringify(name)} has no init segment for ${init[1]}`);
        return void sendParts(req, res, [await seg.init(init[1])], { 'content-type': await mime(init[1]), 'cache-control': CACHE.short });
      }
      const m = SEGMENT.exec(file);
      if (!m) return sendHlsError(res, 404, `no such HLS resource: ${file} (have index.m3u8, init-<media>.mp4, seg-<n>.m4s)`);
      const r = channelSegment(tl, Number(m[1]));
      if (!r) return sendHlsError(res, 404, `channel ${JSON.stringify(name)} has no segment ${m[1]}${tl.live ? '' : ` (on demand: 0-${tl.entries.length - 1})`}`);
      const s = await seg.segment(r.entry.media, r.entry.index, { inband: true });
      const moof = retimeMoof(
        s,
        s.timescales.map((ts) => Math.round(r.delta * ts)),
        Number(m[1]) + 1,
      );
      const sent = sendParts(req, res, [moof, s.bytes.subarray(s.moofSize)], { 'content-type': await mime(r.entry.media), 'cache-control': CACHE.short });
      played(req, sent, s, { media: r.entry.media, channel: name });
    } catch (e) {
      fail(res, e, `channel ${JSON.stringify(name)} ${file}`);
    }
  };

  const mime = async (id: string): Promise<string> => ((await seg.plan(id)).tracks.some((t) => t.track.kind === 'video') ? 'video/mp4' : 'audio/mp4');

  /** Usage: one play per media segment served from its first byte (GET, a whole body or a range starting at 0). */
  const played = (req: IncomingMessage, sent: { status: number; start: number }, s: MediaSegment, who: { media: string; channel?: string }): void => {
    if (req.method !== 'GET' || sent.status >= 300 || sent.start !== 0) return;
    source.recordPlay({ gateway: 'hls', ...who, startMs: Math.round(s.start * 1000), durationMs: Math.round(s.duration * 1000), client: req.socket.remoteAddress });
  };

  /** /hls/t/<ticket>/media/… and /hls/t/<ticket>/channel/…: relative URLs in the playlists keep the ticket. */
  const ticketed = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const { ticket, path } = splitTicketPath(url.pathname.slice('/hls'.length));
    const handler = path.startsWith('/media/') ? media : path.startsWith('/channel/') ? channel : undefined;
    if (!ticket || !handler) return sendHlsError(res, 404, `no such HLS resource: ${url.pathname} (expected /hls/t/<ticket>/media/<id>/index.m3u8)`);
    let caller: DoorCaller = ANONYMOUS_CALLER;
    try {
      if (doors) caller = await doors.caller(ticket);
    } catch (e) {
      if (e instanceof AuthError) return sendHlsError(res, 401, e.message);
      throw e;
    }
    return handler(req, res, new URL(`/hls${path}`, url), caller);
  };

  return [
    { method: 'GET', path: '/hls/media/', handler: (req, res, url) => media(req, res, url, ANONYMOUS_CALLER) },
    { method: 'GET', path: '/hls/channel/', handler: (req, res, url) => channel(req, res, url, ANONYMOUS_CALLER) },
    { method: 'GET', path: '/hls/t/', handler: ticketed },
  ];
}
