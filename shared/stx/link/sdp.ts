// What the WebRTC links read from a session description: the DTLS certificate fingerprint (the admission
// step binds to it), the SCTP max-message-size, and whether it carries a data channel m-line at all. SDPs
// arrive from the network (an HTTP POST), so they are bounded and checked before a WebRTC stack sees them.
import { err } from '../errors.ts';

/** A DTLS certificate fingerprint as written in SDP: `sha-256` and upper-case hex pairs joined by colons. */
export interface Fingerprint {
  algorithm: string;
  value: string;
}

/** Largest SDP accepted from a peer. A data-channel-only description is about 1 KiB. */
export const MAX_SDP_BYTES = 64 * 1024;
/** max-message-size when a description does not say (RFC 8841: 64 KiB). */
export const SDP_DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024;

const FINGERPRINT = /^a=fingerprint:([A-Za-z0-9-]{1,16}) ((?:[0-9A-Fa-f]{2}:){15,63}[0-9A-Fa-f]{2})\s*$/;
const MAX_MESSAGE_SIZE = /^a=max-message-size:(\d{1,15})\s*$/;

const lines = (sdp: string) => sdp.split(/\r?\n/);

/** The first fingerprint of the description, preferring sha-256; undefined when there is none. */
export function parseFingerprint(sdp: string): Fingerprint | undefined {
  let first: Fingerprint | undefined;
  for (const line of lines(sdp)) {
    const m = FINGERPRINT.exec(line);
    if (!m) continue;
    const fp = { algorithm: m[1].toLowerCase(), value: m[2].toUpperCase() };
    if (fp.algorithm === 'sha-256') return fp;
    first ??= fp;
  }
  return first;
}

/** The description's SCTP max-message-size: its value, 0 for "no limit", or 64 KiB when absent. */
export function parseMaxMessageSize(sdp: string): number {
  for (const line of lines(sdp)) {
    const m = MAX_MESSAGE_SIZE.exec(line);
    if (m) return Number(m[1]);
  }
  return SDP_DEFAULT_MAX_MESSAGE_SIZE;
}

/**
 * The description with its max-message-size set to `max` (the line replaced, or added after a=sctp-port).
 * For a stack that cannot be told what to advertise (a browser): only the copy handed to the peer changes,
 * so the peer sends no more than `max`, which must not exceed what the stack itself advertised.
 */
export function withMaxMessageSize(sdp: string, max: number): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const out = lines(sdp);
  const at = out.findIndex((l) => MAX_MESSAGE_SIZE.test(l));
  if (at >= 0) out[at] = `a=max-message-size:${max}`;
  else {
    const port = out.findIndex((l) => l.startsWith('a=sctp-port:'));
    if (port < 0) throw err('BAD_PARAM', 'the description has no a=sctp-port line to put a max-message-size after');
    out.splice(port + 1, 0, `a=max-message-size:${max}`);
  }
  return out.join(eol);
}

/** The largest message both sides accept: the smaller of the two, where 0 means "no limit". */
export function negotiatedMaxMessageSize(local: number, remote: number): number {
  if (local === 0) return remote === 0 ? SDP_DEFAULT_MAX_MESSAGE_SIZE : remote;
  if (remote === 0) return local;
  return Math.min(local, remote);
}

/** Throws StxError BAD_PARAM unless `sdp` is a bounded description with a data channel m-line and a fingerprint. */
export function checkRemoteSdp(sdp: unknown, type: 'offer' | 'answer'): asserts sdp is string {
  if (typeof sdp !== 'string') throw err('BAD_PARAM', `the ${type} is not a string`);
  if (sdp.length > MAX_SDP_BYTES) throw err('BAD_PARAM', `the ${type} is ${sdp.length} characters (at most ${MAX_SDP_BYTES})`);
  if (!sdp.startsWith('v=0')) throw err('BAD_PARAM', `the ${type} is not a session description`);
  if (!lines(sdp).some((l) => l.startsWith('m=application ') && l.includes('webrtc-datachannel'))) {
    throw err('BAD_PARAM', `the ${type} has no data channel (m=application … webrtc-datachannel)`);
  }
  if (!parseFingerprint(sdp)) throw err('BAD_PARAM', `the ${type} has no DTLS fingerprint`);
}

/** A STUN or TURN server as RTCPeerConnection takes it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface ParsedIceUrl {
  scheme: 'stun' | 'stuns' | 'turn' | 'turns';
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | undefined;
}

/** Parses `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`, `turns:…` (IPv6 hosts in brackets). */
export function parseIceUrl(url: string): ParsedIceUrl {
  const m = /^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/.exec(url);
  if (!m) throw new TypeError(`not a STUN or TURN URL: ${url}`);
  const scheme = m[1] as ParsedIceUrl['scheme'];
  const port = m[3] !== undefined ? Number(m[3]) : scheme.endsWith('s') ? 5349 : 3478;
  if (port < 1 || port > 65535) throw new TypeError(`bad port in ${url}`);
  return { scheme, host: m[2].replace(/^\[|\]$/g, ''), port, transport: m[4] as 'udp' | 'tcp' | undefined };
}
