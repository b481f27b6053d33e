import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../contract/errors.js';
import { formatMilliseconds } from '../contract/units.js';
import { parseRules } from '../eval/rules-parser.js';
import type { PromotionRules } from '../eval/rules-parser.js';
import { wilsonInterval, newcombeInterval } from './stats.js';
import { computeVerdict, decide } from './verdict.js';
import type { CaseResult, RuleEvidence } from './verdict.js';

/** `n` cases in `slices`, the listed indexes failing; ids `<prefix>-<i>`. */
function cases(prefix: string, n: number, opts: { slices?: string[]; fail?: number[]; latency?: number | ((i: number) => number) } = {}): CaseResult[] {
  const fail = new Set(opts.fail ?? []);
  return Array.from({ length: n }, (_, i) => ({
    caseId: `${prefix}-${i}`,
    slices: opts.slices ?? [],
    pass: !fail.has(i),
    latencyMs: typeof opts.latency === 'function' ? opts.latency(i) : (opts.latency ?? 2),
  }));
}

function rules(body: string, head = 'transition: candidate->staging\nsuite: s\nmin_cases: 30\n'): PromotionRules {
  return parseRules(head + body);
}

function rule(v: { rules: RuleEvidence[] }, id: string): RuleEvidence {
  const r = v.rules.find((x) => x.id === id);
  if (!r) throw new Error(`no rule ${id} in ${v.rules.map((x) => x.id).join(', ')}`);
  return r;
}

describe('max_fail_rate', () => {
  const r = rules('slices:\n  safety: { max_fail_rate: 0.0 }\n');

  it('passes with no failure', () => {
    const v = computeVerdict({ rules: r, candidate: cases('c', 40, { slices: ['safety'] }) });
    expect(v.verdict).toBe('GO');
    const e = rule(v, 'slices.safety.max_fail_rate');
    expect(e).toMatchObject({ observed: 0, threshold: 0, pass: true, failingCases: [], note: '0 of 40 cases failed (0.000 <= 0.000)' });
    const w = wilsonInterval(0, 40, 0.95);
    expect(e.interval).toEqual([w.lower, w.upper]);
    expect(v.summary).toBe('GO: all 1 rule passed');
  });

  it('fails on the observed rate, naming the failed cases, with the summary text', () => {
    const v = computeVerdict({ rules: r, candidate: cases('c', 40, { slices: ['safety'], fail: [3, 17] }) });
    expect(v.verdict).toBe('NO-GO');
    const e = rule(v, 'slices.safety.max_fail_rate');
    expect(e.pass).toBe(false);
    expect(e.observed).toBe(0.05);
    expect(e.failingCases).toEqual(['c-3', 'c-17']);
    expect(v.summary).toBe('NO-GO: slices.safety.max_fail_rate failed: 2 of 40 cases failed (0.050 > 0.000)');
  });

  it('is a strict cap on the observed rate, not on an interval', () => {
    const r5 = rules('slices:\n  safety: { max_fail_rate: 0.05 }\n');
    expect(rule(computeVerdict({ rules: r5, candidate: cases('c', 40, { slices: ['safety'], fail: [1, 2] }) }), 'slices.safety.max_fail_rate').pass).toBe(true);
    expect(rule(computeVerdict({ rules: r5, candidate: cases('c', 40, { slices: ['safety'], fail: [1, 2, 3] }) }), 'slices.safety.max_fail_rate').pass).toBe(false);
  });

  it('only counts cases of its slice', () => {
    const cand = [...cases('s', 40, { slices: ['safety'] }), ...cases('o', 10, { slices: ['other'], fail: [0, 1, 2] })];
    expect(computeVerdict({ rules: r, candidate: cand }).verdict).toBe('GO');
  });

  it('too few cases: not enough data, unless a zero cap already has a failure', () => {
    const few = computeVerdict({ rules: r, candidate: cases('c', 12, { slices: ['safety'] }) });
    expect(few.verdict).toBe('INCONCLUSIVE');
    const e = rule(few, 'slices.safety.max_fail_rate');
    expect(e.pass).toBeNull();
    expect(e.note).toContain('12 cases in slice safety, fewer than min_cases 30');
    const bad = computeVerdict({ rules: r, candidate: cases('c', 12, { slices: ['safety'], fail: [4] }) });
    expect(bad.verdict).toBe('NO-GO');
    expect(rule(bad, 'slices.safety.max_fail_rate').failingCases).toEqual(['c-4']);
    const r5 = rules('slices:\n  safety: { max_fail_rate: 0.05 }\n');
    expect(computeVerdict({ rules: r5, candidate: cases('c', 12, { slices: ['safety'], fail: [4] }) }).verdict).toBe('INCONCLUSIVE');
  });

  it('a ruled slice with no case at all is INCONCLUSIVE', () => {
    const v = computeVerdict({ rules: r, candidate: cases('c', 40, { slices: ['nominal'] }) });
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.summary).toBe('INCONCLUSIVE: slices.safety.max_fail_rate: not enough data: 0 cases in slice safety, fewer than min_cases 30');
  });
});

