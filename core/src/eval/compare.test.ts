import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../contract/errors.js';
import { newcombeInterval, wilsonInterval } from '../domain/stats.js';
import { compareResults, determinismBadge, type CompareCase } from './compare.js';

/** Build results from a compact spec: [id, slices, pass]. */
const rs = (rows: [string, string[], boolean][]): CompareCase[] =>
  rows.map(([caseId, slices, pass]) => ({ caseId, slices, pass, graders: [{ name: 'success', pass, value: pass ? 500 : 120 }], detail: { steps: pass ? 500 : 120, failure: pass ? null : 'pole_angle' } }));

// 10 cases; slice `a` = c1..c6, slice `b` = c5..c10 (c5, c6 in both).
const baseline = rs([
  ['c1', ['a'], true],
  ['c2', ['a'], true],
  ['c3', ['a'], true],
  ['c4', ['a'], false],
  ['c5', ['a', 'b'], true],
  ['c6', ['a', 'b'], false],
  ['c7', ['b'], true],
  ['c8', ['b'], true],
  ['c9', ['b'], true],
  ['c10', ['b'], false],
]);
const candidate = rs([
  ['c1', ['a'], true],
  ['c2', ['a'], false], // new failure
  ['c3', ['a'], true],
  ['c4', ['a'], true], // fixed
  ['c5', ['a', 'b'], false], // new failure (in both slices)
  ['c6', ['a', 'b'], true], // fixed
  ['c7', ['b'], true],
  ['c8', ['b'], true],
  ['c9', ['b'], true],
  ['c10', ['b'], true], // fixed
]);

describe('compareResults', () => {
  const cmp = compareResults({ candidate, baseline, confidence: 0.95, sliceOrder: ['b', 'a'], candidateRun: { kind: 'native', determinism: { reruns: 1, identical: true, compared: 10, differing: [] } } });

  it('lists `all` first, then the slices in the given order', () => {
    expect(cmp.slices.map((s) => s.slice)).toEqual(['all', 'b', 'a']);
  });

  it('counts and intervals match the statistics functions, slice by slice', () => {
    const expected = { all: { c: [8, 10], b: [7, 10] }, a: { c: [4, 6], b: [4, 6] }, b: { c: [5, 6], b: [4, 6] } } as const;
    for (const s of cmp.slices) {
      const e = expected[s.slice as keyof typeof expected];
      const [cx, cn] = e.c;
      const [bx, bn] = e.b;
      expect(s.n).toBe(cn);
      expect(s.candidate).toMatchObject({ passed: cx, n: cn, rate: cx / cn });
      expect(s.baseline).toMatchObject({ passed: bx, n: bn, rate: bx / bn });
      const wc = wilsonInterval(cx, cn, 0.95);
      const wb = wilsonInterval(bx, bn, 0.95);
      expect(s.candidate.interval).toEqual([wc.lower, wc.upper]);
      expect(s.baseline!.interval).toEqual([wb.lower, wb.upper]);
      const d = newcombeInterval(cx, cn, bx, bn, 0.95);
      expect(s.delta!.estimate).toBeCloseTo(cx / cn - bx / bn, 12);
      expect(s.delta!.interval).toEqual([d.lower, d.upper]);
    }
    // A hand check of one Wilson interval: 8/10 at 95% is [0.4902, 0.9433] (Newcombe 1998, table I style).
    const all = cmp.slices[0]!;
    expect(all.candidate.interval[0]).toBeCloseTo(0.4902, 4);
    expect(all.candidate.interval[1]).toBeCloseTo(0.9433, 4);
  });

  it('pairs cases for new failures and fixes, per slice', () => {
    const by = Object.fromEntries(cmp.slices.map((s) => [s.slice, s]));
    expect(by['all']!.newFailures).toEqual(['c2', 'c5']);
    expect(by['all']!.fixed).toEqual(['c4', 'c6', 'c10']);
    expect(by['a']!.newFailures).toEqual(['c2', 'c5']);
    expect(by['a']!.fixed).toEqual(['c4', 'c6']);
    expect(by['b']!.newFailures).toEqual(['c5']);
    expect(by['b']!.fixed).toEqual(['c6', 'c10']);
  });

  it('lists the failing cases with their slices, graders, failure and baseline outcome', () => {
    expect(cmp.failingCases).toEqual([
      { caseId: 'c2', slices: ['a'], graders: [{ name: 'success', pass: false, value: 120 }], failure: 'pole_angle', baselinePass: true, newFailure: true },
      { caseId: 'c5', slices: ['a', 'b'], graders: [{ name: 'success', pass: false, value: 120 }], failure: 'pole_angle', baselinePass: true, newFailure: true },
    ]);
  });

  it('without a baseline: rates only, no delta, no pairing', () => {
    const solo = compareResults({ candidate, baseline: null });
    expect(solo.slices[0]).toMatchObject({ slice: 'all', n: 10, baseline: null, delta: null, newFailures: [], fixed: [] });
    expect(solo.failingCases.every((f) => f.baselinePass === null && !f.newFailure)).toBe(true);
    expect(solo.determinism.status).toBe('not checked');
  });

  it('an empty slice has no rate and the uninformative interval', () => {
    const c = compareResults({ candidate: [], baseline: [], sliceOrder: ['safety'] });
    expect(c.slices[1]).toMatchObject({ slice: 'safety', n: 0, candidate: { passed: 0, n: 0, rate: null, interval: [0, 1] }, delta: null });
  });

  it('refuses a duplicate case id', () => {
    expect(() => compareResults({ candidate: [...candidate, candidate[0]!], baseline })).toThrow(SwitchyardError);
  });
});

describe('determinismBadge', () => {
  it('deterministic, not frozen (with ids), or not checked (imported, never re-run, re-run cut short)', () => {
    expect(determinismBadge({ kind: 'native', determinism: { reruns: 1, identical: true, compared: 300, differing: [] } })).toMatchObject({ status: 'deterministic', reruns: 1, differing: [] });
    expect(determinismBadge({ kind: 'native', determinism: { reruns: 2, identical: false, compared: 300, differing: ['cp-007', 'cp-100'] } })).toMatchObject({
      status: 'not frozen',
      differing: ['cp-007', 'cp-100'],
      note: expect.stringMatching(/environment not frozen: 2 cases/) as unknown,
    });
    expect(determinismBadge({ kind: 'imported', determinism: null })).toMatchObject({ status: 'not checked', note: expect.stringMatching(/imported/) as unknown });
    expect(determinismBadge({ kind: 'native', determinism: null })).toMatchObject({ status: 'not checked', note: expect.stringMatching(/--reruns 1/) as unknown });
    expect(determinismBadge({ kind: 'native', determinism: { reruns: 1, identical: false, compared: 0, differing: [], error: 'the re-run was cancelled' } })).toMatchObject({
      status: 'not checked',
      note: expect.stringMatching(/cancelled/) as unknown,
    });
  });
});
