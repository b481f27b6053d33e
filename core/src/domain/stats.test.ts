import { mulberry32 as seededRng } from '../platform/rng.js';
import { describe, expect, it } from 'vitest';
import {
  inverseNormalCdf,
  newcombeInterval,
  nearestRankOfSorted,
  newcombeLowerOneSided,
  pairedComparison,
  percentile,
  wilsonInterval,
  wilsonLowerOneSided,
  wilsonUpperOneSided,
  zForConfidence,
  zOneSided,
} from './stats.js';

function mulberry32(seed: number): () => number {
  const rng = seededRng(seed);
  return () => rng.next();
}

/** Independent check of Phi(z) - 1/2 by composite Simpson integration of the density. */
function phiMinusHalf(z: number): number {
  const steps = 20000;
  const h = z / steps;
  const f = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  let s = f(0) + f(z);
  for (let i = 1; i < steps; i++) s += (i % 2 === 1 ? 4 : 2) * f(i * h);
  return (s * h) / 3;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

describe('inverseNormalCdf / z', () => {
  it('gives the textbook critical values', () => {
    expect(Math.abs(zForConfidence(0.95) - 1.959963984540054)).toBeLessThan(1e-12);
    expect(Math.abs(zOneSided(0.95) - 1.6448536269514722)).toBeLessThan(1e-12);
    expect(Math.abs(zForConfidence(0.99) - 2.5758293035489004)).toBeLessThan(1e-12);
    expect(Math.abs(zForConfidence(0.9) - 1.6448536269514722)).toBeLessThan(1e-12);
    expect(Math.abs(inverseNormalCdf(0.8) - 0.8416212335729143)).toBeLessThan(1e-12);
    expect(Math.abs(inverseNormalCdf(0.999) - 3.090232306167813)).toBeLessThan(1e-11);
    expect(inverseNormalCdf(0.5)).toBe(0);
    expect(inverseNormalCdf(0)).toBe(-Infinity);
    expect(inverseNormalCdf(1)).toBe(Infinity);
    expect(() => inverseNormalCdf(1.5)).toThrow(RangeError);
  });

  it('inverts the normal CDF to 1e-9 across the central and tail regions, and is antisymmetric', () => {
    for (const p of [0.5001, 0.55, 0.6, 0.7, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.99995]) {
      const z = inverseNormalCdf(p);
      expect(Math.abs(phiMinusHalf(z) - (p - 0.5))).toBeLessThan(1e-9);
      expect(inverseNormalCdf(1 - p)).toBeCloseTo(-z, 12);
    }
  });
});

describe('wilsonInterval (Newcombe 1998, single proportion, method 3)', () => {
  const cases: [number, number, number, number][] = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  it.each(cases)('%i/%i -> %f to %f', (x, n, lo, hi) => {
    const w = wilsonInterval(x, n, 0.95);
    expect(r4(w.lower)).toBe(lo);
    expect(r4(w.upper)).toBe(hi);
    expect(w.estimate).toBe(x / n);
  });

  it('is exact at the edges and [0, 1] with no data', () => {
    expect(wilsonInterval(0, 20).lower).toBe(0);
    expect(wilsonInterval(20, 20).upper).toBe(1);
    const empty = wilsonInterval(0, 0);
    expect([empty.lower, empty.upper]).toEqual([0, 1]);
    expect(empty.estimate).toBeNaN();
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 2, 1)).toThrow(RangeError);
  });

  it('keeps lower <= p <= upper inside [0, 1] for many random inputs, and narrows with confidence', () => {
    const rnd = mulberry32(42);
    for (let i = 0; i < 5000; i++) {
      const n = 1 + Math.floor(rnd() * 500);
      const x = Math.floor(rnd() * (n + 1));
      const conf = 0.5 + rnd() * 0.4999;
      const w = wilsonInterval(x, n, conf);
      expect(w.lower).toBeGreaterThanOrEqual(0);
      expect(w.upper).toBeLessThanOrEqual(1);
      expect(w.lower).toBeLessThanOrEqual(w.estimate);
      expect(w.estimate).toBeLessThanOrEqual(w.upper);
      const wider = wilsonInterval(x, n, Math.min(0.9999, conf + 0.0001));
      expect(wider.lower).toBeLessThanOrEqual(w.lower + 1e-15);
      expect(wider.upper).toBeGreaterThanOrEqual(w.upper - 1e-15);
    }
  });

  it('covers the true proportion about 95% of the time (n=50, p=0.3, 2000 seeded trials)', () => {
    const rnd = mulberry32(7);
    let covered = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      let x = 0;
      for (let i = 0; i < 50; i++) if (rnd() < 0.3) x++;
      const w = wilsonInterval(x, 50, 0.95);
      if (w.lower <= 0.3 && 0.3 <= w.upper) covered++;
    }
    const coverage = covered / trials;
    expect(coverage).toBeGreaterThan(0.92);
    expect(coverage).toBeLessThan(0.98);
  });

  it('one-sided bounds equal the two-sided bounds at 2c-1', () => {
    expect(wilsonLowerOneSided(40, 50, 0.95)).toBeCloseTo(wilsonInterval(40, 50, 0.9).lower, 14);
    expect(wilsonUpperOneSided(40, 50, 0.95)).toBeCloseTo(wilsonInterval(40, 50, 0.9).upper, 14);
  });
});

