// The session description a DESCRIBE answers with (RFC 4566, with the RTSP conventions of RFC 2326 Appendix
// C): one m= section per stream with its rtpmap, fmtp and control URL, an aggregate control "*", and the
// playable range.
import type { PayloadFormat } from './types.ts';

export interface SdpStream {
  format: Pick<PayloadFormat, 'kind' | 'encoding' | 'clockRate' | 'channels' | 'fmtp'>;
  payloadType: number;
  /** Control URL of the stream, relative to the Content-Base (e.g. "trackID=0"). */
  control: string;
}

export interface SdpSession {
  /** Numeric session id and version for the o= line. */
  id: string;
  version: string;
  /** The server's address for o= (IPv4 or IPv6). */
  address: string;
  /** s=: the title. */
  name: string;
  /** a=range: "npt=0-12.5", "npt=now-". */
  range?: string;
  tool?: string;
  streams: SdpStream[];
}

/** Text safe inside one SDP line: no control characters (CR/LF would start a new line). */
// eslint-disable-next-line no-control-regex
const lineSafe = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();

export function buildSdp(s: SdpSession): string {
  const v6 = s.address.includes(':');
  const lines = [
    'v=0',
    `o=- ${s.id} ${s.version} IN ${v6 ? 'IP6' : 'IP4'} ${s.address}`,
    `s=${lineSafe(s.name).slice(0, 256) || ' '}`,
    `c=IN ${v6 ? 'IP6 ::' : 'IP4 0.0.0.0'}`,
    't=0 0',
  ];
  if (s.tool) lines.push(`a=tool:${lineSafe(s.tool)}`);
  lines.push('a=control:*');
  if (s.range) lines.push(`a=range:${s.range}`);
  for (const st of s.streams) {
    const f = st.format;
    lines.push(`m=${f.kind} 0 RTP/AVP ${st.payloadType}`);
    lines.push(`a=rtpmap:${st.payloadType} ${f.encoding}/${f.clockRate}${f.channels ? `/${f.channels}` : ''}`);
    if (f.fmtp) lines.push(`a=fmtp:${st.payloadType} ${f.fmtp}`);
    lines.push(`a=control:${st.control}`);
  }
  return lines.join('\r\n') + '\r\n';
}