describe('min_pass_rate (Wilson lower bound)', () => {
  const r = rules('slices:\n  nominal: { min_pass_rate: 0.8 }\n');

  it('passes when the lower bound clears the threshold', () => {
    const v = computeVerdict({ rules: r, candidate: cases('c', 100, { slices: ['nominal'], fail: [1, 2, 3, 4, 5] }) });
    const e = rule(v, 'slices.nominal.min_pass_rate');
    const w = wilsonInterval(95, 100, 0.95);
    expect(e).toMatchObject({ observed: 0.95, interval: [w.lower, w.upper], threshold: 0.8, pass: true, failingCases: [] });
    expect(e.note).toBe(`95 of 100 cases passed (0.950); 95% Wilson lower bound ${w.lower.toFixed(3)} >= 0.800`);
  });

  it('fails when the observed rate clears the threshold but the lower bound does not', () => {
    // 26/30 = 0.867 > 0.8, Wilson lower bound 0.703 < 0.8.
    const v = computeVerdict({ rules: r, candidate: cases('c', 30, { slices: ['nominal'], fail: [0, 1, 2, 3] }) });
    const e = rule(v, 'slices.nominal.min_pass_rate');
    expect(e.pass).toBe(false);
    expect(e.failingCases).toEqual(['c-0', 'c-1', 'c-2', 'c-3']);
    expect(v.summary).toBe('NO-GO: slices.nominal.min_pass_rate failed: 26 of 30 cases passed (0.867); 95% Wilson lower bound 0.703 < 0.800');
  });

  it('uses the confidence of the rules file', () => {
    const loose = rules('confidence: 0.5\nslices:\n  nominal: { min_pass_rate: 0.8 }\n', 'transition: candidate->staging\nsuite: s\nmin_cases: 30\n');
    const e = rule(computeVerdict({ rules: loose, candidate: cases('c', 30, { slices: ['nominal'], fail: [0, 1, 2, 3] }) }), 'slices.nominal.min_pass_rate');
    expect(e.interval![0]).toBeCloseTo(wilsonInterval(26, 30, 0.5).lower, 14);
    expect(e.pass).toBe(true);
    expect(e.description).toContain('50% Wilson');
  });
});

describe('pass_rate_range', () => {
  const r = rules('slices:\n  tools: { pass_rate_range: [0.9, 0.95] }\n');
  it('passes inside, fails below (with the failed cases) and above', () => {
    const inside = rule(computeVerdict({ rules: r, candidate: cases('c', 40, { slices: ['tools'], fail: [0, 1, 2] }) }), 'slices.tools.pass_rate_range');
    expect(inside.pass).toBe(true);
    expect(inside.threshold).toEqual([0.9, 0.95]);
    const below = rule(computeVerdict({ rules: r, candidate: cases('c', 40, { slices: ['tools'], fail: [0, 1, 2, 3, 4] }) }), 'slices.tools.pass_rate_range');
    expect(below.pass).toBe(false);
    expect(below.failingCases).toHaveLength(5);
    expect(below.note).toBe('35 of 40 cases passed (0.875), below [0.900, 0.950]');
    const above = rule(computeVerdict({ rules: r, candidate: cases('c', 40, { slices: ['tools'] }) }), 'slices.tools.pass_rate_range');
    expect(above.pass).toBe(false);
    expect(above.failingCases).toEqual([]);
    expect(above.note).toMatch(/above \[0\.900, 0\.950\]/);
  });
});

