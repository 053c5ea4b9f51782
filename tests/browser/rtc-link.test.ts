// The browser WebRTC link (web/stx/rtc-link.ts) in real Chromium, on loopback only: the transport acceptance
// suite between two links of one page (one `it` per case), then a page link connected to a node-datachannel
// and to a werift link of this process, each side offering in turn, the SDPs crossing through
// page.evaluate. Chromium runs with WEBRTC_LOOPBACK_ARGS and camera/microphone permission for the page's
// origin (helpers/webrtc.ts says why). See docs/PROTOCOL.md, "Transports".
import { networkInterfaces } from 'node:os';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTransportTests } from '../../shared/stx/transport-acceptance.ts';
import { type Backend, makeLink, type WebrtcLink } from '../../node-peer/webrtc/index.ts';
import { allowLocalCandidates, type BrowserEnv, startBrowserEnv, type TestPage, WEBRTC_LOOPBACK_ARGS } from './helpers/index.ts';
import { type LinkReport, LinkProbe } from './pages/link-probe.ts';
import type { CaseResult } from './pages/rtc-api.ts';

const PAGE = '/tests/browser/pages/rtc-link.html';
const READY = '!!window.stateosRtc';
/** The addresses of this machine: traffic between them never leaves it. */
const THIS_HOST = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));

// The case names, collected in Node: the page must run exactly these.
const caseNames: string[] = [];
runTransportTests(
  (name) => caseNames.push(name),
  () => Promise.reject(new Error('cases are only listed here, never run')),
);

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A link in the page, driven through window.stateosRtc. */
function pageLink(page: Page, id: number) {
  const rtc = page.evaluate.bind(page);
  return {
    createOffer: () => rtc((i) => window.stateosRtc!.createOffer(i), id),
    acceptOffer: (sdp: string) => rtc(([i, s]) => window.stateosRtc!.acceptOffer(i, s), [id, sdp] as const),
    acceptAnswer: (sdp: string) => rtc(([i, s]) => window.stateosRtc!.acceptAnswer(i, s), [id, sdp] as const),
    connected: () => rtc((i) => window.stateosRtc!.connected(i), id),
    info: () => rtc((i) => window.stateosRtc!.info(i), id),
    candidatePair: () => rtc((i) => window.stateosRtc!.candidatePair(i), id),
    open: (label: string) => rtc(([i, l]) => window.stateosRtc!.open(i, l), [id, label] as const),
    has: (label: string) => rtc(([i, l]) => window.stateosRtc!.has(i, l), [id, label] as const),
    count: (label: string) => rtc(([i, l]) => window.stateosRtc!.count(i, l), [id, label] as const),
    closed: (label: string) => rtc(([i, l]) => window.stateosRtc!.closed(i, l), [id, label] as const),
    send: (label: string, sizes: number[], seed: number) => rtc(([i, l, z, s]) => window.stateosRtc!.send(i, l, z, s), [id, label, sizes, seed] as const),
    sendAndClose: (label: string, sizes: number[], seed: number) =>
      rtc(([i, l, z, s]) => window.stateosRtc!.sendAndClose(i, l, z, s), [id, label, sizes, seed] as const),
    report: (label: string) => rtc(([i, l]) => window.stateosRtc!.report(i, l), [id, label] as const),
    close: (reason: string) => rtc(([i, r]) => window.stateosRtc!.close(i, r), [id, reason] as const),
  };
}

type PageLink = ReturnType<typeof pageLink>;

/** One end as the test sees it, whichever side it lives on. */
interface End {
  name: 'page' | 'node';
  open(label: string): Promise<void>;
  has(label: string): Promise<boolean>;
  count(label: string): Promise<number>;
  closed(label: string): Promise<boolean>;
  send(label: string, sizes: number[], seed: number): Promise<string[]>;
  sendAndClose(label: string, sizes: number[], seed: number): Promise<string[]>;
  report(label: string): ReturnType<LinkProbe['report']>;
}

const nodeEnd = (p: LinkProbe): End => ({
  name: 'node',
  open: (l) => p.open(l),
  has: async (l) => p.has(l),
  count: async (l) => p.count(l),
  closed: async (l) => p.closed(l),
  send: (l, z, s) => p.send(l, z, s),
  sendAndClose: (l, z, s) => p.sendAndClose(l, z, s),
  report: (l) => p.report(l),
});

const pageEnd = (p: PageLink): End => ({ name: 'page', ...p });

