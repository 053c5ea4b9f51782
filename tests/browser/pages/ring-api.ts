// What tests/browser/pages/ring.html exposes on `window.stateosRing`, shared by the page and the tests.
import type { FsyncPolicy, Loc, OpenReport } from '../../../shared/ring/types.ts';
import type { OpenChecks } from './device-checks.ts';

export interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

/** An STU the ring acknowledged: `makeStu(seq, data, bodySize)` appended at `loc`. */
export interface Acked {
  seq: number;
  data: boolean;
  bodySize: number;
  loc: Loc;
}

export interface RingSpec {
  ring: string;
  metaBytes: number;
  dataBytes: number;
  fsync?: FsyncPolicy;
  pageSize?: number;
}

export interface FillReport {
  acked: Acked[];
  /** The error the first refused append rejected with. */
  error?: { name: string; code?: string; message: string };
  /** What appends after that one rejected with (they must be refused too). */
  later: { code?: string; message: string }[];
  closeError?: string;
}

export interface VerifyReport {
  /** The ring was created by this open: the browser had discarded it. */
  created: boolean;
  report: OpenReport;
  /** Acked STUs that could not be read back intact, with the reason. */
  bad: { seq: number; why: string }[];
  live: { meta: number; data: number };
}

export interface RingPageApi {
  /** Runs the ring acceptance suite (shared/ring/acceptance.ts) on the IndexedDB ring. */
  acceptance(): Promise<CaseResult[]>;
  /** Opens a ring as an application would and returns what navigator.storage.persist() answered. */
  persistence(): Promise<{ persisted: boolean; detail: string }>;
  /** Appends data STUs of `bodySize` bytes until one is refused (or `max`), then tries `retries` more. */
  fillUntilRefused(spec: RingSpec & { bodySize: number; max: number; retries: number }): Promise<FillReport>;
  /**
   * Appends STUs until the page dies, reporting each acknowledged one through `window.stateosAck` (a
   * binding the test exposes). Never resolves while the ring accepts appends.
   */
  appendUntilKilled(spec: RingSpec & { bodySize: number }): Promise<string>;
  /** Reopens `spec.ring` and reads back every acknowledged STU. */
  verify(spec: RingSpec, acked: Acked[]): Promise<VerifyReport>;
  /** Random writes and reads on a device with 4 KiB pages against a MemoryDevice; returns the differences. */
  deviceModel(seed: number, ops: number): Promise<string[]>;
  openChecks(): Promise<OpenChecks>;
  deleteRing(ring: string): Promise<void>;
  storageEstimate(): Promise<{ usage: number; quota: number }>;
}

declare global {
  interface Window {
    stateosRing?: RingPageApi;
    stateosRingResults?: CaseResult[];
    stateosAck?: (acked: Acked) => Promise<void>;
  }
}
