/**
 * How the Compare page writes rates, differences and rule values. Rates are shares 0..1 shown as
 * percentages; differences of rates are percentage points (`pp`).
 */

import { formatMilliseconds, formatRatio } from '@contract';

const MINUS = '\u2212';

function signed(text: string, value: number): string {
  if (value > 0) return `+${text}`;
  if (value < 0) return `${MINUS}${text.replace(/^-/, '')}`;
  return text;
}

/** `96.7%`, `100%`, `0%`; a dash for no value. */
export function formatRatePct(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return '—';
  const pct = rate * 100;
  if (pct === 0 || pct === 100) return `${pct}%`;
  return `${pct.toFixed(1)}%`;
}

/** `[93.1, 99.2]` (percent, the unit is in the column's heading). */
export function formatRateInterval(interval: readonly [number, number] | null): string {
  if (interval === null) return '';
  return `[${(interval[0] * 100).toFixed(1)}, ${(interval[1] * 100).toFixed(1)}]`;
}

/** A difference of rates in percentage points: `+3.3 pp`, `−12.0 pp`, `0.0 pp`. */
export function formatPoints(diff: number | null): string {
  if (diff === null || !Number.isFinite(diff)) return '—';
  const pts = diff * 100;
  const rounded = Math.abs(pts) < 0.05 ? 0 : pts;
  return `${signed(Math.abs(rounded).toFixed(1), rounded)} pp`;
}

/** `[−4.1, +2.0]` in percentage points. */
export function formatPointsInterval(interval: readonly [number, number] | null): string {
  if (interval === null) return '';
  const one = (v: number): string => {
    const pts = Math.abs(v * 100) < 0.05 ? 0 : v * 100;
    return signed(Math.abs(pts).toFixed(1), pts);
  };
  return `[${one(interval[0])}, ${one(interval[1])}]`;
}

export type DeltaTone = 'better' | 'worse' | 'even';

/** Better or worse only when the whole interval is on one side of zero. */
export function deltaTone(delta: { estimate: number; interval: readonly [number, number] } | null): DeltaTone {
  if (delta === null) return 'even';
  if (delta.interval[0] > 0) return 'better';
  if (delta.interval[1] < 0) return 'worse';
  return 'even';
}

/**
 * A symmetric scale for the delta bars of one table: the largest |bound| rounded up to a step of
 * 5 points, at least 5 points, at most 100.
 */
export function deltaScale(intervals: ReadonlyArray<readonly [number, number]>): number {
  let max = 0;
  for (const [lo, hi] of intervals) max = Math.max(max, Math.abs(lo), Math.abs(hi));
  const step = 0.05;
  return Math.min(1, Math.max(step, Math.ceil((max - 1e-9) / step) * step));
}

/** Where `value` sits on a bar from `-scale` to `+scale`, as a percentage of its width (clamped). */
export function barPosition(value: number, scale: number): number {
  const p = ((value + scale) / (2 * scale)) * 100;
  return Math.max(0, Math.min(100, p));
}

type RuleKind = 'rate' | 'diff' | 'count' | 'ms' | 'ratio' | 'number';

interface RuleFormat {
  kind: RuleKind;
  /** How the observed value must compare with the threshold. */
  op: '≥' | '≤' | 'in' | '=';
  /** For counts: what is counted. */
  noun?: string;
}

const RULE_FORMATS: Record<string, RuleFormat> = {
  min_pass_rate: { kind: 'rate', op: '≥' },
  max_fail_rate: { kind: 'rate', op: '≤' },
  pass_rate_range: { kind: 'rate', op: 'in' },
  non_inferior: { kind: 'diff', op: '≥' },
  min_improvement: { kind: 'diff', op: '≥' },
  no_regression: { kind: 'count', op: '=', noun: 'regressions' },
  determinism: { kind: 'count', op: '=', noun: 'differing' },
  p99_latency_ms: { kind: 'ms', op: '≤' },
  latency_vs_baseline: { kind: 'ratio', op: '≤' },
  min_requests: { kind: 'count', op: '≥', noun: 'requests' },
  max_divergence: { kind: 'number', op: '≤' },
};

/** The kind of a rule from its id: `slices.safety.max_fail_rate` is a `max_fail_rate` rule. */
export function ruleFormat(id: string): RuleFormat {
  const last = id.split('.').pop() ?? id;
  return RULE_FORMATS[last] ?? { kind: 'number', op: '≤' };
}

function formatByKind(kind: RuleKind, value: number): string {
  switch (kind) {
    case 'rate':
      return formatRatePct(value);
    case 'diff':
      return formatPoints(value);
    case 'count':
      return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2);
    case 'ms':
      // The engine writes the evidence note with the same function: Observed and evidence agree.
      return formatMilliseconds(value);
    case 'ratio':
      return formatRatio(value);
    case 'number':
      return Math.abs(value) >= 100 ? value.toFixed(0) : String(Number(value.toPrecision(3)));
  }
}

/** A rule's observed value in its unit; a dash without data. */
export function formatRuleValue(id: string, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  return formatByKind(ruleFormat(id).kind, value);
}

/** A rule's interval in its unit (rates in percent, differences in points); empty without one. */
export function formatRuleInterval(id: string, interval: readonly [number, number] | null): string {
  if (interval === null) return '';
  const { kind } = ruleFormat(id);
  if (kind === 'rate') return formatRateInterval(interval);
  if (kind === 'diff') return formatPointsInterval(interval);
  return `[${formatByKind(kind, interval[0])}, ${formatByKind(kind, interval[1])}]`;
}

/** `≥ 95.0%`, `≤ 5.00 ms`, `in 90.0%–100%`, `0 regressions`. */
export function formatThreshold(id: string, threshold: number | readonly [number, number]): string {
  const f = ruleFormat(id);
  if (Array.isArray(threshold)) {
    const [lo, hi] = threshold as readonly [number, number];
    return `${formatByKind(f.kind, lo)}–${formatByKind(f.kind, hi)}`;
  }
  const value = threshold as number;
  const text = f.kind === 'rate' && value !== 0 && value !== 1 ? `${(value * 100).toFixed(1)}%` : formatByKind(f.kind, value);
  if (f.op === '=') return f.noun ? `${text} ${f.noun}` : text;
  return `${f.op} ${text}`;
}
