// The browser's STX transport: makeBrowserLink() is a WebrtcLink over RTCPeerConnection that interoperates
// with the Node backends (node-peer/webrtc/). Offer and answer travel over HTTP or any other channel.
import { type BrowserLinkOptions, RtcLink } from './rtc-link.ts';

export { CONTROL_ID, CONTROL_LABEL } from '../../shared/stx/link/control.ts';
export type { LinkBackend, LinkOptions, LinkPhase, WebrtcLink } from '../../shared/stx/link/link.ts';
export { connectLinks } from '../../shared/stx/link/pair.ts';
export type { Fingerprint, IceServer } from '../../shared/stx/link/sdp.ts';
export { BROWSER_DEFAULT_MAX_QUEUED_BYTES, BROWSER_MAX_QUEUED_BYTES, type BrowserLinkOptions, type CandidateInfo, RtcLink } from './rtc-link.ts';

/** A new, unconnected link: call createOffer() on one side and acceptOffer()/acceptAnswer() as the SDPs travel. */
export function makeBrowserLink(opts: BrowserLinkOptions = {}): RtcLink {
  return new RtcLink(opts);
}
