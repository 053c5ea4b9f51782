// The IndexedDB ring under test in Chromium: exposes window.stateosRing (see ring-api.ts) and shows the
// acceptance results in the page, for the screenshot.
import { makeStu, runRingTests } from '../../../shared/ring/acceptance.ts';
import type { RingError } from '../../../shared/ring/types.ts';
import { decodeStu, type Result, type Stu } from '../../../shared/stu/index.ts';
import { deleteIdbRing, openIdbRing } from '../../../web/ring/idb-ring.ts';
import { deviceModel, openChecks } from './device-checks.ts';
import { idbHarness } from './idb-harness.ts';
import { renderCases } from './cases-table.ts';
import type { Acked, CaseResult, FillReport, RingPageApi, RingSpec, VerifyReport } from './ring-api.ts';

const describe = (e: unknown) => ({
  name: (e as Error)?.name ?? typeof e,
  code: (e as { code?: string })?.code,
  message: (e as Error)?.message ?? String(e),
});

const open = (spec: RingSpec) =>
  openIdbRing(spec.ring, { metaBytes: spec.metaBytes, dataBytes: spec.dataBytes, fsync: spec.fsync, pageSize: spec.pageSize, persist: false });

function render(results: CaseResult[], total: number): void {
  const failed = results.filter((r) => !r.ok).length;
  const summary =
    results.length < total
      ? `IndexedDB ring acceptance: ${results.length}/${total} run…`
      : `IndexedDB ring acceptance in ${navigator.userAgent.match(/Chrom(e|ium)\/[\d.]+/)?.[0] ?? 'this browser'}: ` +
        `${total - failed}/${total} passed${failed ? `, ${failed} FAILED` : ''}`;
  renderCases(summary, results);
}

const api: RingPageApi = {
  async acceptance() {
    const cases: { name: string; fn: () => Promise<void> }[] = [];
    runRingTests((name, fn) => cases.push({ name, fn }), idbHarness);
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
    window.stateosRingResults = results;
    return results;
  },

  async persistence() {
    await deleteIdbRing('persistence');
    const ring = await openIdbRing('persistence', { metaBytes: 64 * 1024, dataBytes: 64 * 1024 });
    const answer = await ring.persistence;
    await ring.close();
    await deleteIdbRing('persistence');
    return answer;
  },

  async fillUntilRefused(spec) {
    await deleteIdbRing(spec.ring);
    const ring = await open(spec);
    const out: FillReport = { acked: [], later: [] };
    let seq = 0;
    while (++seq <= spec.max) {
      try {
        const loc = await ring.append(makeStu(seq, true, spec.bodySize));
        out.acked.push({ seq, data: true, bodySize: spec.bodySize, loc });
      } catch (e) {
        out.error = describe(e);
        break;
      }
    }
    for (let i = 0; i < spec.retries; i++) {
      // A data STU, and (last) a small metadata one: the storage is full for both sections.
      const stu = i < spec.retries - 1 ? makeStu(++seq, true, spec.bodySize) : makeStu(++seq, false, 100);
      try {
        await ring.append(stu);
        out.later.push({ message: 'accepted' });
      } catch (e) {
        out.later.push(describe(e));
      }
    }
    try {
      await ring.close();
    } catch (e) {
      out.closeError = describe(e).message;
    }
    ring.disconnect();
    return out;
  },

  async appendUntilKilled(spec) {
    await deleteIdbRing(spec.ring);
    const ring = await open(spec);
    // Eight appends in flight at a time, so batches (one transaction each) hold several STUs.
    for (let seq = 1; ; seq += 8) {
      await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const s = seq + i;
          const data = s % 5 !== 0;
          const bodySize = data ? spec.bodySize : 200;
          const loc = await ring.append(makeStu(s, data, bodySize));
          void window.stateosAck?.({ seq: s, data, bodySize, loc });
        }),
      );
    }
  },

  async verify(spec, acked) {
    const ring = await open(spec);
    const bad: VerifyReport['bad'] = [];
    for (const a of acked) bad.push(...check(a, await ring.read(a.loc)));
    const stats = ring.stats();
    const out: VerifyReport = { created: ring.created, report: ring.report, bad, live: { meta: stats.meta.records, data: stats.data.records } };
    await ring.close();
    return out;
  },

  deviceModel,
  openChecks,
  deleteRing: (ring) => deleteIdbRing(ring),

  async storageEstimate() {
    const e = await navigator.storage.estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
  },
};

function check(a: Acked, r: Result<Stu, RingError>): { seq: number; why: string }[] {
  if (!r.ok) return [{ seq: a.seq, why: r.error.message }];
  const want = decodeStu(makeStu(a.seq, a.data, a.bodySize));
  if (!want.ok) return [{ seq: a.seq, why: 'could not rebuild the expected STU' }];
  const same = r.value.header.seq === a.seq && r.value.body.length === want.value.body.length && r.value.body.every((x, i) => x === want.value.body[i]);
  return same ? [] : [{ seq: a.seq, why: 'bytes differ from what was appended' }];
}

window.stateosRing = api;
