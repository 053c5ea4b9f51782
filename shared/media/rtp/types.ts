// What an RTP payload format is to the RTSP gateway: the SDP rtpmap/fmtp of a track, and a packetizer that
// cuts one stored frame into RTP payloads. The RTP header itself (sequence number, SSRC, timestamp) is the
// sender's; every payload of one frame carries the frame's timestamp.

/** One RTP payload of a frame. */
export interface RtpPayload {
  payload: Uint8Array;
  /** The RTP marker bit (RFC 3550 §5.1; its meaning is the payload format's). */
  marker: boolean;
}

export interface PayloadFormat {
  readonly kind: 'video' | 'audio';
  /** rtpmap encoding name: H264, H265, MPEG4-GENERIC, opus, MPA. */
  readonly encoding: string;
  /** RTP clock, ticks per second. */
  readonly clockRate: number;
  /** rtpmap encoding parameters (audio channels), if any. */
  readonly channels?: number;
  /** A static payload type (RFC 3551), when the format has one; dynamic (96+) otherwise. */
  readonly staticPayloadType?: number;
  /** The fmtp parameters (the text after "a=fmtp:PT "), if any. */
  readonly fmtp?: string;
  /**
   * Cuts one stored frame into payloads of at most `maxPayload` bytes (views into `frame` where possible).
   * Never throws on bad frame bytes: what cannot be parsed is left out.
   */
  packetize(frame: Uint8Array, key: boolean, maxPayload: number): RtpPayload[];
}

/** RTP packets of at most 1400 bytes (12-byte header + payload): under any Ethernet or tunnel MTU. */
export const MAX_RTP_PACKET = 1400;
export const RTP_HEADER_SIZE = 12;
export const DEFAULT_MAX_PAYLOAD = MAX_RTP_PACKET - RTP_HEADER_SIZE;
