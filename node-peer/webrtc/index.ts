// The Node WebRTC transports: makeLink() picks a backend; connectPair() negotiates two links in one process
// (tests, benchmarks). Between processes the offer and the answer travel over HTTP (or any byte pipe).
import type { WebrtcLink } from '../../shared/stx/link/link.ts';
import { connectLinks } from '../../shared/stx/link/pair.ts';
import { cleanup as ndcCleanup } from 'node-datachannel';
import { NdcLink } from './ndc-link.ts';
import type { Backend, NodeLinkOptions as LinkOptions } from './options.ts';
import { WeriftLink } from './werift-link.ts';

export { CONTROL_ID, CONTROL_LABEL } from '../../shared/stx/link/control.ts';
export type { LinkBackend, LinkPhase, WebrtcLink } from '../../shared/stx/link/link.ts';
export { connectLinks } from '../../shared/stx/link/pair.ts';
export type { Fingerprint, IceServer } from '../../shared/stx/link/sdp.ts';
export { BACKENDS, type Backend, type NodeLinkOptions as LinkOptions, type NodeLinkOptions } from './options.ts';

/** The backend `npx stateos serve` uses unless told otherwise (see docs/PROTOCOL.md, "Transports"). */
export const DEFAULT_BACKEND: Backend = 'datachannel';

export function isBackend(s: string): s is Backend {
  return s === 'werift' || s === 'datachannel';
}

/** A new, unconnected link: call createOffer() on one side and acceptOffer()/acceptAnswer() as the SDPs travel. */
export function makeLink(backend: Backend, opts: LinkOptions = {}): WebrtcLink {
  switch (backend) {
    case 'werift':
      return new WeriftLink(opts);
    case 'datachannel':
      return new NdcLink(opts);
    default:
      throw new TypeError(`unknown WebRTC backend ${String(backend)} (werift or datachannel)`);
  }
}

/**
 * At the end of a process that used node-datachannel: stops libdatachannel's threads (its RTC worker and
 * SCTP timer), which otherwise can keep a process alive after everything else has shut down.
 */
export function shutdownWebrtc(): void {
  ndcCleanup();
}

/** Two links connected to each other in this process: [offerer, answerer]. Backends may differ. */
export async function connectPair(backend: Backend | [Backend, Backend], a: LinkOptions = {}, b: LinkOptions = {}): Promise<[WebrtcLink, WebrtcLink]> {
  const [ba, bb] = Array.isArray(backend) ? backend : [backend, backend];
  return connectLinks(makeLink(ba, a), makeLink(bb, b));
}
