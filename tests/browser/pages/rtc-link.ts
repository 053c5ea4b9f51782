// The browser WebRTC link under test in Chromium: exposes window.stateosRtc (see rtc-api.ts): the transport
// acceptance suite between two links of this page, and links the test drives one step at a time to connect
// them to Node links (the SDPs cross through page.evaluate).
import { runTransportTests } from '../../../shared/stx/transport-acceptance.ts';
import { connectLinks } from '../../../shared/stx/link/pair.ts';
import { makeBrowserLink } from '../../../web/stx/index.ts';
import type { RtcLink } from '../../../web/stx/rtc-link.ts';
import { LinkProbe } from './link-probe.ts';
import { renderCases } from './cases-table.ts';
import type { CaseResult, RtcPageApi } from './rtc-api.ts';

function render(results: CaseResult[], total: number): void {
  const failed = results.filter((r) => !r.ok).length;
  const summary =
    `Transport acceptance, browser ↔ browser: ${results.length}/${total} run, ${results.length - failed} passed` + (failed ? `, ${failed} FAILED` : '');
  renderCases(summary, results);
}

const links = new Map<number, { link: RtcLink; probe: LinkProbe }>();
let nextId = 1;

function get(id: number): { link: RtcLink; probe: LinkProbe } {
  const l = links.get(id);
  if (!l) throw new Error(`no link ${id} in the page`);
  return l;
}

const api: RtcPageApi = {
  async acceptance(opts) {
    const cases: { name: string; fn: () => Promise<void> }[] = [];
    runTransportTests((name, fn) => cases.push({ name, fn }), () => connectLinks(makeBrowserLink(), makeBrowserLink()), opts);
    const results: CaseResult[] = [];
    render(results, cases.length);
    for (const c of cases) {
      const t0 = performance.now();
      try {
        await c.fn();
        results.push({ name: c.name, ok: true, ms: performance.now() - t0 });
      } catch (e) {
        results.push({ name: c.name, ok: false, error: (e as Error)?.stack ?? String(e), ms: performance.now() - t0 });
      }
      render(results, cases.length);
    }
    return results;
  },

  newLink(opts = {}) {
    const link = makeBrowserLink(opts);
    const id = nextId++;
    links.set(id, { link, probe: new LinkProbe(link) });
    return id;
  },
  createOffer: (id) => get(id).link.createOffer(),
  acceptOffer: (id, offer) => get(id).link.acceptOffer(offer),
  acceptAnswer: (id, answer) => get(id).link.acceptAnswer(answer),
  connected: (id) => get(id).link.connected(),
  info: (id) => get(id).probe.info(),
  candidatePair: (id) => get(id).link.candidatePair(),
  open: (id, label) => get(id).probe.open(label),
  has: (id, label) => get(id).probe.has(label),
  count: (id, label) => get(id).probe.count(label),
  closed: (id, label) => get(id).probe.closed(label),
  send: (id, label, sizes, seed) => get(id).probe.send(label, sizes, seed),
  sendAndClose: (id, label, sizes, seed) => get(id).probe.sendAndClose(label, sizes, seed),
  report: (id, label) => get(id).probe.report(label),
  close: (id, reason) => get(id).link.close(reason),
};

window.stateosRtc = api;
