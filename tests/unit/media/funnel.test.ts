import { describe, expect, it } from 'vitest';
import { Funnel } from '../../../shared/media/segment-service.ts';

describe('the data funnel', () => {
  it('releases segments within the lead at once and holds later ones until the play position catches up', () => {
    const f = new Funnel({ leadSeconds: 10 });
    f.feedback(0, 1_000_000);
    expect(f.delayMs(0, 1_000_000)).toBe(0);
    expect(f.delayMs(10, 1_000_000)).toBe(0);
    expect(f.delayMs(16, 1_000_000)).toBe(6000);
    // the viewer keeps playing at 1x: four seconds later the same segment waits two
    expect(f.delayMs(16, 1_004_000)).toBe(2000);
    // feedback says it stalled at 1 s: the wait grows again
    f.feedback(1, 1_004_000);
    expect(f.delayMs(16, 1_004_000)).toBe(5000);
    // seeking ahead moves the window
    f.feedback(60, 1_005_000);
    expect(f.delayMs(62, 1_005_000)).toBe(0);
    expect(f.delayMs(75, 1_005_000)).toBe(5000);
  });

  it('never holds a segment longer than its bound and ignores nonsense feedback', () => {
    const f = new Funnel({ leadSeconds: 5, maxDelayMs: 3000 });
    f.feedback(0, 0);
    expect(f.delayMs(1000, 0)).toBe(3000);
    f.feedback(Number.NaN, 10);
    f.feedback(-4, 10);
    expect(f.delayMs(6, 0)).toBe(1000);
  });
});