describe('browser WebRTC link in Chromium', () => {
  let env: BrowserEnv;

  beforeAll(async () => {
    env = await startBrowserEnv({ args: WEBRTC_LOOPBACK_ARGS });
    await allowLocalCandidates(env.chromium.context, env.server.origin);
  });
  afterAll(async () => {
    await env?.close();
  });

  describe('transport acceptance suite, browser ↔ browser in one page', () => {
    let results: CaseResult[] = [];
    let pageErrors: string[] = [];

    beforeAll(async () => {
      const { page, errors } = await env.open(PAGE, READY);
      results = await page.evaluate(() => window.stateosRtc!.acceptance());
      pageErrors = errors;
      await page.close();
    }, 180_000);

    it('ran exactly the cases the suite defines, with no page errors', () => {
      expect(results.map((r) => r.name)).toEqual(caseNames);
      expect(pageErrors).toEqual([]);
    });

    for (const name of caseNames) {
      it(name, () => {
        const r = results.find((x) => x.name === name);
        expect(r, 'the page ran this case').toBeDefined();
        expect(r!.error ?? '').toBe('');
        expect(r!.ok).toBe(true);
      });
    }
  });

  const backends: [string, Backend][] = [
    ['node-datachannel', 'datachannel'],
    ['werift', 'werift'],
  ];
  for (const [backendName, backend] of backends) {
    for (const offerer of ['page', 'node'] as const) {
      describe(`browser ↔ ${backendName}, the ${offerer} offering`, () => {
        let tab: TestPage;
        let node: WebrtcLink;
        let nodeProbe: LinkProbe;
        let browser: PageLink;
        let ends: { page: End; node: End };

        beforeAll(async () => {
          tab = await env.open(PAGE, READY);
          const id = await tab.page.evaluate(() => window.stateosRtc!.newLink());
          browser = pageLink(tab.page, id);
          // node-datachannel on 127.0.0.1 only; werift gathers 127.0.0.1 besides its other interfaces.
          node = makeLink(backend, backend === 'datachannel' ? { bindAddress: '127.0.0.1' } : {});
          nodeProbe = new LinkProbe(node);
          ends = { page: pageEnd(browser), node: nodeEnd(nodeProbe) };
        });
        afterAll(async () => {
          node?.close('test over');
          await tab?.page.close();
        });

        it('connects over 127.0.0.1; the fingerprints and maxMessageSize agree from both sides', async () => {
          let browserSdp: string;
          if (offerer === 'page') {
            browserSdp = await browser.createOffer();
            await browser.acceptAnswer(await node.acceptOffer(browserSdp));
          } else {
            browserSdp = await browser.acceptOffer(await node.createOffer());
            await node.acceptAnswer(browserSdp);
          }
          await Promise.all([node.connected(), browser.connected()]);
          const [mine, pair] = [await browser.info(), await browser.candidatePair()];
          expect(mine.phase).toBe('connected');
          expect(mine.backend).toBe('browser');
          expect(browserSdp, "the browser's description has a plain 127.0.0.1 host candidate").toMatch(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/m);
          // The browser may send from any of its addresses (all of them on this machine); node-datachannel is
          // bound to 127.0.0.1. werift gathers on every interface (and 127.0.0.1), and its checks may come
          // from another of its addresses: a peer-reflexive candidate, whose address the browser hides.
          expect([pair?.local.protocol, pair?.local.type]).toEqual(['udp', 'host']);
          expect(THIS_HOST).toContain(pair?.local.address);
          if (backend === 'datachannel') expect([pair?.remote.address, pair?.remote.type]).toEqual(['127.0.0.1', 'host']);
          else if (pair?.remote.type === 'host') expect(THIS_HOST).toContain(pair.remote.address);
          else expect(pair?.remote.type).toBe('prflx');
          const fp = (f: WebrtcLink['localFingerprint']) => (f ? `${f.algorithm} ${f.value}` : undefined);
          expect(mine.localFingerprint).toMatch(/^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
          expect(mine.remoteFingerprint).toBe(fp(node.localFingerprint));
          expect(fp(node.remoteFingerprint)).toBe(mine.localFingerprint);
          // Chrome advertises 256 KiB; werift 64 KiB, node-datachannel 256 KiB by default.
          expect(mine.maxMessageSize).toBe(backend === 'werift' ? 64 * 1024 : 256 * 1024);
          expect(node.maxMessageSize).toBe(mine.maxMessageSize);
        });

        it('channels opened from each side are announced on the other', async () => {
          await ends.page.open('from-page');
          await ends.node.open('from-node');
          await until(() => nodeProbe.has('from-page'), 'node to see from-page');
          await until(() => browser.has('from-node'), 'the page to see from-node');
          expect(nodeProbe.info().announced).toEqual(['from-page']);
          expect((await browser.info()).announced).toEqual(['from-node']);
        });

        it('messages both ways on both channels, small and of maxMessageSize, arrive byte for byte', async () => {
          const max = node.maxMessageSize;
          const sizes = [1, 2, 3, 100, 1000, 4096, 16 * 1024, max - 1, max, 7, max];
          let seed = 1000;
          for (const label of ['from-page', 'from-node']) {
            for (const [from, to] of [
              [ends.page, ends.node],
              [ends.node, ends.page],
            ]) {
              const sent = await from.send(label, sizes, (seed += 100));
              await until(async () => (await to.count(label)) >= sizes.length, `${sizes.length} messages ${from.name} → ${to.name} on ${label}`);
              const got = await to.report(label);
              expect(got.sizes, `${from.name} → ${to.name} on ${label}`).toEqual(sizes);
              expect(got.digests, `${from.name} → ${to.name} on ${label}`).toEqual(sent);
            }
          }
        });

        it('a channel closed right after sending delivers everything first, whichever side opened or closes it', async () => {
          const max = node.maxMessageSize;
          const sizes = Array.from({ length: 40 }, (_, i) => (i % 10 === 9 ? max : 1 + ((i * 977) % 3000)));
          let seed = 5000;
          for (const opener of [ends.page, ends.node]) {
            for (const closer of [ends.page, ends.node]) {
              const other = closer === ends.page ? ends.node : ends.page;
              const label = `close-${opener.name}-opens-${closer.name}-closes`;
              await opener.open(label);
              const far = opener === ends.page ? ends.node : ends.page;
              await until(() => far.has(label), `${label} announced`);
              const sent = await closer.sendAndClose(label, sizes, (seed += 100));
              await until(async () => (await other.closed(label)) && (await closer.closed(label)), `${label} closed on both ends`);
              const got = await other.report(label);
              expect(got.digests, `${label}: everything sent before close()`).toEqual(sent);
              expect(got.closes, label).toEqual(['closed by the peer']);
              expect((await closer.report(label)).closes, label).toEqual(['closed']);
            }
          }
          expect(node.state).toBe('open');
        });

        it("the Node link closes when the page closes its link, with the page's reason, and so do its channels", async () => {
          await browser.close('page done');
          const closedAt = Date.now();
          await until(() => node.state === 'closed', 'the Node link to close');
          expect(Date.now() - closedAt, 'the bye arrives at once, not by the heartbeat').toBeLessThan(2000);
          const info: LinkReport = nodeProbe.info();
          expect(info.closeReason).toBe('closed by the peer: page done');
          expect(info.closes).toEqual(['closed by the peer: page done']);
          for (const label of ['from-page', 'from-node']) {
            expect((await nodeProbe.report(label)).closes, label).toHaveLength(1);
            expect((await browser.report(label)).closes, label).toEqual(['page done']);
          }
          expect((await browser.info()).state).toBe('closed');
          expect(tab.errors).toEqual([]);
        });
      });
    }

    it(`browser ↔ ${backendName}: a page link told to advertise a smaller maxMessageSize is held to it by both ends`, async () => {
      const { page, errors } = await env.open(PAGE, READY);
      const browser = pageLink(page, await page.evaluate(() => window.stateosRtc!.newLink({ maxMessageSize: 50_000 })));
      const node = makeLink(backend, backend === 'datachannel' ? { bindAddress: '127.0.0.1' } : {});
      const probe = new LinkProbe(node);
      try {
        const answer = await browser.acceptOffer(await node.createOffer());
        expect(answer).toMatch(/^a=max-message-size:50000\r?$/m);
        await node.acceptAnswer(answer);
        await Promise.all([node.connected(), browser.connected()]);
        expect(node.maxMessageSize).toBe(50_000);
        expect((await browser.info()).maxMessageSize).toBe(50_000);
        await probe.open('sized');
        await until(() => browser.has('sized'), 'the page to see the channel');
        await expect(probe.send('sized', [50_001], 1)).rejects.toThrow(/TOO_LARGE/);
        await expect(browser.send('sized', [50_001], 1)).rejects.toThrow(/TOO_LARGE/);
        const sent = [...(await probe.send('sized', [50_000], 2)), ...(await browser.send('sized', [50_000], 3))];
        await until(async () => (await browser.count('sized')) === 1 && probe.count('sized') === 1, 'one message each way');
        expect([(await browser.report('sized')).digests[0], (await probe.report('sized')).digests[0]]).toEqual(sent);
        expect(errors).toEqual([]);
      } finally {
        node.close('test over');
        await page.close();
      }
    });

    it(`browser ↔ ${backendName}: closing the tab tells the Node link (pagehide), which closes at once`, async () => {
      const { page } = await env.open(PAGE, READY);
      const browser = pageLink(page, await page.evaluate(() => window.stateosRtc!.newLink()));
      const node = makeLink(backend, backend === 'datachannel' ? { bindAddress: '127.0.0.1' } : {});
      try {
        await browser.acceptAnswer(await node.acceptOffer(await browser.createOffer()));
        await Promise.all([node.connected(), browser.connected()]);
        let reason: string | undefined;
        node.onClose((r) => (reason = r));
        const t0 = Date.now();
        await page.close();
        await until(() => node.state === 'closed', 'the Node link to close');
        expect(Date.now() - t0, 'told by the bye, not by the heartbeat').toBeLessThan(1000);
        expect(reason).toBe('closed by the peer: page closed');
      } finally {
        node.close('test over');
      }
    });
  }
});