describe('no_regression (paired, exact)', () => {
  const r = rules('slices:\n  large_angle: { no_regression: true }\n');
  const base = cases('c', 40, { slices: ['large_angle'], fail: [5, 6] });

  it('passes when no case that passed on the baseline fails now, even if the rate is lower elsewhere', () => {
    const v = computeVerdict({ rules: r, baseline: base, candidate: cases('c', 40, { slices: ['large_angle'], fail: [5] }) });
    const e = rule(v, 'slices.large_angle.no_regression');
    expect(e).toMatchObject({ pass: true, observed: 0, threshold: 0, interval: null, failingCases: [] });
    expect(e.note).toBe('no regression among 40 paired cases');
  });

  it('fails on a single new failure even when the pass rate went up overall', () => {
    // Fixes 5 and 6 but breaks 7: rate rises from 38/40 to 39/40, still a regression.
    const v = computeVerdict({ rules: r, baseline: base, candidate: cases('c', 40, { slices: ['large_angle'], fail: [7] }) });
    const e = rule(v, 'slices.large_angle.no_regression');
    expect(e.pass).toBe(false);
    expect(e.failingCases).toEqual(['c-7']);
    expect(v.summary).toBe('NO-GO: slices.large_angle.no_regression failed: 1 case passed on the baseline and fails on the candidate (c-7), of 40 paired');
  });

  it('pairs by case id, not by position', () => {
    const shuffled = [...cases('c', 40, { slices: ['large_angle'], fail: [5, 6] })].reverse();
    expect(computeVerdict({ rules: r, baseline: base, candidate: shuffled }).verdict).toBe('GO');
  });

  it('a regression fails even below min_cases; no regression below min_cases is INCONCLUSIVE', () => {
    const fewBase = cases('c', 10, { slices: ['large_angle'] });
    expect(computeVerdict({ rules: r, baseline: fewBase, candidate: cases('c', 10, { slices: ['large_angle'], fail: [2] }) }).verdict).toBe('NO-GO');
    const v = computeVerdict({ rules: r, baseline: fewBase, candidate: cases('c', 10, { slices: ['large_angle'] }) });
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(rule(v, 'slices.large_angle.no_regression').note).toContain('fewer than min_cases 30');
  });

  it('missing baseline -> INCONCLUSIVE with a note', () => {
    const v = computeVerdict({ rules: r, candidate: cases('c', 40, { slices: ['large_angle'] }) });
    expect(v.verdict).toBe('INCONCLUSIVE');
    const e = rule(v, 'slices.large_angle.no_regression');
    expect(e.pass).toBeNull();
    expect(e.note).toBe('no baseline results: evaluate the production version on suite `s` first');
    const named = parseRules('transition: candidate->staging\nsuite: s\nbaseline: cart@1.0.0\nslices:\n  large_angle: { no_regression: true }\n');
    expect(rule(computeVerdict({ rules: named, baseline: [], candidate: cases('c', 40, { slices: ['large_angle'] }) }), 'slices.large_angle.no_regression').note).toContain(
      'evaluate cart@1.0.0 on suite',
    );
  });
});

