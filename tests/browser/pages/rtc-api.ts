// What tests/browser/pages/rtc-link.html exposes on `window.stateosRtc`, shared by the page and the tests.
import type { TransportSuiteOptions } from '../../../shared/stx/transport-acceptance.ts';
import type { BrowserLinkOptions, CandidateInfo } from '../../../web/stx/rtc-link.ts';
import type { ChannelReport, LinkReport } from './link-probe.ts';
import type { CaseResult } from './ring-api.ts';

export type { CaseResult } from './ring-api.ts';

export interface RtcPageApi {
  /** Runs the transport acceptance suite between two browser links of this page, one case at a time. */
  acceptance(opts?: TransportSuiteOptions): Promise<CaseResult[]>;
  /** A new browser link (log and functions cannot cross page.evaluate: plain options only); returns its id. */
  newLink(opts?: Omit<BrowserLinkOptions, 'log'>): number;
  createOffer(id: number): Promise<string>;
  acceptOffer(id: number, offer: string): Promise<string>;
  acceptAnswer(id: number, answer: string): Promise<void>;
  connected(id: number): Promise<void>;
  info(id: number): LinkReport;
  /** The candidate pair the link's ICE selected. */
  candidatePair(id: number): Promise<{ local: CandidateInfo; remote: CandidateInfo } | undefined>;
  open(id: number, label: string): Promise<void>;
  has(id: number, label: string): boolean;
  count(id: number, label: string): number;
  closed(id: number, label: string): boolean;
  send(id: number, label: string, sizes: number[], seed: number): Promise<string[]>;
  sendAndClose(id: number, label: string, sizes: number[], seed: number): Promise<string[]>;
  report(id: number, label: string): Promise<ChannelReport>;
  close(id: number, reason: string): void;
}

declare global {
  interface Window {
    stateosRtc?: RtcPageApi;
  }
}
