// What a gateway needs to play a playlist or a channel: clips in order, and when the channel started.
// Built from the PLAYLIST and CHANNEL business objects (shared/media/playlist.ts, channel.ts); consumed by
// the HLS and RTSP gateways, which do not read those objects themselves.
import type { Guid } from '../stu/guid.ts';

/** A stretch of one media object: [startMs, endMs) of its timeline. */
export interface Clip {
  media: Guid;
  startMs: number;
  endMs: number;
}

export interface ChannelSchedule {
  name: string;
  /** Live: everyone sees the same moment, position = (now - startedAt) mod total length. On demand: each
   *  viewer starts at the beginning. */
  live: boolean;
  /** Epoch milliseconds the live schedule started at. */
  startedAt: number;
  /** The clips of the channel's playlists, in play order. */
  clips: Clip[];
}

export const scheduleLengthMs = (s: Pick<ChannelSchedule, 'clips'>): number => s.clips.reduce((n, c) => n + Math.max(0, c.endMs - c.startMs), 0);
