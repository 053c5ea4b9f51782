// The Node WebRTC transports: makeLink() picks a backend; connectPair() negotiates two links in one process
// (tests, benchmarks). Between processes the offer and the answer travel over HTTP (or any byte pipe).
import { type Backend, type LinkOptions, type WebrtcLink } from './link.ts';
import { NdcLink } from './ndc-link.ts';
import { WeriftLink } from './werift-link.ts';

export { CONTROL_ID, CONTROL_LABEL } from './control.ts';
export { BACKENDS, type Backend, type LinkOptions, type LinkPhase, type WebrtcLink } from './link.ts';
export type { Fingerprint, IceServer } from './sdp.ts';

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

/** Two links connected to each other in this process: [offerer, answerer]. Backends may differ. */
export async function connectPair(backend: Backend | [Backend, Backend], a: LinkOptions = {}, b: LinkOptions = {}): Promise<[WebrtcLink, WebrtcLink]> {
  const [ba, bb] = Array.isArray(backend) ? backend : [backend, backend];
  const offerer = makeLink(ba, a);
  const answerer = makeLink(bb, b);
  try {
    const answer = await answerer.acceptOffer(await offerer.createOffer());
    await offerer.acceptAnswer(answer);
    await Promise.all([offerer.connected(), answerer.connected()]);
  } catch (e) {
    offerer.close('pair failed');
    answerer.close('pair failed');
    throw e;
  }
  return [offerer, answerer];
}
