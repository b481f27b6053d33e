import { describe, expect, it } from 'vitest';
import { endReasonText, formatGraderValue, formatMilliseconds, formatRatio, graderUnit } from './units.js';

describe('formatMilliseconds', () => {
  it('keeps a sub-millisecond value non-zero and rounds larger ones as the rules do', () => {
    expect(formatMilliseconds(0.0016)).toBe('0.0016 ms');
    expect(formatMilliseconds(0.42)).toBe('0.42 ms');
    expect(formatMilliseconds(5)).toBe('5.00 ms');
    expect(formatMilliseconds(9)).toBe('9.00 ms');
    expect(formatMilliseconds(250.4)).toBe('250 ms');
    expect(formatMilliseconds(0)).toBe('0 ms');
  });

  it('writes ratios with two decimals', () => {
    expect(formatRatio(1.25)).toBe('1.25×');
    expect(formatRatio(1.1)).toBe('1.10×');
  });
});

describe('grader units', () => {
  it('gives every engine grader its unit', () => {
    expect(formatGraderValue('success', 137)).toBe('137 steps');
    expect(formatGraderValue('return', 1)).toBe('1 step');
    expect(formatGraderValue('safety_bounds', 1.0421)).toBe('104.2%');
    expect(formatGraderValue('action_bounds', 0.5)).toBe('50%');
    expect(formatGraderValue('action_bounds', Infinity)).toBe('non-finite output');
    expect(formatGraderValue('smoothness', 0.31812)).toBe('0.318 N/step');
    expect(formatGraderValue('latency', 0.0016)).toBe('0.0016 ms');
    expect(formatGraderValue('latency', null)).toBe('');
  });

  it('leaves a grader it does not define as a plain number', () => {
    expect(graderUnit('imported_score')).toBeNull();
    expect(formatGraderValue('imported_score', 0.12345)).toBe('0.123');
  });
});

describe('end reasons', () => {
  it('explains each reason the engine reports in plain words', () => {
    expect(endReasonText('track')).toMatch(/cart left the track/);
    expect(endReasonText('pole_angle')).toMatch(/pole fell/);
    expect(endReasonText('non_finite_action')).toMatch(/NaN or Infinity/);
    expect(endReasonText('gripper_slip')).toMatch(/“gripper_slip”/);
  });
});
