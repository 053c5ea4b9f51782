// RTP payload formats for stored media tracks: which codecs the RTSP gateway can send, built from the
// track's codec configuration in the media metadata.
import { MediaError } from '../errors.ts';
import type { MediaTrack } from '../metadata.ts';
import type { Result } from '../../stu/errors.ts';
import { AacFormat, parseAudioSpecificConfig } from './aac.ts';
import { H264Format, parseAvcC } from './h264.ts';
import { H265Format, parseHvcC } from './h265.ts';
import { MpaFormat } from './mpa.ts';
import { OpusFormat, parseOpusHead } from './opus.ts';
import type { PayloadFormat } from './types.ts';

export type { PayloadFormat, RtpPayload } from './types.ts';
export { DEFAULT_MAX_PAYLOAD, MAX_RTP_PACKET, RTP_HEADER_SIZE } from './types.ts';

const no = (why: string): Result<never, MediaError> => ({ ok: false, error: new MediaError('UNSUPPORTED', why) });

/** The RTP payload format of a track, or UNSUPPORTED with the reason. */
export function payloadFormat(track: Pick<MediaTrack, 'index' | 'codec' | 'config' | 'sampleRate' | 'channels'>): Result<PayloadFormat, MediaError> {
  const codec = track.codec;
  const cfg = track.config;
  const where = `track ${track.index} (${codec})`;
  if (/^avc[13]\./.test(codec)) {
    const c = cfg?.format === 'avcC' ? parseAvcC(cfg.data) : undefined;
    return c ? { ok: true, value: new H264Format(c) } : no(`${where}: no usable avcC configuration`);
  }
  if (/^(hvc1|hev1)\./.test(codec)) {
    const c = cfg?.format === 'hvcC' ? parseHvcC(cfg.data) : undefined;
    return c ? { ok: true, value: new H265Format(c) } : no(`${where}: no usable hvcC configuration`);
  }
  if (/^mp4a\.40\.\d+$/.test(codec)) {
    const asc = cfg?.format === 'AudioSpecificConfig' ? parseAudioSpecificConfig(cfg.data) : undefined;
    if (!asc || !cfg) return no(`${where}: no usable AudioSpecificConfig`);
    // Channels as the decoder will see them (the MP4 sample entry often says 2 for mono); 0 means a PCE.
    return { ok: true, value: new AacFormat(cfg.data, track.sampleRate || asc.sampleRate, asc.channels || track.channels || 2) };
  }
  if (codec === 'opus') {
    const head = cfg?.format === 'OpusHead' ? parseOpusHead(cfg.data) : undefined;
    const channels = head?.channels ?? track.channels ?? 2;
    if (channels > 2 || (head && head.mappingFamily !== 0)) return no(`${where}: RFC 7587 carries mono and stereo Opus only`);
    return { ok: true, value: new OpusFormat(channels === 2) };
  }
  if (codec === 'mp3' || codec === 'mp4a.6B' || codec === 'mp4a.69') return { ok: true, value: new MpaFormat() };
  return no(`${where}: no RTP payload format here (H.264, H.265, AAC, Opus and MP3 are sent)`);
}
