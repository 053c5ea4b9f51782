// The frame fields of a FRAME data STU, kept in the header's 128-byte type-specific area (`ext`, header
// bytes 104..231). All times are in the track's own timescale; layout (little-endian) in docs/MEDIA.md.
import { EXT_SIZE, isData, type StuHeader } from '../stu/header.ts';
import type { Result } from '../stu/errors.ts';
import { MediaError } from './errors.ts';
import { FRAME } from './stu-types.ts';

export const FRAME_EXT_VERSION = 1;

/** Byte offsets inside the 128-byte ext area. Add 104 (Off.ext) for offsets inside the STU header. */
export const FrameOff = {
  version: 0, // u8, FRAME_EXT_VERSION
  flags: 1, // u8, FrameFlag bits
  stream: 2, // u16, stream (track) index inside the media object
  timescale: 4, // u32, ticks per second, > 0
  dts: 8, // i64, decode time
  pts: 16, // i64, presentation time
  duration: 24, // u32, next frame's dts minus this one's (the last frame: its container duration)
  sample: 28, // u32, sample number: 0, 1, 2, ... in decode order inside the stream
  reserved: 32, // 96 bytes of zero
} as const;

export const FrameFlag = {
  /** A key frame (sync sample): decoding can start here. Every audio frame of our codecs is one. */
  KEY: 1,
} as const;
const KNOWN_FLAGS = FrameFlag.KEY;

export interface FrameFields {
  stream: number;
  timescale: number;
  dts: number;
  pts: number;
  duration: number;
  key: boolean;
  sample: number;
}

const U32 = 0xffff_ffff;

/** Encodes frame fields into a new (or the given) 128-byte ext area. Throws TypeError on caller mistakes. */
export function encodeFrameExt(f: FrameFields, out: Uint8Array = new Uint8Array(EXT_SIZE)): Uint8Array {
  if (out.length < EXT_SIZE) throw new TypeError('ext area is 128 bytes');
  if (!Number.isInteger(f.stream) || f.stream < 0 || f.stream > 0xffff) throw new TypeError(`bad stream index ${f.stream}`);
  if (!Number.isInteger(f.timescale) || f.timescale < 1 || f.timescale > U32) throw new TypeError(`bad timescale ${f.timescale}`);
  if (!Number.isSafeInteger(f.dts) || !Number.isSafeInteger(f.pts)) throw new TypeError('decode and presentation times must be safe integers');
  if (!Number.isInteger(f.duration) || f.duration < 0 || f.duration > U32) throw new TypeError(`bad duration ${f.duration}`);
  if (!Number.isInteger(f.sample) || f.sample < 0 || f.sample > U32) throw new TypeError(`bad sample number ${f.sample}`);
  out.fill(0, 0, EXT_SIZE);
  const v = new DataView(out.buffer, out.byteOffset, EXT_SIZE);
  v.setUint8(FrameOff.version, FRAME_EXT_VERSION);
  v.setUint8(FrameOff.flags, f.key ? FrameFlag.KEY : 0);
  v.setUint16(FrameOff.stream, f.stream, true);
  v.setUint32(FrameOff.timescale, f.timescale, true);
  v.setBigInt64(FrameOff.dts, BigInt(f.dts), true);
  v.setBigInt64(FrameOff.pts, BigInt(f.pts), true);
  v.setUint32(FrameOff.duration, f.duration, true);
  v.setUint32(FrameOff.sample, f.sample, true);
  return out;
}

const badFrame = (msg: string): Result<never, MediaError> => ({ ok: false, error: new MediaError('BAD_FRAME', msg) });
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Decodes the frame fields of an ext area (untrusted: every failure is a BAD_FRAME error, never a throw). */
export function decodeFrameExt(ext: Uint8Array): Result<FrameFields, MediaError> {
  if (!(ext instanceof Uint8Array) || ext.length < EXT_SIZE) return badFrame('ext area shorter than 128 bytes');
  const v = new DataView(ext.buffer, ext.byteOffset, EXT_SIZE);
  const version = v.getUint8(FrameOff.version);
  if (version !== FRAME_EXT_VERSION) return badFrame(`frame layout version ${version}, this build reads ${FRAME_EXT_VERSION}`);
  const flags = v.getUint8(FrameOff.flags);
  if ((flags & ~KNOWN_FLAGS) !== 0) return badFrame(`unknown frame flags 0x${flags.toString(16)}`);
  const timescale = v.getUint32(FrameOff.timescale, true);
  if (timescale === 0) return badFrame('timescale is zero');
  const dts = v.getBigInt64(FrameOff.dts, true);
  const pts = v.getBigInt64(FrameOff.pts, true);
  if (dts > MAX || dts < -MAX || pts > MAX || pts < -MAX) return badFrame('time out of the safe integer range');
  for (let i = FrameOff.reserved; i < EXT_SIZE; i++) if (ext[i] !== 0) return badFrame('reserved frame bytes are not zero');
  return {
    ok: true,
    value: {
      stream: v.getUint16(FrameOff.stream, true),
      timescale,
      dts: Number(dts),
      pts: Number(pts),
      duration: v.getUint32(FrameOff.duration, true),
      key: (flags & FrameFlag.KEY) !== 0,
      sample: v.getUint32(FrameOff.sample, true),
    },
  };
}

/** True for a media frame STU (data flag and FRAME type). */
export const isFrameHeader = (h: Pick<StuHeader, 'flags' | 'type'>): boolean => h.type === FRAME && isData(h as StuHeader);
