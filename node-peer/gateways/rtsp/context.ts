// What the RTSP method handlers share: the media source, the options, the sessions and the UDP port pair.
import type { Logger } from '../../../shared/log.ts';
import type { Doors } from '../../api/doors.ts';
import type { AddressGuard } from '../../http/address-guard.ts';
import type { ChannelSchedule } from '../../../shared/media/schedule.ts';
import type { MediaSource } from '../../media/frames.ts';
import type { Gate } from './gate.ts';
import type { ParseLimits } from './parser.ts';
import type { UdpPair } from './rtp-out.ts';
import type { RtspSession } from './session.ts';

export interface RtspOptions {
  host: string;
  port: number;
  log: Logger;
  /** A session without a request or RTCP from its client for this long ends. Default 60 s. */
  sessionTimeoutMs?: number;
  /** Channel schedules by name; without it, channel URLs are 404. */
  schedules?: (name: string) => ChannelSchedule | undefined;
  /** Open connections at most. Default 256. */
  maxConnections?: number;
  /** Sessions made on one connection and alive at once. Default 8. */
  maxSessionsPerConnection?: number;
  /** Sessions alive at once. Default 1024. */
  maxSessions?: number;
  /** A request must arrive whole within this long of its first byte. Default 10 s. */
  requestTimeoutMs?: number;
  limits?: Partial<ParseLimits>;
  /** Skip the UDP port pair (RTP over TCP only). */
  noUdp?: boolean;
  /** Who may play what (node-peer/api/doors.ts): rtsp://HOST:PORT/t/<ticket>/media/<id>, or anonymous. */
  doors?: Doors;
  /** Connections per address and refusal of addresses that send invalid requests (shared with HTTP). */
  guard?: AddressGuard;
}

export type ResolvedOptions = Required<Omit<RtspOptions, 'schedules' | 'limits' | 'noUdp' | 'doors' | 'guard'>> & Pick<RtspOptions, 'schedules' | 'doors' | 'guard'> & { limits: ParseLimits };

export interface ServerContext {
  source: MediaSource;
  log: Logger;
  opts: ResolvedOptions;
  sessions: Map<string, RtspSession>;
  udp?: UdpPair;
  /** UDP sessions by "client address|port", for RTCP keep-alives. */
  udpPeers: Map<string, RtspSession>;
  /** Every play's frame reads take turns here. */
  reads: Gate;
  endSession(s: RtspSession, reason: string, bye: boolean): void;
}
