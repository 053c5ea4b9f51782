import { afterEach, describe, expect, it, vi } from 'vitest';
import { err, StxError } from '../../../shared/stx/errors.ts';
import { RequestTable } from '../../../shared/stx/requests.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('RequestTable', () => {
  it('issues unique monotonic ids and matches many outstanding replies in any order', async () => {
    const t = new RequestTable<string>({ maxOutstanding: 5000 });
    const opened = Array.from({ length: 5000 }, () => t.open());
    expect(opened.map((o) => o.id)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(t.outstanding).toBe(5000);
    for (let i = opened.length - 1; i >= 0; i--) expect(t.resolve(opened[i].id, `r${opened[i].id}`)).toBe('ok');
    expect(await Promise.all(opened.map((o) => o.reply))).toEqual(opened.map((o) => `r${o.id}`));
    expect(t.outstanding).toBe(0);
  });

  it('refuses past the cap, and frees slots as replies come', () => {
    const t = new RequestTable<number>({ maxOutstanding: 2 });
    const a = t.open();
    t.open();
    expect(() => t.open()).toThrow(expect.objectContaining({ code: 'TOO_MANY_REQUESTS' }));
    t.resolve(a.id, 1);
    expect(t.open().id).toBe(3); // a refused open() uses no id
  });

  it('classifies reply ids: ok, stale (issued here, no longer waiting), unknown (never issued)', async () => {
    const t = new RequestTable<number>();
    const a = t.open();
    expect(t.resolve(a.id, 1)).toBe('ok');
    await a.reply;
    expect(t.resolve(a.id, 1)).toBe('stale');
    expect(t.resolve(2, 1)).toBe('unknown');
    expect(t.resolve(0, 1)).toBe('unknown');
    expect(t.reject(99, err('TIMEOUT', 'x'))).toBe('unknown');
  });

  it('times out a request that gets no reply', async () => {
    vi.useFakeTimers();
    const t = new RequestTable<number>({ timeoutMs: 1000 });
    const a = t.open();
    const b = t.open({ timeoutMs: 5000 });
    const ra = expect(a.reply).rejects.toMatchObject({ code: 'TIMEOUT' });
    vi.advanceTimersByTime(1001);
    await ra;
    expect(t.outstanding).toBe(1);
    expect(t.resolve(a.id, 1)).toBe('stale'); // a late reply is not the peer's fault
    vi.advanceTimersByTime(4000);
    await expect(b.reply).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels a request by AbortSignal', async () => {
    const t = new RequestTable<number>();
    const ctl = new AbortController();
    const a = t.open({ signal: ctl.signal });
    ctl.abort();
    await expect(a.reply).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(t.outstanding).toBe(0);
    expect(() => t.open({ signal: ctl.signal })).toThrow(expect.objectContaining({ code: 'CANCELLED' }));
  });

  it('rejects everything outstanding on close, with a typed error, and refuses new requests', async () => {
    vi.useFakeTimers();
    const t = new RequestTable<number>();
    const all = Array.from({ length: 100 }, () => t.open());
    t.closeAll(err('CLOSED', 'peer gone'));
    const results = await Promise.allSettled(all.map((o) => o.reply));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof StxError && r.reason.code === 'CLOSED')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(() => t.open()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});