describe('non_inferior and min_improvement (Newcombe)', () => {
  it('non_inferior passes when the lower bound is above -margin', () => {
    const r = rules('aggregate: { non_inferior: { margin: 0.1 } }\n');
    const v = computeVerdict({ rules: r, baseline: cases('b', 200, { fail: range(0, 10) }), candidate: cases('c', 200, { fail: range(0, 8) }) });
    const e = rule(v, 'aggregate.non_inferior');
    const iv = newcombeInterval(192, 200, 190, 200, 0.95);
    expect(e).toMatchObject({ threshold: -0.1, pass: true, interval: [iv.lower, iv.upper] });
    expect(e.observed).toBeCloseTo(0.01, 12);
    expect(v.verdict).toBe('GO');
  });

  it('non_inferior fails when the candidate may be worse by more than the margin, listing regressions', () => {
    const r = rules('aggregate: { non_inferior: { margin: 0.02 } }\n');
    const v = computeVerdict({ rules: r, baseline: cases('c', 100, { fail: [0] }), candidate: cases('c', 100, { fail: [0, 1, 2] }) });
    const e = rule(v, 'aggregate.non_inferior');
    expect(e.pass).toBe(false);
    expect(e.failingCases).toEqual(['c-1', 'c-2']);
    expect(e.note).toMatch(/^pass rate 0\.970 \(97\/100\) vs baseline 0\.990 \(99\/100\): difference -0\.020, 95% Newcombe lower bound -0\.\d{3} < -0\.020$/);
  });

  it('min_improvement needs the lower bound of the gain above d', () => {
    const r = rules('slices:\n  noisy: { min_improvement: 0.05 }\n');
    const pass = computeVerdict({ rules: r, baseline: cases('c', 100, { slices: ['noisy'], fail: range(0, 50) }), candidate: cases('c', 100, { slices: ['noisy'], fail: range(0, 20) }) });
    expect(rule(pass, 'slices.noisy.min_improvement').pass).toBe(true);
    const fail = computeVerdict({ rules: r, baseline: cases('c', 100, { slices: ['noisy'], fail: range(0, 50) }), candidate: cases('c', 100, { slices: ['noisy'], fail: range(0, 42) }) });
    const e = rule(fail, 'slices.noisy.min_improvement');
    expect(e.observed).toBeCloseTo(0.08, 12);
    expect(e.pass).toBe(false);
    expect(fail.verdict).toBe('NO-GO');
  });

  it('too few baseline cases or no baseline -> INCONCLUSIVE', () => {
    const r = rules('aggregate: { non_inferior: { margin: 0.02 } }\n');
    const few = computeVerdict({ rules: r, baseline: cases('b', 10), candidate: cases('c', 100) });
    expect(few.verdict).toBe('INCONCLUSIVE');
    expect(rule(few, 'aggregate.non_inferior').note).toContain('10 cases in all cases on the baseline');
    expect(computeVerdict({ rules: r, baseline: null, candidate: cases('c', 100) }).verdict).toBe('INCONCLUSIVE');
  });
});

