// What a demuxer hands to ingest: tracks with their codec configuration, then frames in file order.

export type TrackKind = 'video' | 'audio';

/**
 * How the codec configuration bytes are laid out:
 * avcC/hvcC/vpcC/av1C/dfLa: the MP4 box payload (everything after the 8-byte box header);
 * AudioSpecificConfig: the AAC DecoderSpecificInfo; OpusHead: the Ogg/Matroska Opus header;
 * xiph: Vorbis identification, comment and setup headers, Xiph-laced (Matroska CodecPrivate, WebCodecs);
 * flac: "fLaC" and metadata blocks (Matroska CodecPrivate); CodecPrivate: any other Matroska CodecPrivate.
 */
export type ConfigFormat =
  | 'avcC'
  | 'hvcC'
  | 'vpcC'
  | 'av1C'
  | 'AudioSpecificConfig'
  | 'OpusHead'
  | 'xiph'
  | 'dfLa'
  | 'flac'
  | 'CodecPrivate';

export const CONFIG_FORMATS: readonly ConfigFormat[] = [
  'avcC',
  'hvcC',
  'vpcC',
  'av1C',
  'AudioSpecificConfig',
  'OpusHead',
  'xiph',
  'dfLa',
  'flac',
  'CodecPrivate',
];

export interface CodecConfig {
  format: ConfigFormat;
  data: Uint8Array;
}

export interface DemuxTrack {
  /** Stream index inside the media object: position among the audio and video tracks, in container order. */
  index: number;
  kind: TrackKind;
  /** RFC 6381 codec string (avc1.64001f, mp4a.40.2, opus, vp09.00.10.08, av01.0.04M.08, ...). */
  codec: string;
  /** Ticks per second of every time of this track. */
  timescale: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  language?: string;
  config?: CodecConfig;
  /** False when the container stores presentation times only (Matroska): decode times are derived. */
  hasDts: boolean;
  /** The container's own id of the track (MP4 track_ID, Matroska TrackNumber). */
  sourceId: number;
}

/** One frame as the container gives it; the timeline turns it into stored frame fields. */
export interface RawFrame {
  /** Stream index (DemuxTrack.index). */
  track: number;
  /** Decode time in ticks; undefined when the container has none (hasDts false). */
  dts?: number;
  /** Presentation time in ticks, with the container's own shifts applied (edit list, codec delay). */
  pts: number;
  /** Duration in ticks when the container says. */
  duration?: number;
  key: boolean;
  /** The sample bytes; may be a view into a read buffer, valid until copied into an STU. */
  data: Uint8Array;
}

export type ContainerName = 'mp4' | 'mov' | 'webm' | 'matroska';

export interface Demuxer {
  readonly container: ContainerName;
  readonly tracks: DemuxTrack[];
  /**
   * The first presentation time of each track when the container knows it up front (MP4 sample tables);
   * lets the timeline rebase without buffering.
   */
  readonly startPts?: ReadonlyMap<number, number>;
  /** Every frame of every track, in file order (each track's frames in decode order). */
  frames(): AsyncGenerator<RawFrame, void, void>;
}
