import { describe, expect, it } from 'vitest';
import { ShadowDivergenceWindow } from './shadow-divergence.js';

describe('ShadowDivergenceWindow', () => {
  it('gives p50/p99 of cosine distance and max abs and the rate over the threshold, per window', () => {
    const w = new ShadowDivergenceWindow(0.1);
    for (let i = 1; i <= 100; i++) w.add({ cosine: 1 - i / 1000, maxAbs: i / 500 });
    const s = w.take('p@1.1.0', 3);
    expect(s.window.compared).toBe(100);
    // max abs i/500 > 0.1 for i > 50
    expect(s.window.overThreshold).toBe(50);
    expect(s.window.overRate).toBe(0.5);
    expect(s.window.maxAbsP50).toBeCloseTo(0.1, 2);
    expect(s.window.maxAbsP99).toBeCloseTo(0.198, 2);
    expect(s.window.cosineDistanceP99).toBeCloseTo(0.099, 3);
    expect(s.total).toEqual({ compared: 100, overThreshold: 50, failed: 0, skipped: 3, incomparable: 0 });
    // A new window starts empty; the totals carry on.
    w.add(null);
    w.fail();
    const next = w.take('p@1.1.0', 3);
    expect(next.window).toMatchObject({ compared: 0, overRate: null, maxAbsP99: null });
    expect(next.total).toEqual({ compared: 100, overThreshold: 50, failed: 1, skipped: 3, incomparable: 1 });
  });

  it('counts a NaN difference as over the threshold', () => {
    const w = new ShadowDivergenceWindow(0.1);
    w.add({ cosine: Number.NaN, maxAbs: Number.NaN });
    expect(w.take('p@x', 0).window.overThreshold).toBe(1);
  });
});
