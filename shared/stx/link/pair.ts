// Two links of any backends connected to each other in one process or page (tests, benchmarks): the offer
// and the answer are handed across directly instead of through a signaling server.
import type { WebrtcLink } from './link.ts';

/** Negotiates `offerer` with `answerer` and waits until both are connected; closes both if that fails. */
export async function connectLinks(offerer: WebrtcLink, answerer: WebrtcLink): Promise<[WebrtcLink, WebrtcLink]> {
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
