// Picks a demuxer from the first bytes of a file, and names what we recognise but do not ingest.
import type { ChunkReader } from '../byte-source.ts';
import { notMedia, unsupported } from '../errors.ts';
import { fourcc } from './boxes.ts';
import { openMatroska } from './mkv.ts';
import { openMp4 } from './mp4.ts';
import type { Demuxer } from './types.ts';

export interface DemuxLimits {
  maxFrame: number;
  maxMoov: number;
}

/** Box types that can open an ISO BMFF / QuickTime file. */
const FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'styp', 'sidx', 'junk', 'pdin']);

export type Sniffed = 'mp4' | 'matroska';

/** Names the container from up to 16 leading bytes; throws NOT_MEDIA or UNSUPPORTED otherwise. */
export function sniff(head: Uint8Array, fileSize: number): Sniffed {
  if (fileSize < 8 || head.length < 8) throw notMedia(`${fileSize} bytes`);
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'matroska';
  const size = new DataView(head.buffer, head.byteOffset, head.length).getUint32(0);
  const type = fourcc(head, 4);
  if (FIRST_BOXES.has(type) && (size === 0 || size === 1 || size >= 8)) return 'mp4';
  const ascii = (s: string, at = 0) => s.split('').every((c, i) => head[at + i] === c.charCodeAt(0));
  if (ascii('RIFF')) throw unsupported(`RIFF container (${fourcc(head, 8).trim()}: AVI or WAV)`);
  if (ascii('OggS')) throw unsupported('Ogg container');
  if (ascii('FLV')) throw unsupported('FLV container');
  if (ascii('ID3') || (head[0] === 0xff && (head[1] & 0xe0) === 0xe0)) throw unsupported('MPEG audio elementary stream (MP3/AAC without a container)');
  if (head[0] === 0x47 && fileSize >= 376) throw unsupported('MPEG transport stream');
  if (head[0] === 0x30 && head[1] === 0x26 && head[2] === 0xb2 && head[3] === 0x75) throw unsupported('ASF container (WMV/WMA)');
  if (head[0] === 0 && head[1] === 0 && head[2] === 1 && head[3] === 0xba) throw unsupported('MPEG program stream');
  throw notMedia('unknown signature');
}

export async function openDemuxer(reader: ChunkReader, limits: DemuxLimits): Promise<Demuxer> {
  const head = reader.size >= 8 ? await reader.bytes(0, Math.min(16, reader.size), 'file signature') : new Uint8Array(0);
  const kind = sniff(head, reader.size);
  return kind === 'matroska' ? openMatroska(reader, limits) : openMp4(reader, limits);
}
