// STU type numbers of the media application (the `type` field of the STU header). 0x01xx is the media
// application's range; numbers are never reused. See docs/MEDIA.md.

export const MediaStuType = {
  /** Metadata STU: body is an XML command that inserts (or changes) a media object's metadata. */
  MEDIA_META: 0x0100,
  /** Data STU (Flag.DATA): one audio or video frame; frame fields in the type-specific area, body = sample bytes. */
  FRAME: 0x0101,
  /** Reserved: playlist business object (clips: media id, start, end). */
  PLAYLIST: 0x0102,
  /** Reserved: channel business object (live or on demand). */
  CHANNEL: 0x0103,
  /** Reserved: usage reports (what was played, from when, for how long). */
  USAGE: 0x0104,
} as const;

export type MediaStuTypeName = keyof typeof MediaStuType;

export const MEDIA_META = MediaStuType.MEDIA_META;
export const FRAME = MediaStuType.FRAME;
export const PLAYLIST = MediaStuType.PLAYLIST;
export const CHANNEL = MediaStuType.CHANNEL;
export const USAGE = MediaStuType.USAGE;

const NAMES = new Map<number, MediaStuTypeName>(
  Object.entries(MediaStuType).map(([k, v]) => [v, k as MediaStuTypeName]),
);

/** The name of a media STU type, for dumps; undefined for types of other applications. */
export const mediaStuTypeName = (type: number): MediaStuTypeName | undefined => NAMES.get(type);