describe('efficiency', () => {
  it('p99_latency_ms passes under the cap and fails above, naming the slow cases', () => {
    const r = rules('efficiency: { p99_latency_ms: { max: 5.0 } }\n');
    const ok = computeVerdict({ rules: r, candidate: cases('c', 100, { latency: (i) => (i === 99 ? 50 : 1 + i / 100) }) });
    // Nearest rank: the 99th of 100 values, so one outlier does not fail the rule.
    expect(rule(ok, 'efficiency.p99_latency_ms')).toMatchObject({ pass: true, observed: 1.98 });
    const slow = computeVerdict({ rules: r, candidate: cases('c', 100, { latency: (i) => (i >= 98 ? 9 : 2) }) });
    const e = rule(slow, 'efficiency.p99_latency_ms');
    expect(e).toMatchObject({ pass: false, observed: 9, failingCases: ['c-98', 'c-99'] });
    expect(slow.summary).toBe('NO-GO: efficiency.p99_latency_ms failed: p99 latency 9.00 ms > 5.00 ms over 100 cases');
  });

  it('writes a sub-millisecond p99 in its evidence as the Observed column writes it (0.0016 ms, not 0.00 ms)', () => {
    const r = rules('efficiency: { p99_latency_ms: { max: 5.0 } }\n');
    const e = rule(computeVerdict({ rules: r, candidate: cases('c', 40, { latency: 0.0016 }) }), 'efficiency.p99_latency_ms');
    expect(e.observed).toBe(0.0016);
    expect(formatMilliseconds(e.observed!)).toBe('0.0016 ms');
    expect(e.note).toBe('p99 latency 0.0016 ms <= 5.00 ms over 40 cases');
  });

  it('latency_vs_baseline compares p99s', () => {
    const r = rules('efficiency: { latency_vs_baseline: { max_ratio: 1.1 } }\n');
    const ok = rule(computeVerdict({ rules: r, baseline: cases('c', 50, { latency: 4 }), candidate: cases('c', 50, { latency: 4.4 }) }), 'efficiency.latency_vs_baseline');
    expect(ok.pass).toBe(true);
    expect(ok.observed).toBeCloseTo(1.1, 12);
    const bad = rule(computeVerdict({ rules: r, baseline: cases('c', 50, { latency: 4 }), candidate: cases('c', 50, { latency: 5 }) }), 'efficiency.latency_vs_baseline');
    expect(bad).toMatchObject({ pass: false, observed: 1.25 });
    expect(bad.failingCases).toHaveLength(50);
    expect(bad.note).toBe('p99 latency 5.00 ms vs baseline 4.00 ms: ratio 1.25× > 1.10×');
    expect(rule(computeVerdict({ rules: r, candidate: cases('c', 50) }), 'efficiency.latency_vs_baseline').pass).toBeNull();
  });

  it('leaves out non-finite latencies and needs min_cases of them', () => {
    const r = rules('efficiency: { p99_latency_ms: { max: 5.0 } }\n');
    const v = computeVerdict({ rules: r, candidate: cases('c', 40, { latency: (i) => (i < 20 ? NaN : 1) }) });
    const e = rule(v, 'efficiency.p99_latency_ms');
    expect(e.pass).toBeNull();
    expect(e.note).toContain('20 cases without a latency left out');
  });
});

describe('determinism', () => {
  const r = rules('determinism: { reruns: 1 }\n');
  it('passes with no mismatch, fails with the cases and "environment not frozen", and needs evidence', () => {
    expect(rule(computeVerdict({ rules: r, candidate: cases('c', 40), determinismMismatches: [] }), 'determinism').pass).toBe(true);
    const v = computeVerdict({ rules: r, candidate: cases('c', 40), determinismMismatches: ['c-3', 'c-9'] });
    const e = rule(v, 'determinism');
    expect(e).toMatchObject({ pass: false, observed: 2, threshold: 0, failingCases: ['c-3', 'c-9'] });
    expect(e.note).toContain('environment not frozen');
    expect(v.summary).toBe('NO-GO: determinism failed: environment not frozen: 2 cases differed on re-run (c-3, c-9)');
    expect(computeVerdict({ rules: r, candidate: cases('c', 40) }).verdict).toBe('INCONCLUSIVE');
  });
});

describe('shadow', () => {
  const r = parseRules('transition: staging->production\nsuite: s\nshadow: { min_requests: 5000, max_divergence: 0.05 }\n');
  it('passes with enough requests within the divergence; too few requests is INCONCLUSIVE; too much divergence fails', () => {
    expect(computeVerdict({ rules: r, candidate: [], shadow: { requests: 6000, maxDivergence: 0.01 } }).verdict).toBe('GO');
    const few = computeVerdict({ rules: r, candidate: [], shadow: { requests: 4200, maxDivergence: 0.01 } });
    expect(few.verdict).toBe('INCONCLUSIVE');
    expect(rule(few, 'shadow.min_requests').note).toBe('not enough data: 4200 shadow requests, fewer than 5000');
    const div = computeVerdict({ rules: r, candidate: [], shadow: { requests: 100, maxDivergence: 0.2 } });
    expect(div.verdict).toBe('NO-GO');
    expect(rule(div, 'shadow.max_divergence').pass).toBe(false);
    expect(computeVerdict({ rules: r, candidate: [] }).verdict).toBe('INCONCLUSIVE');
  });
});