describe('newcombeInterval (Newcombe 1998, Table II, method 10)', () => {
  // Published values; 6/7-2/7 and 10/10-0/20 are 0.0582..0.8062 and 0.6791..1.0000 in Table II.
  const cases: [number, number, number, number, number, number, number][] = [
    [56, 70, 48, 80, 0.2, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.6, 0.1705, 0.809],
    [6, 7, 2, 7, 0.5714, 0.0582, 0.8062],
    [5, 56, 0, 29, 0.0893, -0.0381, 0.1926],
    [0, 10, 0, 20, 0, -0.1611, 0.2775],
    [0, 10, 0, 10, 0, -0.2775, 0.2775],
    [10, 10, 0, 20, 1, 0.6791, 1],
    [10, 10, 0, 10, 1, 0.6075, 1],
  ];
  it.each(cases)('%i/%i - %i/%i -> %f (%f to %f)', (x1, n1, x2, n2, d, lo, hi) => {
    const iv = newcombeInterval(x1, n1, x2, n2, 0.95);
    expect(r4(iv.estimate)).toBe(d);
    expect(r4(iv.lower)).toBe(lo);
    expect(r4(iv.upper)).toBe(hi);
  });

  it('is built from the two Wilson intervals', () => {
    const a = wilsonInterval(56, 70);
    const b = wilsonInterval(48, 80);
    const iv = newcombeInterval(56, 70, 48, 80);
    const d = 56 / 70 - 48 / 80;
    expect(iv.lower).toBeCloseTo(d - Math.sqrt((a.estimate - a.lower) ** 2 + (b.upper - b.estimate) ** 2), 14);
    expect(iv.upper).toBeCloseTo(d + Math.sqrt((a.upper - a.estimate) ** 2 + (b.estimate - b.lower) ** 2), 14);
  });

  it('is antisymmetric when the groups swap', () => {
    const ab = newcombeInterval(56, 70, 48, 80);
    const ba = newcombeInterval(48, 80, 56, 70);
    expect(ba.lower).toBeCloseTo(-ab.upper, 14);
    expect(ba.upper).toBeCloseTo(-ab.lower, 14);
  });

  it('keeps lower <= d <= upper inside [-1, 1] for many random inputs', () => {
    const rnd = mulberry32(1234);
    for (let i = 0; i < 5000; i++) {
      const n1 = 1 + Math.floor(rnd() * 300);
      const n2 = 1 + Math.floor(rnd() * 300);
      const x1 = Math.floor(rnd() * (n1 + 1));
      const x2 = Math.floor(rnd() * (n2 + 1));
      const iv = newcombeInterval(x1, n1, x2, n2, 0.5 + rnd() * 0.4999);
      expect(iv.lower).toBeGreaterThanOrEqual(-1);
      expect(iv.upper).toBeLessThanOrEqual(1);
      expect(iv.lower).toBeLessThanOrEqual(iv.estimate);
      expect(iv.estimate).toBeLessThanOrEqual(iv.upper);
    }
  });

  it('covers the true difference about 95% of the time (seeded simulation)', () => {
    const rnd = mulberry32(99);
    const trials = 2000;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      let x1 = 0;
      let x2 = 0;
      for (let i = 0; i < 60; i++) if (rnd() < 0.8) x1++;
      for (let i = 0; i < 50; i++) if (rnd() < 0.7) x2++;
      const iv = newcombeInterval(x1, 60, x2, 50);
      if (iv.lower <= 0.1 && 0.1 <= iv.upper) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.92);
    expect(covered / trials).toBeLessThan(0.98);
  });

  it('has no data -> [-1, 1]; one-sided lower bound is the two-sided one at 2c-1', () => {
    const iv = newcombeInterval(0, 0, 3, 10);
    expect([iv.lower, iv.upper]).toEqual([-1, 1]);
    expect(newcombeLowerOneSided(56, 70, 48, 80, 0.95)).toBeCloseTo(newcombeInterval(56, 70, 48, 80, 0.9).lower, 14);
  });
});

describe('pairedComparison', () => {
  it('counts regressions exactly by case id', () => {
    const base = [
      { caseId: 'a', pass: true },
      { caseId: 'b', pass: true },
      { caseId: 'c', pass: false },
      { caseId: 'd', pass: false },
      { caseId: 'only-base', pass: true },
    ];
    const cand = [
      { caseId: 'd', pass: false },
      { caseId: 'c', pass: true },
      { caseId: 'b', pass: false },
      { caseId: 'a', pass: true },
      { caseId: 'only-cand', pass: false },
    ];
    expect(pairedComparison(base, cand)).toEqual({
      paired: 4,
      newFailures: ['b'],
      newPasses: ['c'],
      bothFailed: ['d'],
      onlyCandidate: ['only-cand'],
      onlyBaseline: ['only-base'],
    });
  });

  it('refuses duplicate case ids', () => {
    expect(() => pairedComparison([{ caseId: 'a', pass: true }, { caseId: 'a', pass: true }], [])).toThrow(/duplicate/);
  });
});

describe('percentile (nearest rank)', () => {
  it('picks an observed value', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 0.99)).toBe(99);
    expect(percentile(v, 1)).toBe(100);
    expect(percentile([5, 1, 3], 0.99)).toBe(5);
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([], 0.99)).toBeNaN();
    expect(percentile(Array.from({ length: 1000 }, (_, i) => i), 0.99)).toBe(989);
  });

  it('reads already sorted values in place and leaves "no data" to the caller', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRankOfSorted(sorted, 0.5)).toBe(50);
    expect(nearestRankOfSorted(sorted, 0.99)).toBe(99);
    expect(nearestRankOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.07 * 10)).toBe(7);
    expect(nearestRankOfSorted([], 0.99)).toBeUndefined();
    // Rank 7 of 100, though 0.07 * 100 is 7.000000000000001 in floating point.
    expect(nearestRankOfSorted(Array.from({ length: 100 }, (_, i) => i + 1), 0.07)).toBe(7);
  });
});
