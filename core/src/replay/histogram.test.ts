import { describe, expect, it } from 'vitest';
import { CompactHistogram, LATENCY_LAYOUT, LogHistogram } from './histogram.js';
import { rng } from '../../test-support/replay-fixtures.js';

const nearestRank = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(q * xs.length) - 1)]!;

describe('LogHistogram', () => {
  it('quantiles within 1 % of the exact nearest-rank value; exact count, sum, min, max', () => {
    const r = rng(3);
    const xs = Array.from({ length: 20_000 }, () => Math.exp(r() * 8 - 4)); // 0.018 .. 54.6 ms
    const h = new LogHistogram();
    xs.forEach((x) => h.add(x));
    for (const q of [0.01, 0.5, 0.9, 0.99, 0.999]) {
      const want = nearestRank(xs, q);
      expect(Math.abs(h.quantile(q)! - want) / want).toBeLessThan(0.0101);
    }
    expect(h.count).toBe(xs.length);
    expect(h.min).toBe(Math.min(...xs));
    expect(h.max).toBe(Math.max(...xs));
    expect(h.sum).toBeCloseTo(xs.reduce((a, x) => a + x, 0), 6);
  });

  it('merges, survives a state round trip, ignores NaN, clamps to [min, max]', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    [1, 2, 3].forEach((x) => a.add(x));
    [4, 5, NaN].forEach((x) => b.add(x));
    a.merge(LogHistogram.fromState(structuredClone(b.toState())));
    expect(a.count).toBe(5);
    expect(a.quantile(1)).toBe(5);
    const one = new LogHistogram();
    one.add(0.1234);
    expect(one.quantile(0.5)).toBe(0.1234);
    expect(new LogHistogram().quantile(0.5)).toBeNull();
    const zero = new LogHistogram();
    zero.add(0);
    zero.add(-1);
    expect(zero.quantile(0.99)).toBe(0);
    expect(() => a.merge(new LogHistogram({ ...LATENCY_LAYOUT, growth: 1.1 }))).toThrow(/different layouts/);
  });

  it('CompactHistogram: median within 5 %', () => {
    const h = new CompactHistogram();
    const xs = [0.2, 0.25, 0.3, 0.31, 0.5];
    xs.forEach((x) => h.add(x));
    expect(Math.abs(h.quantile(0.5, 0.2, 0.5)! - 0.3) / 0.3).toBeLessThan(0.05);
  });
});