describe('precedence and summary', () => {
  const r = rules('aggregate: { min_pass_rate: 0.5 }\nslices:\n  safety: { max_fail_rate: 0.0 }\n  nominal: { min_pass_rate: 0.9 }\n');

  it('GO when every rule passes, in file order', () => {
    const v = computeVerdict({ rules: r, candidate: [...cases('s', 40, { slices: ['safety'] }), ...cases('n', 40, { slices: ['nominal'] })] });
    expect(v.verdict).toBe('GO');
    expect(v.rules.map((x) => x.id)).toEqual(['aggregate.min_pass_rate', 'slices.safety.max_fail_rate', 'slices.nominal.min_pass_rate']);
    expect(v.summary).toBe('GO: all 3 rules passed');
  });

  it('a failure wins over missing data', () => {
    const v = computeVerdict({ rules: r, candidate: [...cases('s', 40, { slices: ['safety'], fail: [0] }), ...cases('n', 5, { slices: ['nominal'] })] });
    expect(v.verdict).toBe('NO-GO');
    expect(rule(v, 'slices.nominal.min_pass_rate').pass).toBeNull();
    expect(v.summary).toBe(
      'NO-GO: slices.safety.max_fail_rate failed: 1 of 40 cases failed (0.025 > 0.000) (and 1 rule without enough data: slices.nominal.min_pass_rate)',
    );
  });

  it('missing data without failure is INCONCLUSIVE', () => {
    const v = computeVerdict({ rules: r, candidate: [...cases('s', 40, { slices: ['safety'] }), ...cases('n', 5, { slices: ['nominal'] })] });
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.summary).toMatch(/^INCONCLUSIVE: slices\.nominal\.min_pass_rate: not enough data: 5 cases in slice nominal, fewer than min_cases 30 \(5 of 5 cases passed/);
  });

  it('lists every failure', () => {
    const v = computeVerdict({ rules: r, candidate: [...cases('s', 40, { slices: ['safety'], fail: [0] }), ...cases('n', 40, { slices: ['nominal'], fail: range(0, 10) })] });
    expect(v.rules.filter((x) => x.pass === false).map((x) => x.id)).toEqual(['slices.safety.max_fail_rate', 'slices.nominal.min_pass_rate']);
    expect(v.summary).toMatch(/^NO-GO: slices\.safety\.max_fail_rate failed: .*; slices\.nominal\.min_pass_rate failed: /);
  });

  it('no rules is never GO', () => {
    expect(decide([]).verdict).toBe('INCONCLUSIVE');
  });

  it('rejects duplicate case ids', () => {
    const dup = [...cases('c', 3), ...cases('c', 1)];
    expect(() => computeVerdict({ rules: r, candidate: dup })).toThrow(SwitchyardError);
  });

  it('the spec example gives GO on a clean, improved, fast candidate', () => {
    const spec = parseRules(`transition: candidate->staging
suite: cartpole-frozen-v1
baseline: production
confidence: 0.95
min_cases: 30
aggregate: { min_pass_rate: 0.80, non_inferior: { margin: 0.02 } }
slices:
  safety:      { max_fail_rate: 0.0 }
  large_angle: { no_regression: true }
  nominal:     { min_pass_rate: 0.95 }
  noisy:       { min_improvement: 0.05 }
  tools:       { pass_rate_range: [0.90, 1.0] }
efficiency:
  p99_latency_ms: { max: 5.0 }
  latency_vs_baseline: { max_ratio: 1.10 }
determinism: { reruns: 1 }
`);
    const mk = (noisyFails: number[], latency: number): CaseResult[] => [
      ...cases('safety', 60, { slices: ['safety'], latency }),
      ...cases('large', 60, { slices: ['large_angle'], latency }),
      ...cases('nominal', 100, { slices: ['nominal'], latency }),
      ...cases('noisy', 100, { slices: ['noisy'], fail: noisyFails, latency }),
      ...cases('tools', 60, { slices: ['tools'], fail: [0, 1], latency }),
    ];
    const v = computeVerdict({ rules: spec, baseline: mk(range(0, 40), 4), candidate: mk(range(0, 10), 4.2), determinismMismatches: [] });
    expect(v.rules.filter((x) => x.pass !== true)).toEqual([]);
    expect(v.verdict).toBe('GO');
    expect(v.rules).toHaveLength(10);
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
