// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { formatMilliseconds } from '@contract';
import {
  barPosition,
  deltaScale,
  deltaTone,
  formatPoints,
  formatPointsInterval,
  formatRateInterval,
  formatRatePct,
  formatRuleInterval,
  formatRuleValue,
  formatThreshold,
} from './compare-format';

describe('compare formatting', () => {
  it("writes a rule's observed milliseconds with the formatter the engine's evidence uses (0.0016 ms both)", () => {
    expect(formatRuleValue('efficiency.p99_latency_ms', 0.0016)).toBe('0.0016 ms');
    expect(formatRuleValue('efficiency.p99_latency_ms', 0.0016)).toBe(formatMilliseconds(0.0016));
    expect(formatRuleValue('efficiency.p99_latency_ms', 9)).toBe(formatMilliseconds(9));
  });


  it('writes rates as percentages and their intervals in percent', () => {
    expect(formatRatePct(0.9667)).toBe('96.7%');
    expect(formatRatePct(1)).toBe('100%');
    expect(formatRatePct(0)).toBe('0%');
    expect(formatRatePct(null)).toBe('—');
    expect(formatRateInterval([0.9312, 0.9921])).toBe('[93.1, 99.2]');
  });

  it('writes differences in signed percentage points', () => {
    expect(formatPoints(0.0333)).toBe('+3.3 pp');
    expect(formatPoints(-0.12)).toBe('−12.0 pp');
    expect(formatPoints(0.0001)).toBe('0.0 pp');
    expect(formatPointsInterval([-0.041, 0.02])).toBe('[−4.1, +2.0]');
  });

  it('colours a difference only when its interval is on one side of zero', () => {
    expect(deltaTone({ estimate: 0.05, interval: [0.01, 0.09] })).toBe('better');
    expect(deltaTone({ estimate: -0.3, interval: [-0.4, -0.2] })).toBe('worse');
    expect(deltaTone({ estimate: -0.01, interval: [-0.03, 0.01] })).toBe('even');
    expect(deltaTone(null)).toBe('even');
  });

  it('scales the delta bars to the widest interval, in steps of 5 points', () => {
    expect(deltaScale([])).toBe(0.05);
    expect(deltaScale([[-0.012, 0.012]])).toBe(0.05);
    expect(deltaScale([[-0.71, -0.55], [-0.1, 0.02]])).toBeCloseTo(0.75);
    expect(barPosition(0, 0.1)).toBe(50);
    expect(barPosition(-0.2, 0.1)).toBe(0);
    expect(barPosition(0.05, 0.1)).toBeCloseTo(75);
  });

  it('writes each kind of rule in its unit', () => {
    expect(formatRuleValue('slices.safety.max_fail_rate', 0.32)).toBe('32.0%');
    expect(formatRuleValue('aggregate.non_inferior', -0.25)).toBe('−25.0 pp');
    expect(formatRuleValue('slices.large_angle.no_regression', 2)).toBe('2');
    expect(formatRuleValue('efficiency.p99_latency_ms', 0.00123)).toBe('0.0012 ms');
    expect(formatRuleValue('efficiency.latency_vs_baseline', 1.084)).toBe('1.08×');
    expect(formatRuleValue('determinism', null)).toBe('—');
    expect(formatRuleInterval('aggregate.min_pass_rate', [0.9, 0.95])).toBe('[90.0, 95.0]');
    expect(formatRuleInterval('aggregate.non_inferior', [-0.05, 0.01])).toBe('[−5.0, +1.0]');
    expect(formatRuleInterval('determinism', null)).toBe('');
  });

  it('writes thresholds with the direction the rule needs', () => {
    expect(formatThreshold('slices.nominal.min_pass_rate', 0.95)).toBe('≥ 95.0%');
    expect(formatThreshold('slices.safety.max_fail_rate', 0)).toBe('≤ 0%');
    expect(formatThreshold('slices.safety.max_fail_rate', 0.05)).toBe('≤ 5.0%');
    expect(formatThreshold('aggregate.non_inferior', -0.05)).toBe('≥ −5.0 pp');
    expect(formatThreshold('slices.tools.pass_rate_range', [0.9, 1])).toBe('90.0%–100%');
    expect(formatThreshold('slices.large_angle.no_regression', 0)).toBe('0 regressions');
    expect(formatThreshold('determinism', 0)).toBe('0 differing');
    expect(formatThreshold('efficiency.p99_latency_ms', 5)).toBe('≤ 5.00 ms');
  });
});
