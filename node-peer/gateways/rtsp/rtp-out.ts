// The sending end of one RTP stream: sequence numbers, SSRC, timestamp offset and counters; RTP packets
// serialized with werift's RtpHeader, sender reports with werift's RtcpSrPacket, SDES and BYE from
// shared/media/rtp/rtcp.ts. And where packets go: interleaved on the RTSP connection, or UDP datagrams.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { RtcpSenderInfo, RtcpSrPacket, RtpHeader } from 'werift';
import { ntpTimestamp } from '../../../shared/media/rtp/clock.ts';
import { buildBye, buildSdes } from '../../../shared/media/rtp/rtcp.ts';
import type { RtpPayload } from '../../../shared/media/rtp/types.ts';

const random32 = () => randomBytes(4).readUInt32BE(0);

export class RtpSender {
  readonly ssrc = random32();
  /** Added to every RTP timestamp (RFC 3550: a random start). */
  readonly tsOffset = random32();
  /** The next sequence number. */
  seq = random32() & 0xffff;
  packets = 0;
  octets = 0;
  private readonly header: RtpHeader;

  constructor(
    readonly payloadType: number,
    readonly clockRate: number,
    readonly cname: string,
  ) {
    this.header = new RtpHeader({ payloadType, ssrc: this.ssrc });
  }

  /** The RTP packets of one frame: its payloads, all stamped `timestamp`. */
  packetsOf(payloads: RtpPayload[], timestamp: number): Buffer[] {
    const out: Buffer[] = [];
    const h = this.header;
    h.timestamp = timestamp;
    for (const p of payloads) {
      h.sequenceNumber = this.seq;
      h.marker = p.marker;
      const buf = h.serialize(12 + p.payload.length);
      buf.set(p.payload, 12);
      out.push(buf);
      this.seq = (this.seq + 1) & 0xffff;
      this.packets++;
      this.octets += p.payload.length;
    }
    return out;
  }

  /** SR + SDES: the RTP clock `rtpNow` at wall-clock `epochMs` (both *now*, not the last frame's). */
  report(epochMs: number, rtpNow: number): Buffer {
    const sr = new RtcpSrPacket({
      ssrc: this.ssrc,
      senderInfo: new RtcpSenderInfo({ ntpTimestamp: ntpTimestamp(epochMs), rtpTimestamp: rtpNow >>> 0, packetCount: this.packets >>> 0, octetCount: this.octets >>> 0 }),
    });
    return Buffer.concat([sr.serialize(), buildSdes(this.ssrc, this.cname)]);
  }

  /** SR + SDES + BYE in one compound packet: the end of the stream. */
  goodbye(epochMs: number, rtpNow: number, reason?: string): Buffer {
    return Buffer.concat([this.report(epochMs, rtpNow), buildBye([this.ssrc], reason)]);
  }
}

/** Where one stream's packets go. */
export interface Sink {
  readonly kind: 'tcp' | 'udp';
  rtp(packets: Buffer[]): void;
  rtcp(packet: Buffer): void;
  /** Bytes accepted but not yet handed to the kernel. */
  backlog(): number;
  /** Calls `fn` once the backlog has drained. */
  onDrain(fn: () => void): void;
  readonly open: boolean;
  describe(): string;
}

/** RTP and RTCP interleaved on the RTSP connection (RFC 2326 §10.12): "$", channel, 16-bit length, packet. */
export class InterleavedSink implements Sink {
  readonly kind = 'tcp';
  constructor(
    private readonly socket: Socket,
    readonly channels: [number, number],
  ) {}

  get open(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  rtp(packets: Buffer[]): void {
    if (!this.open || packets.length === 0) return;
    let size = 0;
    for (const p of packets) size += 4 + p.length;
    const out = Buffer.allocUnsafe(size);
    let o = 0;
    for (const p of packets) {
      out[o] = 0x24;
      out[o + 1] = this.channels[0];
      out.writeUInt16BE(p.length, o + 2);
      p.copy(out, o + 4);
      o += 4 + p.length;
    }
    this.socket.write(out);
  }

  rtcp(packet: Buffer): void {
    if (!this.open) return;
    const head = Buffer.from([0x24, this.channels[1], packet.length >> 8, packet.length & 0xff]);
    this.socket.write(Buffer.concat([head, packet]));
  }

  backlog(): number {
    return this.socket.writableLength;
  }

  onDrain(fn: () => void): void {
    this.socket.once('drain', fn);
  }

  describe(): string {
    return `RTP/AVP/TCP;unicast;interleaved=${this.channels[0]}-${this.channels[1]}`;
  }
}

/** The server's UDP port pair (RTP on an even port, RTCP on the next), shared by every UDP session. */
export interface UdpPair {
  rtp: UdpSocket;
  rtcp: UdpSocket;
  ports: [number, number];
  close(): Promise<void>;
}

export async function openUdpPair(host: string, onError: (e: Error) => void, tries = 32): Promise<UdpPair> {
  const type = host.includes(':') ? 'udp6' : 'udp4';
  const bind = (port: number) =>
    new Promise<UdpSocket>((resolve, reject) => {
      const s = createSocket({ type, reuseAddr: false });
      s.once('error', (e) => {
        s.close();
        reject(e);
      });
      s.bind(port, host, () => {
        s.removeAllListeners('error');
        s.on('error', onError); // a datagram that cannot be sent is not a reason to stop serving
        resolve(s);
      });
    });
  const closeOne = (s: UdpSocket) => new Promise<void>((r) => s.close(() => r()));
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    const rtp = await bind(0);
    const port = rtp.address().port;
    if (port % 2 === 1 || port === 65535) {
      await closeOne(rtp);
      continue;
    }
    try {
      const rtcp = await bind(port + 1);
      return { rtp, rtcp, ports: [port, port + 1], close: async () => void (await Promise.all([closeOne(rtp), closeOne(rtcp)])) };
    } catch (e) {
      last = e;
      await closeOne(rtp);
    }
  }
  throw new Error(`no free UDP port pair on ${host}: ${String(last ?? 'odd ports only')}`);
}

/** RTP to the client's RTP port and RTCP to its RTCP port, from the server's pair. */
export class UdpSink implements Sink {
  readonly kind = 'udp';
  private closed = false;
  constructor(
    private readonly pair: UdpPair,
    readonly address: string,
    readonly clientPorts: [number, number],
  ) {}

  get open(): boolean {
    return !this.closed;
  }

  close(): void {
    this.closed = true;
  }

  rtp(packets: Buffer[]): void {
    if (this.closed) return;
    for (const p of packets) this.pair.rtp.send(p, this.clientPorts[0], this.address);
  }

  rtcp(packet: Buffer): void {
    if (this.closed) return;
    this.pair.rtcp.send(packet, this.clientPorts[1], this.address);
  }

  backlog(): number {
    return 0;
  }

  onDrain(fn: () => void): void {
    queueMicrotask(fn);
  }

  describe(): string {
    return `RTP/AVP;unicast;client_port=${this.clientPorts[0]}-${this.clientPorts[1]};server_port=${this.pair.ports[0]}-${this.pair.ports[1]}`;
  }
}
