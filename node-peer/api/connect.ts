// A Node client of the State API over WebRTC: offers a link to a server's POST /api/client, opens the `stx`
// channel, and hands back the typed client (shared/api/client.ts) with the link's channel binding.
import { ApiClient, type ApiConnection } from '../../shared/api/client.ts';
import { SignalingConnection } from '../../shared/stx/connection.ts';
import { err } from '../../shared/stx/errors.ts';
import { SIGNALING_LABEL, SIGNALING_OPTIONS } from '../../shared/stx/transport.ts';
import { type Backend, DEFAULT_BACKEND, makeLink } from '../webrtc/index.ts';
import { linkBinding } from './index.ts';

export type { ApiConnection };

/**
 * Connects to a server's State API. A link that libdatachannel destroyed before the answer came back (seen
 * under load, cause not found yet: "setRemoteDescription() called on destroyed peer connection") is
 * replaced by a new one, twice at most; the hub's joins redial the same way.
 */
export async function connectApi(url: string, opts: { backend?: Backend } = {}): Promise<ApiConnection> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectOnce(url, opts);
    } catch (e) {
      if (attempt >= 2 || !/destroyed peer connection/.test(String(e))) throw e;
    }
  }
}

async function connectOnce(url: string, opts: { backend?: Backend }): Promise<ApiConnection> {
  const link = makeLink(opts.backend ?? DEFAULT_BACKEND, { iceServers: [] });
  try {
    const offer = await link.createOffer();
    const res = await fetch(new URL('/api/client', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sdp: offer }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => ({}))) as { sdp?: unknown; error?: unknown };
    if (!res.ok || typeof body.sdp !== 'string') throw err('REFUSED', `POST ${url}/api/client: ${res.status} ${typeof body.error === 'string' ? body.error : ''}`.trim());
    await link.acceptAnswer(body.sdp);
    await link.connected();
    const channel = await link.openChannel(SIGNALING_LABEL, SIGNALING_OPTIONS);
    const client = new ApiClient(new SignalingConnection(channel));
    return { client, binding: await linkBinding(link), close: () => link.close('done') };
  } catch (e) {
    link.close('connect failed');
    throw e;
  }
}
