// What Chromium needs for WebRTC on loopback only (docs/PROTOCOL.md, "Transports", browser backend). By
// default a page without camera or microphone permission gathers host candidates on the default route only
// (none on a machine with lo alone), hides them behind mDNS names, and never on 127.0.0.1. So:
// - `--allow-loopback-in-peer-connection` lets it gather on the loopback interface;
// - camera and microphone permission for the test origin (granted to the context, no device is opened)
//   lifts the default-route-only gathering and the mDNS names: host candidates are plain 127.0.0.1.
// Without the permission a browser still reaches a Node peer's 127.0.0.1 candidate (through peer-reflexive
// candidates) where the machine has another interface, but two browser links cannot reach each other.
import type { BrowserContext } from 'playwright-core';

export const WEBRTC_LOOPBACK_ARGS = ['--allow-loopback-in-peer-connection'];

/** Lets pages of `origin` gather plain host candidates on every interface, loopback included. */
export async function allowLocalCandidates(context: BrowserContext, origin: string): Promise<void> {
  await context.grantPermissions(['camera', 'microphone'], { origin });
}
